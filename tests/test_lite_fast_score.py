"""The lite engine's fast scoring path (chunked, multi-threaded) against the reference formula, and
the refinement that makes its top K exact."""

from __future__ import annotations

import numpy as np
import pytest

from interreid.engine.embedder import l2_normalise
from interreid.engine.lite import fast_score
from interreid.engine.lite.layout import DIM
from interreid.engine.lite.parser import parse
from interreid.engine.lite.retriever import LiteRetriever

QUERIES = [
    "A man in a red jacket, blue jeans and white shoes, short dark hair. He carried a black backpack.",
    "Not red. Maybe a light blue top, long trousers, short sleeves.",
    "dark shoes, no white top, shorts",
    # one region described twice: its colours share one observation (retriever.region_shares)
    "A dark jacket with red on the shoulders. His jacket was navy blue, quite dark. Dark, navy I think.",
    "a person",  # constrains nothing: every score 0
]


def _gallery(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.random((n, DIM)).astype(np.float32) ** 3  # peaked colour distributions, like real crops
    v[n // 2:n // 2 + 50] = v[:50]  # exact duplicates: ties that must keep gallery order
    return l2_normalise(v)


@pytest.mark.parametrize("query", QUERIES)
def test_fast_scores_equal_the_reference_formula(query):
    v = _gallery(40_000)
    retriever = LiteRetriever()
    exact = retriever.score_exact(query, v)
    for threads in (1, 3):
        fast = fast_score.fast_scores(parse(query), v, threads)
        assert fast.dtype == np.float32 and fast.shape == (len(v),)
        assert np.abs(fast - exact).max() < 1e-5
    assert np.array_equal(retriever.score(query, v), fast_score.fast_scores(parse(query), v, 1))


@pytest.mark.parametrize("query", QUERIES[:3])
def test_search_top_200_equals_the_exact_full_sort(query, monkeypatch):
    from interreid.engine.search import Searcher

    monkeypatch.setattr(fast_score, "CHUNK", 4096)  # several chunks on several threads
    v = _gallery(30_000, seed=1)
    retriever = LiteRetriever()

    class _G:  # the searcher reads only the vectors for a log-likelihood retriever
        def vectors(self):
            return v

    ranking = Searcher(_G(), retriever).search(query, 200)
    exact = retriever.score_exact(query, v)
    order = np.lexsort((np.arange(len(v)), -exact))  # a full stable sort of the reference scores
    assert np.array_equal(ranking.rows, order[:200])
    assert np.array_equal(ranking.scores, exact[order[:200]])
    far = int(order[5000])
    assert abs(ranking.rank_of(far) - 5001) <= 2  # beyond the top: counted on the fast scores


def test_refine_top_is_exact_where_fast_scores_reorder_near_ties():
    rng = np.random.default_rng(3)
    exact = np.round(rng.normal(size=20_000), 3).astype(np.float32)  # many exact ties
    exact[:400] = np.float32(2.0) + np.arange(400, dtype=np.float32) * np.float32(1e-6)  # near ties at the top
    fast = exact + rng.uniform(-2e-6, 2e-6, len(exact)).astype(np.float32)  # the fast path's rounding
    order = np.lexsort((np.arange(len(exact)), -exact))
    assert not np.array_equal(np.lexsort((np.arange(len(fast)), -fast))[:200], order[:200])  # fast alone differs
    calls = []

    def rescore(rows):
        calls.append(len(rows))
        return exact[rows]

    rows, scores = fast_score.refine_top(fast, rescore, 200)
    assert np.array_equal(rows, order[:200]) and np.array_equal(scores, exact[order[:200]])
    assert calls[0] < 1000  # only the rows near the 200th are re-scored
