"""Candidate selectors: rank 1 plus (c - 1) rows chosen from ranks 2..k.

``top`` takes ranks 1..c; ``uniform`` spreads the picks evenly over ranks 2..k; ``kmeans``
clusters ranks 2..k into (c - 1) groups and shows the best-ranked member of each (the PlugIR
idea: one representative per cluster). ``learned`` (the paper's selector) lives in the full engine.
"""

from __future__ import annotations

import numpy as np

from .protocols import rows_in_rank_order


class TopSelector:
    name = "top"

    def select(self, topk, vectors, c=4, query_vector=None) -> list[int]:
        return [int(r) for r in topk[:c]]


class UniformSelector:
    name = "uniform"

    def select(self, topk, vectors, c=4, query_vector=None) -> list[int]:
        if len(topk) <= c:
            return [int(r) for r in topk]
        positions = np.linspace(1, len(topk) - 1, c - 1).round().astype(int)
        picks = [int(topk[0])] + [int(topk[p]) for p in dict.fromkeys(positions.tolist())]
        return rows_in_rank_order(picks, topk)


class KMeansSelector:
    name = "kmeans"

    def __init__(self, iterations: int = 20, seed: int = 0):
        self.iterations = iterations
        self.seed = seed

    def select(self, topk, vectors, c=4, query_vector=None) -> list[int]:
        if len(topk) <= c:
            return [int(r) for r in topk]
        pool = np.asarray(topk[1:])
        x = vectors[pool].astype(np.float64)
        labels = kmeans(x, c - 1, self.iterations, self.seed)
        picks = [int(topk[0])]
        for cluster in range(c - 1):
            members = np.flatnonzero(labels == cluster)
            if len(members):
                picks.append(int(pool[members.min()]))  # best-ranked member
        for r in pool:  # an empty cluster: fill in rank order
            if len(picks) >= c:
                break
            if int(r) not in picks:
                picks.append(int(r))
        return rows_in_rank_order(picks, topk)


def kmeans(x: np.ndarray, n_clusters: int, iterations: int = 20, seed: int = 0) -> np.ndarray:
    """Plain Lloyd's k-means with k-means++ seeding; returns a label per row. Deterministic.

    Squared distances are ``|x|^2 + |c|^2 - 2 x.c`` (one small product per step, by einsum: BLAS's
    threads only wait on a product this size), not an (n, clusters, d) array of differences: a
    round's 200 rows of 512 values took milliseconds that way."""
    rng = np.random.default_rng(seed)
    n = len(x)
    norms = np.einsum("ij,ij->i", x, x)

    def distances(centres: np.ndarray) -> np.ndarray:
        cross = np.einsum("ij,kj->ik", x, centres)
        return np.maximum(norms[:, None] + np.einsum("ij,ij->i", centres, centres)[None] - 2.0 * cross, 0.0)

    centres = [x[rng.integers(n)]]
    for _ in range(1, n_clusters):
        d2 = distances(np.asarray(centres)).min(axis=1)
        total = d2.sum()
        idx = int(rng.choice(n, p=d2 / total)) if total > 0 else int(rng.integers(n))
        centres.append(x[idx])
    c = np.asarray(centres)
    labels = np.zeros(n, dtype=int)
    for _ in range(iterations):
        labels_new = np.argmin(distances(c), axis=1)
        if _ and np.array_equal(labels_new, labels):
            break
        labels = labels_new
        for j in range(n_clusters):
            if np.any(labels == j):
                c[j] = x[labels == j].mean(0)
    return labels


SELECTORS = {"top": TopSelector, "uniform": UniformSelector, "kmeans": KMeansSelector}
