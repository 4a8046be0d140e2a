"""Compressed index backends: usearch (HNSW over int8 or fp16 codes) and FAISS IVF-PQ.

Both keep a compact copy of the vectors in their own file beside the gallery (``index.usearch``,
``index.ivfpq``), extend it when rows are imported, and open the saved file memory-mapped (usearch's
``view``, FAISS's ``IO_FLAG_MMAP``), so a search does not load the index into memory. Neither returns
its own approximate distances: each asks for a shortlist (``RERANK`` × k rows) and re-scores it
exactly from the gallery's vector file, so the scores a search returns are the same cosines exact
search gives for those rows; only which rows make the shortlist is approximate (recall@k, measured
in ``interreid bench speed``).

usearch and faiss are compiled extensions imported when an index is built or opened, never at
start-up.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .index import SearchResult, top_k

RERANK = 4  # shortlist = RERANK * k rows (at least MIN_SHORTLIST), re-scored exactly from the vector file
MIN_SHORTLIST = 256
USEARCH_FILE = "index.usearch"
USEARCH_DTYPE = "i8"  # int8 codes (the vectors are L2-normalised); "f16" is the other choice
USEARCH_CONNECTIVITY = 16
USEARCH_EXPANSION_ADD = 128
USEARCH_EXPANSION_SEARCH = 400
IVFPQ_FILE = "index.ivfpq"
IVFPQ_NPROBE = 64
IVFPQ_RETRAIN_GROWTH = 4  # retrain (rebuild) when the gallery has grown this many times since training


def rerank(vectors, query: np.ndarray, rows: np.ndarray, k: int, scores_of=None) -> SearchResult:
    """The k best of ``rows`` by exact cosine from ``vectors``, best first (ties: lower row first).
    ``scores_of(rows, query)`` replaces the plain gather-and-multiply (the bits index splits it over cores)."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) > 1 and not np.all(rows[1:] > rows[:-1]):  # the bits index's come sorted and distinct already
        rows = np.unique(rows)
    rows = rows[(rows >= 0) & (rows < len(vectors))]
    if len(rows) == 0:
        return SearchResult(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    scores = scores_of(rows, query) if scores_of is not None else np.asarray(vectors[rows], dtype=np.float32) @ query
    best = top_k(np.asarray(scores, dtype=np.float32), k)  # rows are sorted: position order is row order
    return SearchResult(rows[best.rows], best.scores)


class UsearchIndex:
    """usearch HNSW over int8 (or fp16) codes, cosine; saved to one file and opened as a memory-mapped view."""

    backend = "usearch"

    def __init__(self, dim: int, vectors, path: Path | None = None, dtype: str = USEARCH_DTYPE, view: bool = False):
        from .vector_format import import_usearch

        Index = import_usearch().Index  # lazy: a compiled extension (FAISS, where installed, loads first)

        self.dim, self.vectors, self.path, self.dtype = dim, vectors, path, dtype
        self._index = Index(ndim=dim, metric="cos", dtype=dtype, connectivity=USEARCH_CONNECTIVITY,
                            expansion_add=USEARCH_EXPANSION_ADD, expansion_search=USEARCH_EXPANSION_SEARCH)
        self.viewed = False
        if path is not None and path.exists():
            if view:
                self._index.view(str(path))
                self.viewed = True
            else:
                self._index.load(str(path))

    def add(self, vectors: np.ndarray, start_row: int) -> None:
        if self.viewed:
            raise ValueError("a memory-mapped usearch view is read-only; open it without view to add rows")
        if start_row != len(self):
            raise ValueError(f"rows must be added in order: expected {len(self)}, got {start_row}")
        for start in range(0, len(vectors), 65_536):  # in blocks: a quantised vector file is decoded per block
            block = np.ascontiguousarray(vectors[start:start + 65_536], dtype=np.float32)
            keys = np.arange(start_row + start, start_row + start + len(block), dtype=np.uint64)
            self._index.add(keys, block, threads=0)

    def search(self, query: np.ndarray, k: int) -> SearchResult:
        k = min(k, len(self))
        if k <= 0:
            return SearchResult(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        query = np.asarray(query, dtype=np.float32)
        wanted = min(len(self), max(RERANK * k, MIN_SHORTLIST))
        self._index.expansion_search = max(USEARCH_EXPANSION_SEARCH, wanted)
        matches = self._index.search(query, wanted)
        return rerank(self.vectors, query, np.asarray(matches.keys, dtype=np.int64), k)

    def save(self) -> None:
        if self.path is not None:
            tmp = self.path.with_suffix(".tmp")
            self._index.save(str(tmp))
            tmp.replace(self.path)

    @property
    def memory_bytes(self) -> int:
        return int(self._index.memory_usage)

    def __len__(self) -> int:
        return int(self._index.size)


def ivfpq_shape(n: int, dim: int) -> tuple[int, int, int]:
    """(lists, sub-quantisers, bits per code) for ``n`` rows of ``dim``: about sqrt(n) lists, 8
    dimensions per sub-quantiser, 8-bit codes (fewer bits and lists where there are too few rows to train)."""
    nlist = max(1, min(int(math.sqrt(max(n, 1))), n // 39))
    m = max(d for d in range(1, max(1, dim // 8) + 1) if dim % d == 0)
    nbits = max(1, min(8, int(math.log2(max(n, 2) / 4))))
    return nlist, m, nbits


class IvfPqIndex:
    """FAISS IVF-PQ, inner product on L2-normalised vectors (= cosine); the shortlist is re-scored
    exactly from the gallery's vector file."""

    backend = "faiss-ivfpq"

    def __init__(self, dim: int, vectors, path: Path | None = None, mmap: bool = False):
        import faiss  # lazy: a compiled extension

        self.dim, self.vectors, self.path = dim, vectors, path
        self._index = None
        self.trained_rows = 0
        if path is not None and path.exists():
            flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
            self._index = faiss.read_index(str(path), flags)
            meta = path.with_suffix(".json")
            self.trained_rows = json.loads(meta.read_text())["trained_rows"] if meta.exists() else len(self)

    def train(self, sample: np.ndarray, n_expected: int) -> None:
        import faiss

        nlist, m, nbits = ivfpq_shape(n_expected, self.dim)
        index = faiss.index_factory(self.dim, f"IVF{nlist},PQ{m}x{nbits}", faiss.METRIC_INNER_PRODUCT)
        index.cp.max_points_per_centroid = 64  # train the coarse quantiser on at most 64 rows a list
        index.do_polysemous_training = False  # only for Hamming pre-filtering, which is not used; minutes to train
        index.pq.cp.max_points_per_centroid = 32  # the sub-quantisers train on 8192 rows: enough, and quick
        index.pq.cp.min_points_per_centroid = 4  # (and on fewer without a warning in a small gallery)
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        self._index = index
        self.trained_rows = n_expected

    def add(self, vectors: np.ndarray, start_row: int) -> None:
        if start_row != len(self):
            raise ValueError(f"rows must be added in order: expected {len(self)}, got {start_row}")
        if len(vectors) and self._index is None:
            raise ValueError("train the IVF-PQ index before adding rows")
        for start in range(0, len(vectors), 65_536):
            self._index.add(np.ascontiguousarray(vectors[start:start + 65_536], dtype=np.float32))

    def search(self, query: np.ndarray, k: int) -> SearchResult:
        k = min(k, len(self))
        if k <= 0:
            return SearchResult(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        query = np.asarray(query, dtype=np.float32)
        self._index.nprobe = min(IVFPQ_NPROBE, self._index.nlist)
        _d, labels = self._index.search(query[None], min(len(self), max(RERANK * k, MIN_SHORTLIST)))
        return rerank(self.vectors, query, labels[0], k)

    def save(self) -> None:
        import faiss

        if self.path is not None and self._index is not None:
            tmp = self.path.with_suffix(".tmp")
            faiss.write_index(self._index, str(tmp))
            tmp.replace(self.path)
            self.path.with_suffix(".json").write_text(json.dumps({"trained_rows": self.trained_rows}))

    @property
    def memory_bytes(self) -> int:
        """Codes + ids + centroids, as held in memory when not memory-mapped."""
        if self._index is None:
            return 0
        import faiss

        ivf = faiss.extract_index_ivf(self._index)
        return int(len(self) * (ivf.code_size + 8) + ivf.nlist * self.dim * 4)

    def __len__(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)


def build(backend: str, vectors, dim: int, path: Path | None = None):
    """A new index of ``backend`` over every row of ``vectors`` (saved to ``path`` when given)."""
    n = len(vectors)
    if backend == "usearch":
        index = UsearchIndex(dim, vectors, None)
        index.path = path
    else:
        index = IvfPqIndex(dim, vectors, None)
        index.path = path
        rng = np.random.default_rng(0)
        nlist = ivfpq_shape(n, dim)[0]
        take = min(n, max(64 * nlist, 256 * 40))
        sample = vectors[np.sort(rng.choice(n, take, replace=False))] if take < n else vectors[:n]
        index.train(np.asarray(sample, dtype=np.float32), n)
    index.add(vectors, 0)
    if path is not None:
        index.save()
    return index


def open_compressed(gallery, backend: str, vectors, dim: int):
    """The gallery's usearch / IVF-PQ index brought up to date with its ``vectors``, opened memory-mapped."""
    n = len(vectors)
    path = gallery.folder / (USEARCH_FILE if backend == "usearch" else IVFPQ_FILE)
    if backend == "usearch":
        index = UsearchIndex(dim, vectors, path, view=True) if path.exists() else None
        if index is None or len(index) != n:
            if index is not None and len(index) < n:  # extend: load it writable, add the new rows, save
                index = UsearchIndex(dim, vectors, path)
                index.add(vectors[len(index):], len(index))
                index.save()
            else:
                build(backend, vectors, dim, path)
            index = UsearchIndex(dim, vectors, path, view=True)
            gallery.save_meta("index_state", json.dumps({"backend": backend, "count": n}))
        return index
    index = IvfPqIndex(dim, vectors, path, mmap=True) if path.exists() else None
    if index is None or len(index) != n:
        if (index is not None and len(index) < n and n <= IVFPQ_RETRAIN_GROWTH * max(index.trained_rows, 1)):
            index = IvfPqIndex(dim, vectors, path)
            index.add(vectors[len(index):], len(index))
            index.save()
        else:  # new, from another gallery state, or grown past what its lists were trained for
            build(backend, vectors, dim, path)
        index = IvfPqIndex(dim, vectors, path, mmap=True)
        gallery.save_meta("index_state", json.dumps({"backend": backend, "count": n}))
    return index
