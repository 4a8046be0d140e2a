"""The retriever interface: text in, a score for every gallery vector out.

Both engines implement it. Scores are "higher is better"; ``posterior`` turns them into the
paper's p(I_i | D_t) (Eq. 1) with the retriever's own temperature.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .embedder import EmbedderIdentity


class Retriever(Protocol):
    identity: EmbedderIdentity
    #: scores are divided by this before the softmax of Eq. 1 (0.02 for CLIP cosines, 1.0 for
    #: log-likelihoods).
    temperature: float

    def score(self, query: str, vectors: np.ndarray) -> np.ndarray:
        """Score every row of ``vectors`` (N, D) for the text ``query``. Returns float32 (N,)."""
        ...

    def explain(self, query: str, vector: np.ndarray) -> str:
        """One short line saying why this image matches, e.g. "upper: red 0.62, lower: blue 0.48"."""
        ...


def posterior(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of ``scores / temperature`` (paper Eq. 1), float64, sums to 1."""
    z = np.asarray(scores, dtype=np.float64) / float(temperature)
    z -= z.max()
    p = np.exp(z)
    return p / p.sum()


def relative_match(scores: np.ndarray, best: float, temperature: float) -> np.ndarray:
    """Scores as a match percentage relative to the best image of the ranking: 100 for the best,
    50 for an image half as likely as the best to be the person described (same temperature as
    ``posterior``). It compares images of one search; it is not a probability of identity."""
    z = (np.asarray(scores, dtype=np.float64) - float(best)) / float(temperature)
    return 100.0 * np.exp(np.minimum(z, 0.0))
