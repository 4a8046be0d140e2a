"""The lite retriever: a query's parsed constraints scored as a log-likelihood under each image's
region colour distributions and cue probabilities (read back from the stored vectors only).

score_i = Σ_pos w · log(EPS + p_i(colour | region)) + Σ_neg w · log(EPS + 1 - p_i(colour | region))
        + Σ_cues w · log(EPS + p_i(cue value))

``EPS`` keeps one wrong cue from vetoing an image outright (colour naming is soft and crops are
noisy). The scores are log-likelihoods, so ``temperature`` is 1.0.
"""

from __future__ import annotations

import numpy as np

from .colours import COLOUR_TERMS
from .embedder import LiteEmbedder
from .layout import CUES, DIM, N_TERMS, cue_index, decode, region_index
from .parser import Constraints, parse

EPS = 0.03
_CHUNK = 65536  # rows scored at once (bounds temporary memory at ~12 MB)


class LiteRetriever:
    """Scores ``lite-colour`` vectors (N, layout.DIM) for a free-text query. Higher is better."""

    identity = LiteEmbedder.identity
    temperature = 1.0

    def score(self, query: str, vectors: np.ndarray) -> np.ndarray:
        """Log-likelihood of ``query``'s constraints for every row of ``vectors``: float32 (N,).
        All zeros (all equal) when the query constrains nothing."""
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[1] != DIM:
            raise ValueError(f"lite vectors must be (N, {DIM}), got {vectors.shape}")
        cons = parse(query)
        out = np.zeros(len(vectors), dtype=np.float32)
        if not cons:
            return out
        for start in range(0, len(vectors), _CHUNK):
            dists, cues = decode(vectors[start:start + _CHUNK])
            out[start:start + _CHUNK] = _log_likelihood(cons, dists, cues)
        return out

    def contextualise(self, question: str, answer: str, cleaned: str, attribute: str | None = None) -> str:
        """A short answer made self-contained with its question's garment (see ``context``)."""
        from .context import contextualise

        return contextualise(question, answer, cleaned, attribute)

    def explain(self, query: str, vector: np.ndarray) -> str:
        """This image's probability of each constrained colour or cue value, e.g.
        "upper: red 0.62, lower: blue 0.48, lower length: short 0.81"."""
        cons = parse(query)
        if not cons:
            return "no colour constraints yet"
        dists, cues = decode(np.asarray(vector)[None, :])
        parts = []
        for c in cons.colours:
            p = float(dists[0, region_index(c.region), COLOUR_TERMS.index(c.colour)])
            parts.append(f"{c.region}: {c.colour} {p:.2f}" + ("" if c.positive else " (said not)"))
        for c in cons.cues:
            p = _cue_probability(cues[:, cue_index(c.cue)], c.cue, c.value)[0]
            parts.append(f"{c.cue.replace('_', ' ')}: {c.value} {p:.2f}")
        return ", ".join(parts)


def _log_likelihood(cons: Constraints, dists: np.ndarray, cues: np.ndarray) -> np.ndarray:
    """(N,) float32 from region distributions (N, 4, 11) and cue probabilities (N, C)."""
    flat = dists.reshape(len(dists), -1)
    total = np.zeros(len(dists), dtype=np.float32)
    for c in cons.colours:
        p = flat[:, region_index(c.region) * N_TERMS + COLOUR_TERMS.index(c.colour)]
        total += np.float32(c.weight) * np.log(EPS + (p if c.positive else 1.0 - p))
    for c in cons.cues:
        total += np.float32(c.weight) * np.log(EPS + _cue_probability(cues[:, cue_index(c.cue)], c.cue, c.value))
    return total


def _cue_probability(p_first: np.ndarray, cue: str, value: str) -> np.ndarray:
    """Probability of ``value`` given the stored probability of the cue's first value (``CUES``)."""
    return p_first if value == CUES[cue] else 1.0 - p_first
