"""Text-to-image retrieval metrics as IRRA reports them (docs/evaluation.md), in percent."""

from __future__ import annotations

import numpy as np

from ..evaluation.metrics import average_precision, inverse_negative_penalty


def retrieval_metrics(similarity: np.ndarray, query_ids: np.ndarray, gallery_ids: np.ndarray,
                      ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """R@k (first correct image within the top k), mAP (AP over all correct images) and mINP
    for a (Q, G) similarity matrix. Ties keep gallery order."""
    sim = np.asarray(similarity, dtype=np.float64)
    q_ids, g_ids = np.asarray(query_ids), np.asarray(gallery_ids)
    order = np.argsort(-sim, axis=1, kind="stable")
    matches = g_ids[order] == q_ids[:, None]  # (Q, G) in rank order
    positions = [np.flatnonzero(row) + 1 for row in matches]  # 1-based, as engine.evaluation.metrics
    found = [p for p in positions if len(p)]
    first = np.array([p[0] if len(p) else np.inf for p in positions])  # no correct image: a miss at every k
    out = {f"R@{k}": round(100.0 * float(np.mean(first <= k)), 3) for k in ks}
    out["mAP"] = round(100.0 * float(np.mean([average_precision(p) for p in found])), 3) if found else 0.0
    out["mINP"] = round(100.0 * float(np.mean([inverse_negative_penalty(p) for p in found])), 3) if found else 0.0
    return out


def chance_r1(query_ids: np.ndarray, gallery_ids: np.ndarray) -> float:
    """Expected R@1 (percent) of a random ranking: mean share of correct gallery images."""
    g = np.asarray(gallery_ids)
    return round(100.0 * float(np.mean([np.mean(g == q) for q in np.asarray(query_ids)])), 3)
