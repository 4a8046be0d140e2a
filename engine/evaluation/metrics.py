"""Interactive re-ID metrics (docs/evaluation.md; paper Table 1 and appendix C.3).

A query's result after one round is the 1-based positions of all its correct gallery images in the
ranking (gallery images of the query's person id), ascending. From those:

- R@k: share of queries whose first correct image is within the top k, x100.
- mAP: mean over queries of AP = mean_i (i / position_i) over all correct images, x100.
- mINP (IRRA): mean over queries of INP = (number of correct images) / (position of the last), x100.
- rank: position of the first correct image.
- BRI (PlugIR's Best log Rank Integral): best_0 = rank(0), best_r = min(best_{r-1}, rank(r));
  BRI = (1/T) * sum_{r=0}^{T-1} mean_q[(ln best_r + ln best_{r+1}) / 2] (trapezoid rule, natural
  log). Lower is better; 0 means every target was at rank 1 from the start.

Ties in scores are broken by gallery order (the rule of ``Interview.rank``): see
:func:`ranking_from_scores`.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

DEFAULT_KS: tuple[int, ...] = (1, 5, 10)


def ranking_from_scores(scores: np.ndarray) -> np.ndarray:
    """Gallery rows best first for scores (higher is better); equal scores keep gallery order."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.lexsort((np.arange(len(scores)), -scores)).astype(np.int64)


def correct_positions(rows: np.ndarray, relevant: Iterable[int] | np.ndarray) -> np.ndarray:
    """1-based positions, ascending, of the ``relevant`` gallery rows in ranking ``rows``.

    ``relevant`` is a collection of gallery rows or a boolean mask over the gallery. Raises
    ValueError when no relevant row is in the ranking (a query whose person is not in the gallery)."""
    rows = np.asarray(rows, dtype=np.int64)
    rel = np.asarray(list(relevant) if not isinstance(relevant, np.ndarray) else relevant)
    if rel.dtype == bool:
        mask = rel[rows]
    else:
        mask = np.isin(rows, rel.astype(np.int64))
    positions = np.flatnonzero(mask) + 1
    if len(positions) == 0:
        raise ValueError("none of the correct images is in the ranking")
    return positions.astype(np.int64)


def first_rank(positions: Sequence[int]) -> int:
    """Rank of the first correct image (1-based)."""
    return int(np.min(positions))


def average_precision(positions: Sequence[int]) -> float:
    """AP over all correct images: mean of precision at each correct image's position (0..1)."""
    p = np.sort(np.asarray(positions, dtype=np.float64))
    return float(np.mean(np.arange(1, len(p) + 1) / p))


def inverse_negative_penalty(positions: Sequence[int]) -> float:
    """INP (IRRA's mINP term): correct images / position of the hardest (last) correct one (0..1)."""
    p = np.asarray(positions, dtype=np.float64)
    return float(len(p) / p.max())


def recall_at(first_ranks: Sequence[int], k: int) -> float:
    """R@k x100: share of queries whose first correct image is within the top k."""
    r = np.asarray(first_ranks)
    return float(100.0 * np.mean(r <= k)) if len(r) else float("nan")


def round_metrics(positions: Sequence[Sequence[int]], ks: Sequence[int] = DEFAULT_KS) -> dict[str, float]:
    """R@k, mAP, mINP (all x100) and the mean / median first rank over queries for one round."""
    if len(positions) == 0:
        nan = float("nan")
        return {**{f"R@{k}": nan for k in ks}, "mAP": nan, "mINP": nan, "mean_rank": nan, "median_rank": nan}
    firsts = [first_rank(p) for p in positions]
    out = {f"R@{k}": recall_at(firsts, k) for k in ks}
    out["mAP"] = float(100.0 * np.mean([average_precision(p) for p in positions]))
    out["mINP"] = float(100.0 * np.mean([inverse_negative_penalty(p) for p in positions]))
    out["mean_rank"] = float(np.mean(firsts))
    out["median_rank"] = float(np.median(firsts))
    return out


def best_ranks(ranks: np.ndarray) -> np.ndarray:
    """Running best rank per query: (Q, T+1) ranks after rounds 0..T -> the running minimum."""
    return np.minimum.accumulate(np.asarray(ranks, dtype=np.float64), axis=1)


def bri(ranks: np.ndarray | Sequence[Sequence[int]]) -> float:
    """Best log Rank Integral over rounds 0..T from a (Q, T+1) array of first-correct ranks.

    ``ranks[q][r]`` is query q's rank after round r (round 0 = the initial description). With
    T = 0 (a single column) there is no interval to integrate: ValueError."""
    arr = np.asarray(ranks, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError("BRI needs a (queries, rounds + 1) array of ranks")
    if arr.shape[1] < 2:
        raise ValueError("BRI needs at least one round after the initial description")
    if np.any(arr < 1):
        raise ValueError("ranks are 1-based")
    logs = np.log(best_ranks(arr))
    t = arr.shape[1] - 1
    trapezoids = (logs[:, :-1] + logs[:, 1:]) / 2.0  # (Q, T)
    return float(trapezoids.mean(axis=0).sum() / t)
