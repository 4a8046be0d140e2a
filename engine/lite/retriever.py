"""The lite retriever: a query's parsed constraints scored as a calibrated log-likelihood under each
image's region colour distributions and cue probabilities (read back from the stored vectors only).

For a constraint on attribute a with firmness w (1 firm, 0.5 hedged) and reliability ρ_a
(``calibration.RELIABILITY``), q_i is how far image i satisfies it: for a colour, its region's
colour distribution seen through the colour's neighbourhood and shade family
(``calibration.satisfied``); for a cue, the cue's probability. Then

score_i = Σ_pos s_a w ρ_a log(F + (1 - F) q_i) + Σ_neg ½ w ρ_a log(F + (1 - F)(1 - q_i))

with the floor F = ``calibration.FLOOR``: one misread region never vetoes an image, and a "not red"
excludes softly. s_a (``region_shares``) makes a region one observation however many colours are said
of it: max(w) / Σ w over the region's positive colours. When a detail colour is stated for a region
("red on the shoulders"), its other positive colours read q_i / (1 - d_i), d_i the share of the region
the detail explains (its own q_i, at most ``DETAIL_MAX``): the main colour is judged on the rest.
``temperature`` (``calibration.TEMPERATURE``)
tempers the posterior the questioners and the match percentage read from these scores.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .calibration import FLOOR, TEMPERATURE, colour_weight, cue_weight, satisfied
from .embedder import LiteEmbedder
from .layout import CUES, DIM, cue_index, decode, region_index
from .parser import DETAIL_WEIGHT, Constraints, parse, repeat_key

#: a detail colour ("red on the shoulders") explains at most this share of its region's pixels: the
#: quarter of a garment the parser gives a detail (``parser.DETAIL_WEIGHT``)
DETAIL_MAX = DETAIL_WEIGHT
_CHUNK = 65536  # rows scored at once (bounds temporary memory at ~12 MB)


class LiteRetriever:
    """Scores ``lite-colour`` vectors (N, layout.DIM) for a free-text query. Higher is better."""

    identity = LiteEmbedder.identity
    temperature = TEMPERATURE

    def score(self, query: str, vectors: np.ndarray) -> np.ndarray:
        """Log-likelihood of ``query``'s constraints for every row of ``vectors``: float32 (N,).
        All zeros (all equal) when the query constrains nothing. Chunked and multi-threaded
        (``fast_score``); equal to :meth:`score_exact` up to float32 rounding."""
        from .fast_score import fast_scores

        return fast_scores(parse(query), _checked(vectors))

    def score_exact(self, query: str, vectors: np.ndarray) -> np.ndarray:
        """The reference formula (region distributions decoded first), one thread: what
        :meth:`refine_top` ranks the top by, and what the fast path is tested against."""
        vectors = _checked(vectors)
        cons = parse(query)
        out = np.zeros(len(vectors), dtype=np.float32)
        if not cons:
            return out
        for start in range(0, len(vectors), _CHUNK):
            dists, cues = decode(vectors[start:start + _CHUNK])
            out[start:start + _CHUNK] = _log_likelihood(cons, dists, cues)
        return out

    def refine_top(self, query: str, vectors: np.ndarray, scores: np.ndarray, k: int):
        """The exact top ``k`` rows (best first, ties by row) and their exact scores, from every row's
        fast ``scores``: only the rows near the K-th best are re-scored (``fast_score.refine_top``)."""
        from .fast_score import refine_top

        vectors = _checked(vectors)
        return refine_top(np.asarray(scores, dtype=np.float32),
                          lambda rows: self.score_exact(query, vectors[rows]), k)

    def contextualise(self, question: str, answer: str, cleaned: str, attribute: str | None = None) -> str:
        """A short answer made self-contained with its question's garment (see ``context``), marked as an
        answer (``parser.answer_marker``: what only an answer says counts ``calibration.answer_factor``)."""
        from .context import contextualise
        from .parser import answer_marker

        text = contextualise(question, answer, cleaned, attribute)
        return answer_marker(text) if text else text

    def reconcile(self, before: str, text: str, question: str = "", attribute: str | None = None) -> str:
        """An answer marked when it contradicts what the witness said firmly before, or says again what
        the witness said before and its question (``question``, about ``attribute``) did not ask
        (``contradictions``)."""
        from .context import asked_attribute
        from .contradictions import reconcile

        return reconcile(before, text, asked_attribute(question, attribute))

    def understand(self, text: str, before: str = "") -> tuple[list[tuple[str, str]], list[str]]:
        """What the engine took from one statement: ([(key, label)] with labels such as
        "top: black (sure)", words it could not use). ``before``: the statements before it, as they joined
        the query: an answer read on its own has everything it says marked as answered, but what the
        description or an earlier statement already said as firmly counts in full in the query, and its
        label must not say "answer weighed N%"."""
        cons = parse(text)
        if before.strip() and any(c.answered for c in [*cons.colours, *cons.cues]):
            whole = parse(f"{before} {text}")
            still = {repeat_key(c) for c in [*whole.colours, *whole.cues] if c.answered}
            cons = cons.each(lambda c: c if not c.answered or repeat_key(c) in still else replace(c, answered=False))
        return cons.items(), list(cons.unused)

    def drop_marker(self, key: str) -> str:
        """Query text that removes the constraint ``key`` (an investigator's correction)."""
        from .parser import drop_marker

        return drop_marker(key)

    def explain(self, query: str, vector: np.ndarray) -> str:
        """This image's probability of each constrained colour or cue value, e.g.
        "upper: red 0.62, lower: blue 0.48, lower length: short 0.81"."""
        cons = parse(query)
        if not cons:
            return "no colour constraints yet"
        dists, cues = decode(np.asarray(vector)[None, :])
        parts = []
        for c in cons.colours:
            p = float(satisfied(dists[:, region_index(c.region)], c.colour, c.shade)[0])
            parts.append(f"{c.region}: {c.colour} {p:.2f}" + ("" if c.positive else " (said not)"))
        for c in cons.cues:
            p = _cue_probability(cues[:, cue_index(c.cue)], c.cue, c.value)[0]
            parts.append(f"{c.cue.replace('_', ' ')}: {c.value} {p:.2f}")
        return ", ".join(parts)


def _checked(vectors) -> np.ndarray:
    vectors = np.asarray(vectors) if not isinstance(vectors, np.ndarray) else vectors
    if vectors.ndim != 2 or vectors.shape[1] != DIM:
        raise ValueError(f"lite vectors must be (N, {DIM}), got {vectors.shape}")
    return vectors


def _log_likelihood(cons: Constraints, dists: np.ndarray, cues: np.ndarray) -> np.ndarray:
    """(N,) float32 from region distributions (N, 4, 11) and cue probabilities (N, C)."""
    total = np.zeros(len(dists), dtype=np.float32)
    share = region_shares(cons)
    explained = _explained(cons, dists)
    for c in cons.colours:
        q = satisfied(dists[:, region_index(c.region)], c.colour, c.shade)
        if c.positive and not c.detail and c.region in explained:
            q = np.minimum(q / (1.0 - explained[c.region]), 1.0)
        w = colour_weight(c.region, c.colour, c.positive, c.weight, share.get(c.region, 1.0), c.answered)
        total += np.float32(w) * np.log(FLOOR + (1.0 - FLOOR) * (q if c.positive else 1.0 - q))
    for c in cons.cues:
        q = _cue_probability(cues[:, cue_index(c.cue)], c.cue, c.value)
        total += np.float32(cue_weight(c.cue, c.weight, c.answered)) * np.log(FLOOR + (1.0 - FLOOR) * q)
    return total


def _explained(cons: Constraints, dists: np.ndarray) -> dict[str, np.ndarray]:
    """Per region with a stated detail colour: the share of its pixels the detail explains (N,), at
    most ``DETAIL_MAX``. "A navy jacket with red shoulders": the red pixels are the shoulders, so the
    navy is judged on the rest of the jacket (a two-colour garment described fully would otherwise
    always match its main colour less than a plain one)."""
    explained: dict[str, np.ndarray] = {}
    for c in cons.colours:
        if c.detail and c.positive:
            d = np.minimum(satisfied(dists[:, region_index(c.region)], c.colour, c.shade), DETAIL_MAX)
            explained[c.region] = np.maximum(explained.get(c.region, 0.0), d)
    return explained


def region_shares(cons: Constraints) -> dict[str, float]:
    """Per region, the factor on each positive colour's weight so that the region counts as one
    observation: max(weights) / sum(weights). "Dark jacket" then "navy blue" about the same jacket
    say more precisely what one region looks like; they are not two independent pieces of evidence."""
    weights: dict[str, list[float]] = {}
    for c in cons.colours:
        if c.positive:
            weights.setdefault(c.region, []).append(c.weight)
    return {r: max(ws) / sum(ws) if sum(ws) > 0 else 1.0 for r, ws in weights.items()}


def _cue_probability(p_first: np.ndarray, cue: str, value: str) -> np.ndarray:
    """Probability of ``value`` given the stored probability of the cue's first value (``CUES``)."""
    return p_first if value == CUES[cue] else 1.0 - p_first
