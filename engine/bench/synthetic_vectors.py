"""Clustered synthetic embeddings: the shape of real re-ID features (identities form clusters)."""

from __future__ import annotations

import numpy as np

from ..embedder import l2_normalise


def clustered_vectors(n: int, dim: int = 512, clusters: int | None = None, spread: float = 0.35,
                      seed: int = 0) -> np.ndarray:
    """``n`` L2-normalised float32 vectors around ``clusters`` random centres (default n // 8)."""
    rng = np.random.default_rng(seed)
    clusters = clusters or max(1, n // 8)
    centres = l2_normalise(rng.standard_normal((clusters, dim)).astype(np.float32))
    labels = rng.integers(0, clusters, n)
    noise = rng.standard_normal((n, dim)).astype(np.float32) * (spread / np.sqrt(dim))
    return l2_normalise(centres[labels] + noise)
