"""The gallery index: one interface, several backends (exact numpy, the sign-bit prefilter of
bits_index.py and its partitioned form ivf_index.py, hnswlib, the compressed usearch and FAISS IVF-PQ of ann.py, and Qdrant).

The backend is a setting: ``auto`` (the default) uses exact search below ``EXACT_THRESHOLD``
images and the ``bits`` index (a 64-byte code per row scanned in full, the best few thousand rows
re-scored exactly) above it: it builds in seconds per million rows, needs no optional library, and
held recall@200 >= 0.95 on the structured synthetic sets (docs/scale.md). hnswlib (chosen by
``auto`` before the bits index existed) stays a choice: its parameters (M, ef_construction, ef)
were tuned against exact search on clustered synthetic sets (tests/test_index.py, bench speed): at
100k x 512-d, ef=800 gave recall@200 0.97, but it builds in hours at 1M on 2 cores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

EXACT_THRESHOLD = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 800
INDEX_FILE = "index.hnsw"


@dataclass(frozen=True)
class SearchResult:
    """Top results: gallery rows and cosine similarities, best first."""

    rows: np.ndarray  # int64 (k,)
    scores: np.ndarray  # float32 (k,)


class GalleryIndex(Protocol):
    backend: str

    def add(self, vectors: np.ndarray, start_row: int) -> None:
        """Add rows ``start_row .. start_row + len(vectors) - 1`` (L2-normalised float32)."""
        ...

    def search(self, query: np.ndarray, k: int) -> SearchResult:
        """Top-k rows by cosine similarity to ``query`` (D,), best first."""
        ...

    def __len__(self) -> int: ...


class ExactIndex:
    """Brute-force cosine search with numpy (argpartition + sort of the top k)."""

    backend = "exact"

    def __init__(self, dim: int):
        self.dim = dim
        self._data = np.zeros((0, dim), dtype=np.float32)

    def add(self, vectors: np.ndarray, start_row: int) -> None:
        if start_row != len(self._data):
            raise ValueError(f"rows must be added in order: expected {len(self._data)}, got {start_row}")
        from .vector_format import QuantisedVectors

        if not isinstance(vectors, QuantisedVectors) or len(self._data):  # fp16/int8 rows: scored block by block
            vectors = np.asarray(vectors, dtype=np.float32)
        # The first block is kept as given (the gallery's memory-mapped vectors: no second copy).
        self._data = vectors if len(self._data) == 0 else np.concatenate([np.asarray(self._data), vectors])

    def search(self, query: np.ndarray, k: int) -> SearchResult:
        if not isinstance(self._data, np.ndarray):  # fp16 / int8 vector file (vector_format.QuantisedVectors)
            return SearchResult(*self._data.top(query, k))
        scores = self._data @ np.asarray(query, dtype=np.float32)
        return top_k(scores, k)

    def __len__(self) -> int:
        return len(self._data)


def top_k(scores: np.ndarray, k: int) -> SearchResult:
    """The k best of a score vector, best first (stable for ties: lower row first)."""
    n = len(scores)
    k = min(k, n)
    if k <= 0:
        return SearchResult(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    if k < n:
        part = np.argpartition(-scores, k - 1)[:k]
        # rows tied with the k-th score: keep the lowest rows, as a full stable sort would
        kth = scores[part].min()
        above = np.flatnonzero(scores > kth)
        part = np.concatenate([above, np.flatnonzero(scores == kth)[:k - len(above)]])
    else:
        part = np.arange(n)
    order = part[np.lexsort((part, -scores[part]))]
    return SearchResult(order.astype(np.int64), scores[order].astype(np.float32))


class HnswIndex:
    """hnswlib cosine index persisted beside the gallery, extended incrementally."""

    backend = "hnsw"

    def __init__(self, dim: int, path: Path | None = None, capacity: int = 1024):
        import hnswlib  # lazy: a compiled extension

        self.dim = dim
        self.path = path
        self._index = hnswlib.Index(space="cosine", dim=dim)
        if path is not None and path.exists():
            self._index.load_index(str(path), max_elements=0)
        else:
            self._index.init_index(max_elements=max(capacity, 16), ef_construction=HNSW_EF_CONSTRUCTION,
                                   M=HNSW_M, random_seed=100)
        self._index.set_ef(HNSW_EF_SEARCH)

    def add(self, vectors: np.ndarray, start_row: int) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(vectors) == 0:
            return
        needed = start_row + len(vectors)
        if needed > self._index.get_max_elements():
            self._index.resize_index(max(needed, 2 * self._index.get_max_elements()))
        self._index.add_items(vectors, np.arange(start_row, needed), num_threads=-1)

    def search(self, query: np.ndarray, k: int) -> SearchResult:
        k = min(k, len(self))
        if k <= 0:
            return SearchResult(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        self._index.set_ef(max(HNSW_EF_SEARCH, k))
        labels, distances = self._index.knn_query(np.asarray(query, dtype=np.float32)[None], k=k)
        return SearchResult(labels[0].astype(np.int64), (1.0 - distances[0]).astype(np.float32))

    def save(self) -> None:
        if self.path is not None:
            tmp = self.path.with_suffix(".tmp")
            self._index.save_index(str(tmp))
            tmp.replace(self.path)  # atomic: a crash never leaves a half-written index

    def __len__(self) -> int:
        return self._index.get_current_count()


BACKENDS = ("auto", "exact", "bits", "bits-ivf", "hnsw", "usearch", "faiss-ivfpq", "qdrant")


def choose_backend(setting: str, n: int) -> str:
    """The backend as asked, or by size for ``auto``."""
    if setting not in BACKENDS:
        raise ValueError(f"unknown index backend {setting!r}")
    if setting == "auto":
        return "bits" if n >= EXACT_THRESHOLD else "exact"
    return setting


def index_settings(gallery, n: int) -> dict:
    setting = gallery.meta("index_backend") or "auto"
    return {"setting": setting, "backend": choose_backend(setting, n), "exact_threshold": EXACT_THRESHOLD,
            "bits": {"first_stage": _bits().first_stage(n, 1000), "shortlist": _bits().shortlist(n, 1000)},
            "bits-ivf": _ivf_settings(n),
            "hnsw": {"M": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION, "ef": HNSW_EF_SEARCH},
            "qdrant": {"server": gallery.meta("qdrant_url") or "embedded", "collection": gallery.meta("qdrant_collection")}}


def _ivf_settings(n: int) -> dict:
    from . import ivf_index

    lists = ivf_index.n_lists(n)
    return {"lists": lists, "probed": ivf_index.n_probe(lists), "shortlist": ivf_index.shortlist(1000, n)}


def _bits():
    from . import bits_index

    return bits_index


def open_index(gallery, backend: str | None = None) -> GalleryIndex:
    """The gallery's index, brought up to date with its vectors (persisted for hnswlib)."""
    vectors = gallery.vectors()
    n, dim = vectors.shape[0], gallery.embedder_identity.dim
    chosen = choose_backend(backend or gallery.meta("index_backend") or "auto", n)
    if chosen == "qdrant":  # embedded store beside the gallery, or a named server (engine/gallery/qdrant_index.py)
        from .qdrant_index import open_qdrant

        return open_qdrant(gallery, vectors)
    if chosen == "exact":
        index = ExactIndex(dim)
        index.add(vectors, 0)
        return index
    if chosen == "bits":  # sign-bit codes beside the gallery, the shortlist re-scored exactly
        return _bits().open_bits(gallery, vectors, dim)
    if chosen == "bits-ivf":  # the same codes in k-means list order: a query scans the nearest lists only
        from .ivf_index import open_ivf

        return open_ivf(gallery, vectors, dim)
    if chosen in ("usearch", "faiss-ivfpq"):
        from .ann import open_compressed

        return open_compressed(gallery, chosen, vectors, dim)
    path = gallery.folder / INDEX_FILE
    index = HnswIndex(dim, path, capacity=n)
    done = len(index)
    if done > n:  # the index is from another gallery state: rebuild it
        path.unlink()
        index, done = HnswIndex(dim, path, capacity=n), 0
    if done < n:
        index.add(vectors[done:], done)
        index.save()
        gallery.save_meta("index_state", json.dumps({"backend": "hnsw", "count": n}))
    return index
