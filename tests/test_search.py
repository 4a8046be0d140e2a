"""The one search verb (engine.search): top K without sorting the gallery, ranks beyond K on demand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from interreid.engine.bench.synthetic_vectors import clustered_vectors
from interreid.engine.embedder import EmbedderIdentity
from interreid.engine.retriever import contextualiser, text_encoder, top_refiner
from interreid.engine.search import Searcher, rank_by_counting


class VectorGallery:
    """Stands in for a Gallery that holds only vectors (what the search verb reads)."""

    def __init__(self, vectors: np.ndarray, backend: str = "exact"):
        self._v = vectors
        self.folder = Path("/nonexistent")
        self.embedder_identity = EmbedderIdentity("test", "1", vectors.shape[1])
        self.backend = backend

    def vectors(self):
        return self._v

    def meta(self, key):
        return self.backend if key == "index_backend" else None


class TiedRetriever:
    """Log-likelihood-like scores with many ties (rounded), no text embedding."""

    identity = EmbedderIdentity("test", "1", 16)
    temperature = 1.0

    def score(self, query, vectors):
        return np.round(vectors[:, 0] * 4).astype(np.float32) + (0.5 if "boost" in query else 0.0)

    def explain(self, query, vector):
        return ""


class CosineRetriever:
    identity = EmbedderIdentity("test", "1", 16)
    temperature = 0.02

    def __init__(self):
        self.q = clustered_vectors(1, 16, seed=5)[0]
        self.encoded = 0

    def encode_text(self, texts):
        self.encoded += 1
        return np.repeat(self.q[None], len(texts), axis=0)

    def score(self, query, vectors):
        return (vectors @ self.q).astype(np.float32)

    def explain(self, query, vector):
        return ""


def full_sort(scores):
    """What the interview did before: a stable sort of every row."""
    return np.lexsort((np.arange(len(scores)), -scores))


def test_capabilities_are_declared_not_probed():
    from interreid.engine.lite.retriever import LiteRetriever

    assert text_encoder(CosineRetriever()) is not None and text_encoder(TiedRetriever()) is None
    assert contextualiser(LiteRetriever()) is not None and contextualiser(CosineRetriever()) is None
    assert text_encoder(LiteRetriever()) is None
    assert top_refiner(LiteRetriever()) is not None  # its fast block scores are made exact on the top
    assert top_refiner(CosineRetriever()) is None and top_refiner(TiedRetriever()) is None


def test_top_k_and_ranks_beyond_it_match_a_full_sort_with_ties():
    vectors = clustered_vectors(3000, 16, seed=1)
    ret = TiedRetriever()
    scores = ret.score("q", vectors)
    assert len(np.unique(scores)) < 20  # mostly ties: the order among them is the gallery order
    order = full_sort(scores)
    ranking = Searcher(VectorGallery(vectors), ret).search("q", 50)
    assert len(ranking.rows) == 50 and ranking.size == 3000
    assert np.array_equal(ranking.rows, order[:50]) and np.array_equal(ranking.scores, scores[order[:50]])
    position = np.empty(3000, dtype=np.int64)
    position[order] = np.arange(1, 3001)
    some = np.r_[order[:5], order[49:52], order[-5:], np.arange(0, 3000, 97)]
    assert np.array_equal(ranking.ranks_of(some), position[some])
    assert all(rank_by_counting(scores, int(r)) == position[r] for r in some)
    assert ranking.score_of(int(order[-1])) == pytest.approx(float(scores[order[-1]]))


def test_cosine_retrievers_are_answered_by_the_index():
    vectors = clustered_vectors(2000, 16, seed=2)
    ret = CosineRetriever()
    searcher = Searcher(VectorGallery(vectors), ret)
    ranking = searcher.search("a man in red", 30)
    order = full_sort(ret.score("", vectors))
    assert np.array_equal(ranking.rows, order[:30])
    assert ranking.query_vector is not None and ret.encoded == 1  # encoded once, reused by the selector
    assert searcher._index is not None  # the gallery index answered (opened once, then kept)
    far = int(order[1500])
    assert ranking.rank_of(far) == 1501
    again = searcher.stored("a man in red", ranking.rows, ranking.scores)  # as read back from a case file
    assert again.rank_of(far) == 1501 and again.rank_of(int(order[3])) == 4


def test_interview_keeps_its_depth_and_ranks_any_row(tmp_path, crops_dir):
    """A lite interview keeps the top ``depth`` rows (shown, stored in the case) and ranks the rest on
    demand exactly as the full sort did; the ranks survive a resume from the case file."""
    from interreid.engine.casefile.case import InterviewRecords
    from interreid.engine.interview.loop import Interview
    from interreid.engine.session import import_into, new_case, open_case

    import_into(tmp_path / "g", [crops_dir])
    with new_case(tmp_path / "a.case", "Search", None, tmp_path / "g") as s:
        iv = Interview(s.gallery, s.engine, case=s.case, depth=1)  # depth is at least the round-1 pool
        assert iv.depth == 200
        state = iv.start("a man in a red top and blue trousers")
        scores = s.engine.retriever.score(state.query, s.gallery.vectors())
        order = full_sort(scores)
        assert np.array_equal(state.rows, order)  # 12 images: the whole gallery fits in the depth
        iv.depth = 5  # a smaller depth than the gallery: only the top is kept, the rest is counted
        state = iv.answer("Blue trousers.")
        scores = s.engine.retriever.score(state.query, s.gallery.vectors())
        order = full_sort(scores)
        assert np.array_equal(state.rows, order[:5])
        assert [state.rank_of(int(r)) for r in order] == list(range(1, 13))
        stored_rows, _scores, _q = InterviewRecords(s.case).ranking(1)
        assert len(stored_rows) == 5
    with open_case(tmp_path / "a.case") as s:
        resumed = Interview(s.gallery, s.engine, case=s.case).resume()
        assert np.array_equal(resumed.rows, order[:5])
        assert [resumed.rank_of(int(r)) for r in order] == list(range(1, 13))


def test_server_filtered_search_reads_row_metadata_only_for_ranks_beyond_the_top():
    """Qdrant filters on its side: the camera/time of every row is read only if a rank beyond the top is asked."""
    from interreid.engine.gallery.filters import RowFilter
    from interreid.engine.gallery.index import ExactIndex

    vectors = clustered_vectors(500, 16, seed=3)
    cameras = ["cam01" if i % 2 else "cam02" for i in range(len(vectors))]

    class FilteringIndex(ExactIndex):
        supports_filters = True

        def search(self, query, k, where=None):
            scores = np.where(np.array(cameras) == "cam02", self._data @ query, -np.inf)
            from interreid.engine.gallery.index import top_k
            return top_k(scores.astype(np.float32), min(k, cameras.count("cam02")))

    class MetadataGallery(VectorGallery):
        reads = 0

        def row_metadata(self):
            MetadataGallery.reads += 1
            return cameras, [None] * len(cameras)

    searcher = Searcher(MetadataGallery(vectors), CosineRetriever())
    searcher._index = FilteringIndex(16)
    searcher._index.add(vectors, 0)
    ranking = searcher.search("a man in red", 10, where=RowFilter(frozenset({"cam02"})))
    assert MetadataGallery.reads == 0 and all(cameras[r] == "cam02" for r in ranking.rows)
    outside = next(i for i in range(len(vectors)) if cameras[i] == "cam01")
    inside_far = int(np.argsort(-np.where(np.array(cameras) == "cam02", vectors @ CosineRetriever().q, -np.inf),
                                kind="stable")[200])
    assert ranking.rank_of(inside_far) == 201
    assert ranking.rank_of(outside) > 250  # rows outside the filter rank after every row inside it
    assert MetadataGallery.reads >= 1
