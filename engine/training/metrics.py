"""Text-to-image retrieval metrics as IRRA reports them (REFERENCE.md "Evaluation"), in percent."""

from __future__ import annotations

import numpy as np


def retrieval_metrics(similarity: np.ndarray, query_ids: np.ndarray, gallery_ids: np.ndarray,
                      ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """R@k (first correct image within the top k), mAP (AP over all correct images) and mINP
    for a (Q, G) similarity matrix. Ties keep gallery order."""
    sim = np.asarray(similarity, dtype=np.float64)
    q_ids, g_ids = np.asarray(query_ids), np.asarray(gallery_ids)
    order = np.argsort(-sim, axis=1, kind="stable")
    matches = g_ids[order] == q_ids[:, None]  # (Q, G) in rank order
    has = matches.any(axis=1)
    first = np.where(has, matches.argmax(axis=1), sim.shape[1])
    out = {f"R@{k}": round(100.0 * float(np.mean(first < k)), 3) for k in ks}
    aps, inps = [], []
    for row in matches:
        hits = np.flatnonzero(row)
        if len(hits) == 0:
            continue
        precision = np.arange(1, len(hits) + 1) / (hits + 1)
        aps.append(precision.mean())
        inps.append(len(hits) / (hits[-1] + 1))
    out["mAP"] = round(100.0 * float(np.mean(aps)), 3) if aps else 0.0
    out["mINP"] = round(100.0 * float(np.mean(inps)), 3) if inps else 0.0
    return out


def chance_r1(query_ids: np.ndarray, gallery_ids: np.ndarray) -> float:
    """Expected R@1 (percent) of a random ranking: mean share of correct gallery images."""
    g = np.asarray(gallery_ids)
    return round(100.0 * float(np.mean([np.mean(g == q) for q in np.asarray(query_ids)])), 3)
