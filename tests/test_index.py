"""The index: exact vs hnswlib agree (recall bound on a clustered set), persistence, incremental."""

from __future__ import annotations

import numpy as np
import pytest

from interreid.engine.bench.synthetic_vectors import clustered_vectors
from interreid.engine.gallery.index import ExactIndex, HnswIndex, choose_backend, top_k

RECALL_BOUND = 0.95


def test_hnsw_recall_at_200_on_clustered_set():
    n, dim, k = 20_000, 128, 200
    data = clustered_vectors(n + 20, dim, seed=3)
    base, queries = data[:n], data[n:]
    exact = ExactIndex(dim)
    exact.add(base, 0)
    hnsw = HnswIndex(dim, None, capacity=n)
    hnsw.add(base, 0)
    recalls = [len(set(exact.search(q, k).rows) & set(hnsw.search(q, k).rows)) / k for q in queries]
    assert np.mean(recalls) >= RECALL_BOUND, np.mean(recalls)


def test_hnsw_persists_and_extends_incrementally(tmp_path):
    dim = 32
    data = clustered_vectors(600, dim, seed=1)
    path = tmp_path / "index.hnsw"
    idx = HnswIndex(dim, path, capacity=10)
    idx.add(data[:300], 0)
    idx.save()
    again = HnswIndex(dim, path)
    assert len(again) == 300
    again.add(data[300:], 300)  # grows past its first capacity
    res = again.search(data[450], 1)
    assert res.rows[0] == 450 and res.scores[0] == pytest.approx(1.0, abs=1e-5)


def test_exact_search_order_and_ties():
    scores = np.array([0.1, 0.9, 0.9, 0.5], dtype=np.float32)
    res = top_k(scores, 3)
    assert res.rows.tolist() == [1, 2, 3]
    idx = ExactIndex(2)
    idx.add(np.array([[1, 0], [0, 1]], dtype=np.float32), 0)
    with pytest.raises(ValueError):
        idx.add(np.array([[1, 0]], dtype=np.float32), 5)
    assert idx.search(np.array([0, 1], dtype=np.float32), 5).rows.tolist() == [1, 0]


def test_backend_setting():
    assert choose_backend("auto", 100) == "exact"
    assert choose_backend("auto", 199_999) == "exact"
    assert choose_backend("auto", 500_000) == "bits"
    assert choose_backend("hnsw", 10) == "hnsw"
