"""The one search verb: a description in, the top K gallery rows out.

``interreid search`` and every interview round (``Interview.rank``) come through here:

* a retriever whose scores are cosines of a text embedding (it declares ``encode_text``, see
  :class:`engine.retriever.TextEncoder`) is answered by the gallery index (exact numpy search,
  hnswlib on big galleries);
* any other retriever (the lite engine's log-likelihoods) scores every row, and the top K are
  found with ``argpartition``: only those K are sorted, never the whole gallery.

Either way ties keep gallery order (the lower row first), as a full stable sort would.

A :class:`Ranking` holds only the top K. The rank of any other row (a marked image far down, the
correct images of a benchmark query) is computed on demand by counting the rows that score
higher, which gives the position a full sort would have given.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .retriever import text_encoder, top_refiner

_INDEXES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # open gallery -> (rows, its index)

#: how many rows an interview round keeps (shown in the app's grid, stored in the case file)
DEFAULT_DEPTH = 1000


@dataclass
class Ranking:
    """The top of a ranking, best first; ``rank_of`` any other row on demand."""

    rows: np.ndarray  # int64 (K,), gallery rows best first
    scores: np.ndarray  # float32 (K,), aligned with ``rows``
    size: int  # how many gallery rows were ranked
    all_scores: Callable[[], np.ndarray] | None = field(default=None, repr=False)  # every row's score, lazily
    query_vector: np.ndarray | None = field(default=None, repr=False)  # the text embedding (cosine retrievers)
    _scores: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def of_scores(cls, scores: np.ndarray, k: int, keep: np.ndarray | None = None) -> "Ranking":
        """The top ``k`` of every row's scores (``k`` 0: none kept; every rank is counted on demand).
        ``keep`` (bool (N,)) limits the top to those rows: the others score -inf, ranking after every
        kept row, and at most ``keep.sum()`` rows are kept."""
        scores = np.asarray(scores, dtype=np.float32)
        if keep is not None:
            scores = np.where(keep, scores, -np.inf).astype(np.float32)
            k = min(k, int(np.count_nonzero(keep)))
        rows, top = top_rows(scores, k) if k > 0 else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        return cls(rows, top, len(scores), _scores=scores)

    def __len__(self) -> int:
        return len(self.rows)

    def every_score(self) -> np.ndarray:
        """The score of every gallery row (float32 (N,)), computed once when first needed."""
        if self._scores is None:
            if self.all_scores is None:
                raise ValueError("this ranking cannot rank rows beyond its top")
            self._scores = np.asarray(self.all_scores(), dtype=np.float32)
        return self._scores

    def rank_of(self, row: int) -> int:
        """1-based rank of a gallery row: its position in the top, else 1 + the rows that score
        higher (or equal with a lower row number) — the position a full stable sort gives."""
        hit = np.flatnonzero(self.rows == int(row))
        if len(hit):
            return int(hit[0]) + 1
        return rank_by_counting(self.every_score(), int(row))

    def score_of(self, row: int) -> float:
        """The score of a gallery row (from the top when it is there, else computed)."""
        hit = np.flatnonzero(self.rows == int(row))
        if len(hit):
            return float(self.scores[int(hit[0])])
        return float(self.every_score()[int(row)])

    def ranks_of(self, rows) -> np.ndarray:
        """1-based ranks of several gallery rows (in the order given)."""
        return np.array([self.rank_of(int(r)) for r in np.asarray(rows).reshape(-1)], dtype=np.int64)


def rank_by_counting(scores: np.ndarray, row: int) -> int:
    """The 1-based rank of ``row`` under a stable descending sort of ``scores``, in O(N)."""
    s = scores[row]
    return int(np.count_nonzero(scores > s) + np.count_nonzero(scores[:row] == s)) + 1


def query_embedding(encoder, query: str) -> np.ndarray:
    """The text embedding of ``query`` (float32 (D,)); a retriever that keeps recent ones
    (``query_vector``) encodes a query once for the search and the explanations of its round."""
    keep = getattr(encoder, "query_vector", None)
    vec = keep(query) if callable(keep) else encoder.encode_text([query])[0]
    return np.array(vec, dtype=np.float32)  # a copy: the kept one stays as it was


def top_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best rows of a score vector and their scores, best first, ties by row (argpartition)."""
    from .gallery.index import top_k

    result = top_k(np.asarray(scores, dtype=np.float32), k)
    return result.rows, result.scores


def forget_index(gallery) -> None:
    """Drop the index kept for ``gallery`` (its case was closed): its mapped codes are let go with it."""
    _INDEXES.pop(gallery, None)


def cached_index(searcher: "Searcher"):
    """The index already opened for the searcher's gallery at its size, or None."""
    cached = _INDEXES.get(searcher.gallery)
    return cached[1] if cached is not None and cached[0] == len(searcher.vectors) else None


class Searcher:
    """Searches one gallery with one retriever; opens the gallery index once, on first use."""

    def __init__(self, gallery, retriever, vectors: np.ndarray | None = None):
        self.gallery = gallery
        self.retriever = retriever
        self.vectors = gallery.vectors() if vectors is None else vectors
        self._index = None

    @property
    def index(self):
        """The gallery's index (built once per open gallery and size, shared by its searchers)."""
        if self._index is None:
            cached = _INDEXES.get(self.gallery)
            if cached is not None and cached[0] == len(self.vectors):
                self._index = cached[1]
            else:
                from .gallery.index import open_index

                self._index = open_index(self.gallery)
                _INDEXES[self.gallery] = (len(self.vectors), self._index)
        return self._index

    def scores(self, query: str) -> np.ndarray:
        """Every row's score for ``query`` (float32 (N,))."""
        return np.asarray(self.retriever.score(query, self.vectors), dtype=np.float32)

    def search(self, query: str, k: int, where=None) -> Ranking:
        """The top ``k`` rows for ``query`` (all rows when k >= N); ``where`` (a
        :class:`engine.gallery.filters.RowFilter`) keeps only rows of some cameras or a time range."""
        n = len(self.vectors)
        encoder = text_encoder(self.retriever)
        if where is not None and not where.is_empty():
            return self._filtered(query, k, where, encoder)
        if encoder is not None:  # cosine scores: the gallery index answers
            q = query_embedding(encoder, query)
            result = self.index.search(q, k)
            vectors = self.vectors
            return Ranking(result.rows, result.scores, n, lambda: (vectors @ q).astype(np.float32), q)
        scores = self.scores(query)  # log-likelihoods: score every row, sort only the top k
        refiner = top_refiner(self.retriever)
        if refiner is None:
            return Ranking.of_scores(scores, k)
        rows, top = refiner.refine_top(query, self.vectors, scores, k)  # a fast score path, exact on its top k
        return Ranking(rows, top, n, _scores=scores)

    def _filtered(self, query: str, k: int, where, encoder) -> Ranking:
        """A filtered search: the index filters where it can (Qdrant: on the server), else a row mask."""
        n = len(self.vectors)
        q = query_embedding(encoder, query) if encoder is not None else None
        if q is not None and getattr(self.index, "supports_filters", False):
            result = self.index.search(q, k, where=where)
            vectors, gallery = self.vectors, self.gallery

            def every_score() -> np.ndarray:  # only when a rank beyond the top is asked for
                keep = where.mask(*gallery.row_metadata())  # rows outside the filter rank after every row inside
                return np.where(keep, vectors @ q, -np.inf).astype(np.float32)
            return Ranking(result.rows, result.scores, n, every_score, q)
        ranking = Ranking.of_scores(self._all_scores(query), k, where.mask(*self.gallery.row_metadata()))
        ranking.query_vector = q
        return ranking

    def stored(self, query: str, rows: np.ndarray, scores: np.ndarray) -> Ranking:
        """A ranking read back (e.g. from a case file): other rows' ranks are re-scored on demand."""
        return Ranking(np.asarray(rows, dtype=np.int64), np.asarray(scores, dtype=np.float32), len(self.vectors),
                       lambda: self._all_scores(query))

    def every_score(self, query: str) -> np.ndarray:
        """Every row's score for ``query`` (float32 (N,)): cosines for text-embedding retrievers."""
        return self._all_scores(query)

    def _all_scores(self, query: str) -> np.ndarray:
        encoder = text_encoder(self.retriever)
        if encoder is not None:
            q = query_embedding(encoder, query)
            return (self.vectors @ q).astype(np.float32)
        return self.scores(query)


def search(gallery, retriever, query: str, k: int) -> Ranking:
    """The top ``k`` gallery rows for ``query`` (see the module docstring)."""
    return Searcher(gallery, retriever).search(query, k)
