"""The ``bits`` index: a sign-bit code per row scanned in full, the best rows re-scored exactly.

An exact search over a million 512-d float32 rows reads 2 GB per query: it is bound by memory
bandwidth (100-300 ms on a 2-core workstation). This index keeps one bit per dimension per row
(``(x - mean) > 0``, 64 bytes a row at 512-d: 1/32 of the fp32 vector file) in ``index.bits``
beside the gallery: the binary quantisation with re-scoring that vector databases offer (Qdrant,
Weaviate), here with the codes centred on the gallery's mean. A search

1. takes the query without its component along the gallery mean (that component adds nearly the
   same amount to every row's score) and counts, for every row, the bits where the signs differ
   (Hamming distance) - FAISS's popcount kernel where the ``scale`` extra is installed, numpy's
   ``bitwise_count`` block by block otherwise - keeping the ``first_stage(n, k)`` nearest rows (a
   histogram of a sample of the distances guesses the cut-off, the rows within the guess make it
   exact; nothing is sorted);
2. scores those rows asymmetrically: the query's own values (quantised to 4 bit planes) against
   the rows' sign bits, ``q . sign(x - mean)``, by popcounts of AND (RaBitQ's trick; with FAISS one
   Hamming call of the planes against the rows), and keeps the best ``shortlist(n, k)``;
3. re-scores the shortlist exactly from the gallery's vector file (rows read in place by FAISS, or
   gathered and multiplied by einsum: never BLAS, whose spinning threads slowed it tenfold on a
   busy 2-core machine): the scores returned are the cosines exact search gives for those rows (up
   to float32 rounding); only which rows make the shortlist is approximate (recall@200 against
   exact search, measured in ``interreid bench speed`` and checked in tests/test_bits_index.py).

FAISS's kernels are called with one OpenMP thread (this thread's setting, restored after): for one
query its team has nothing to share, and idle OpenMP threads spin.

Centring on the gallery's mean matters: image features share a large common direction, and sign bits
of uncentred vectors would spend most bits on it. Subtracting the mean from every row does not change
the order of ``q . x`` for a query (it shifts every score by ``q . mean``). Signs of other
directions were tried on 1M people-model rows (synthetic_people.py, 8 descriptions through the
tiny pack's text tower, 8000-row shortlist): recall@200 0.966 with the raw coordinates, 0.959
with 512 hyperplanes within the 128 principal directions, 0.936 after a random rotation; the raw
coordinates need no fitting (and no LAPACK call, which took seconds on the loaded 2-core machine).
The same rows and queries, shortlists of 8000 rows at 1M: Hamming alone 0.969 (0.85 for the
hardest description), Hamming to 40,000 rows then the asymmetric score 1.000 for all nine.

The file: a JSON header line (version, dimension, rows the mean was taken from), the mean
(float32), then the packed codes, one row after another from ``codes_offset``; an import appends
the new rows' codes (the mean stays as built); a gallery that has grown ``REBUILD_GROWTH`` times
past the rows its mean was taken from is re-coded (about a second per million rows). Nothing here
needs FAISS or usearch.
"""

from __future__ import annotations

import contextlib
import json
import os
import weakref
from pathlib import Path

import numpy as np

from .index import SearchResult
from .vector_format import take_records

BITS_FILE = "index.bits"
VERSION = 1
HEADER_BYTES = 4096  # the JSON header line, padded
MIN_SHORTLIST = 4096  # rows re-scored exactly (at least; and SHORTLIST_PER_K times the rows asked for) ...
SHORTLIST_PER_K = 4
SHORTLIST_FRACTION = 250  # ... and n / this many rows: at 3M rows a fixed 4096 held recall@200 at 0.90, 12,288 at 0.995
FIRST_STAGE_MIN = 16_384  # rows kept by the Hamming scan for the asymmetric score (at least) ...
FIRST_STAGE_FRACTION = 50  # ... and n / this many rows (the tail grows with the gallery), up to
FIRST_STAGE_MAX = 262_144
QUERY_PLANES = 4  # bits the query's values are quantised to for the asymmetric score
REBUILD_GROWTH = 8  # re-code when the gallery has grown this many times past the mean's rows
MEAN_SAMPLE = 65_536  # rows the mean is taken from
_BLOCK = 65_536  # rows coded / scanned at a time


def code_bytes(dim: int) -> int:
    """Bytes of one row's code: one bit per dimension, padded to whole 64-bit words."""
    return ((dim + 63) // 64) * 8


def codes_offset(dim: int) -> int:
    """Where the codes start in ``index.bits``: after the header and the mean (4 KiB aligned)."""
    return -(-(HEADER_BYTES + 4 * dim) // 4096) * 4096


def shortlist(n: int, k: int) -> int:
    """How many rows are re-scored exactly for a top-``k`` search over ``n`` rows."""
    return int(min(n, max(MIN_SHORTLIST, SHORTLIST_PER_K * k, n // SHORTLIST_FRACTION)))


def first_stage(n: int, k: int) -> int:
    """How many rows the Hamming scan keeps for the asymmetric score."""
    return int(min(n, max(FIRST_STAGE_MIN, 4 * shortlist(n, k), min(FIRST_STAGE_MAX, n // FIRST_STAGE_FRACTION))))


def query_planes(query: np.ndarray, width: int, planes: int = QUERY_PLANES) -> tuple[np.ndarray, float, float]:
    """The query's values quantised to ``planes`` bits: one packed code (width bytes) per bit plane,
    lowest first, and the (offset, step) that map a level back to a value."""
    dim = len(query)
    lo, hi = float(query.min()), float(query.max())
    step = (hi - lo) / (2 ** planes - 1) or 1.0
    levels = np.rint((query - lo) / step).astype(np.int64)
    bits = np.zeros((planes, width * 8), dtype=bool)
    for j in range(planes):
        bits[j, :dim] = (levels >> j) & 1
    return np.packbits(bits, axis=1), lo, step


def asymmetric_scores(codes: np.ndarray, query: np.ndarray, planes: int = QUERY_PLANES,
                      use_faiss: bool = True) -> np.ndarray:
    """``query . (2 b - 1)`` for each row's bits ``b`` (N, code_bytes), up to one shared scale and
    offset: the query quantised to ``planes`` bit planes, each plane's ``popcount(plane & b)``.

    With FAISS, one Hamming call of the planes and a zero code against the rows gives every count
    (``popcount(p & b) = (|p| + |b| - hamming(p, b)) / 2``); numpy's ``bitwise_count`` otherwise
    (the same integers: tests check it)."""
    codes = np.ascontiguousarray(codes)
    n, width = codes.shape
    plane_codes, lo, step = query_planes(query, width, planes)
    faiss = _faiss_hammings() if use_faiss else None
    if faiss is not None and n:
        probes = np.concatenate([plane_codes, np.zeros((1, width), np.uint8)])  # the last: |b| = hamming(0, b)
        dis = np.empty((planes + 1, n), dtype=np.int32)
        with _serial(faiss):
            faiss.hammings(faiss.swig_ptr(probes), faiss.swig_ptr(codes), planes + 1, n, width, faiss.swig_ptr(dis))
        # sum_j 2^j popcount(p_j & b) = (sum_j 2^j |p_j| + (2^planes - 1) |b| - sum_j 2^j hamming(p_j, b)) / 2:
        # each plane's count is a whole number, so the sum's half is exact (one int32 pass a plane, no (planes, N)
        # temporaries nor an integer matrix product: 2.1 against 0.4 ms for 100,000 rows)
        ones = dis[planes]
        weighted = dis[planes - 1].copy()
        for j in range(planes - 2, -1, -1):
            weighted <<= 1
            weighted += dis[j]
        sizes = int((np.bitwise_count(plane_codes).sum(axis=1, dtype=np.int64) << np.arange(planes)).sum())
        weighted -= sizes
        np.subtract(((1 << planes) - 1) * ones, weighted, out=weighted)
        total = weighted >> 1
    else:
        words = codes.view(np.uint64)
        total = np.zeros(n, dtype=np.int64)
        for j, plane in enumerate(plane_codes.view(np.uint64)):
            total += np.add.reduce(np.bitwise_count(words & plane), axis=1, dtype=np.int64) << j
        ones = np.add.reduce(np.bitwise_count(words), axis=1, dtype=np.int64)
    return (2.0 * (step * total + lo * ones)).astype(np.float32)  # - query.sum(), the same for every row


def take_codes(codes: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``codes[rows]`` (contiguous): ``np.take`` copies each row's bytes as one block, where fancy indexing of
    the memory-mapped (N, width) array went byte by byte (100,000 codes of 10M: 2.5 against 6.4 ms)."""
    return np.take(np.asarray(codes), rows, axis=0)


def encode(vectors: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Sign-bit codes (N, code_bytes) uint8 of float32 rows, centred on ``mean``."""
    vectors = np.asarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    bits = np.zeros((len(vectors), code_bytes(dim) * 8), dtype=bool)
    np.greater(vectors, mean, out=bits[:, :dim])
    return np.packbits(bits, axis=1)


def spread_rows(vectors, count: int, dim: int) -> np.ndarray:
    """Up to ``count`` rows spread evenly over ``vectors``, as float32 (n, dim): what a mean or k-means is
    taken from."""
    n = len(vectors)
    take = np.unique(np.linspace(0, n - 1, min(n, count)).astype(np.int64)) if n else np.zeros(0, np.int64)
    return np.asarray(vectors[take], dtype=np.float32) if len(take) else np.zeros((0, dim), np.float32)


def centre(sample: np.ndarray, dim: int) -> np.ndarray:
    """The mean of ``sample`` (float32; zeros when it is empty): the centre the codes are taken around."""
    return sample.mean(axis=0).astype(np.float32) if len(sample) else np.zeros(dim, np.float32)


def direction(query: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``query`` without its component along ``mean`` (that component adds nearly the same to every row's score)."""
    query = np.asarray(query, dtype=np.float32)
    norm2 = float(mean @ mean)
    return query - (float(query @ mean) / norm2) * mean if norm2 > 0 else query


def _faiss_hammings():
    try:
        import faiss  # lazy: a compiled extension, in the optional scale extra
    except ImportError:
        return None
    return faiss


@contextlib.contextmanager
def _serial(faiss):
    """FAISS's kernels run here for one query at a time: an OpenMP team would have nothing to share and
    its idle threads spin, taking a core from the search on a 2-core machine. The thread count is
    OpenMP's per-thread setting, so only this thread's calls are affected, and it is restored."""
    if faiss is None:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


_POOL = None
_WORKERS = max(1, min(4, os.cpu_count() or 1))
PARALLEL_FROM = 262_144  # rows from which the scan is split over the CPU's cores (both kernels release the GIL)
#: the scan is cut into this many parts per worker, taken in turn by whichever worker is free: on a busy
#: 2-core machine one core is often shared with another process, and halves fixed in advance waited for the
#: slower one (1M rows, another process spinning on one core: median search 28-48 ms in halves, 15-30 ms
#: in eighths; the same CPU time)
SCAN_PARTS_PER_WORKER = 4


def _pool():
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(_WORKERS, thread_name_prefix="bits-scan")
    return _POOL


def inner_products(vectors, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``vectors[rows] @ query`` (float32 (len(rows),)) without BLAS: a matrix-vector product of a few
    thousand rows is too small to share, and BLAS's own threads (spinning while they wait) slowed it
    tenfold on a busy 2-core machine. FAISS reads the rows in place from a float32 file; otherwise
    (fp16/int8 files, no FAISS) the rows are gathered, decoded, and multiplied by numpy's einsum."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    query = np.ascontiguousarray(query, dtype=np.float32)
    if len(rows) and (rows.min() < 0 or rows.max() >= len(vectors)):  # FAISS would read past the file
        raise IndexError(f"rows must lie within the {len(vectors)} vectors")
    faiss = _faiss_hammings()
    if (faiss is not None and isinstance(vectors, np.ndarray) and vectors.dtype == np.float32 and vectors.ndim == 2
            and vectors.flags.c_contiguous and len(rows)):
        out = np.empty(len(rows), dtype=np.float32)
        with _serial(faiss):
            faiss.fvec_inner_products_by_idx(faiss.swig_ptr(out), faiss.swig_ptr(query), faiss.swig_ptr(vectors),
                                             faiss.swig_ptr(rows), vectors.shape[1], 1, len(rows))
        return out
    raw, fmt = getattr(vectors, "raw", None), getattr(vectors, "format", None)
    if raw is not None and fmt in ("int8", "fp16"):  # vector_format.QuantisedVectors: decoded a block at a time
        return _quantised_products(raw, fmt, rows, query)
    return np.einsum("ij,j->i", np.asarray(vectors[rows], dtype=np.float32), query).astype(np.float32)


GATHER_BLOCK = 256  # rows gathered (and widened to float32) at a time: 512 KB at 512-d, within a core's L2 cache


def _quantised_products(raw: np.ndarray, fmt: str, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``decoded(raw[rows]) @ query`` for an int8 (per-row scale) or fp16 file, a block of rows at a time: the
    whole shortlist widened at once (8 MB for 4096 rows, twice with the scales applied) cost more than the
    products. An int8 block is gathered as bytes (``take_records``: 3x faster than numpy's record-by-record
    copy) and einsum widens its values itself, a buffer at a time (the same sums to the bit as widening the
    block first, 10 % faster); its rows' scales multiply their products, as the gallery's exact search does
    (``QuantisedVectors.__matmul__``). An fp16 block is widened into one reused float32 buffer."""
    out = np.empty(len(rows), dtype=np.float32)
    block = min(GATHER_BLOCK, len(rows))
    if fmt == "int8":
        records = np.empty((block, raw.dtype.itemsize), dtype=np.uint8)
        for start in range(0, len(rows), GATHER_BLOCK):
            part = take_records(raw, rows[start:start + GATHER_BLOCK], records)
            dots = out[start:start + len(part)]
            np.einsum("ij,j->i", part["q"], query, out=dots, dtype=np.float32, casting="unsafe")
            dots *= part["scale"]
        return out
    buf = np.empty((block, len(query)), dtype=np.float32)
    for start in range(0, len(rows), GATHER_BLOCK):
        part = raw[rows[start:start + GATHER_BLOCK]]
        wide = buf[:len(part)]
        np.copyto(wide, part, casting="unsafe")
        np.einsum("ij,j->i", wide, query, out=out[start:start + len(part)])
    return out


def exact_scores(vectors, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Exact cosines of ``rows`` from the vector file, the gather split over the cores."""
    if _WORKERS == 1 or len(rows) < 2048:
        return inner_products(vectors, rows, query)
    parts = np.array_split(rows, _WORKERS)
    return np.concatenate(list(_pool().map(lambda part: inner_products(vectors, part, query), parts)))


def hamming(codes: np.ndarray, query_code: np.ndarray, use_faiss: bool = True) -> np.ndarray:
    """Hamming distance (int32 (N,)) from ``query_code`` to every row of ``codes``."""
    n, width = codes.shape
    out = np.empty(n, dtype=np.int32)
    if n == 0:
        return out
    parts = _WORKERS * SCAN_PARTS_PER_WORKER if n >= PARALLEL_FROM else 1
    if parts > 1:
        bounds = np.linspace(0, n, parts + 1).astype(np.int64)

        def part(i: int) -> None:  # each part written in place
            _hamming(codes[bounds[i]:bounds[i + 1]], query_code, use_faiss, out[bounds[i]:bounds[i + 1]])

        list(_pool().map(part, range(parts)))
        return out
    return _hamming(codes, query_code, use_faiss, out)


def _hamming(codes: np.ndarray, query_code: np.ndarray, use_faiss: bool, out: np.ndarray) -> np.ndarray:
    """The distances of ``codes`` written into ``out`` (int32, contiguous, one per row)."""
    hamming_blocks([(codes, out)], query_code, use_faiss)
    return out


def hamming_blocks(blocks, query_code: np.ndarray, use_faiss: bool = True) -> None:
    """The distances of each ``(codes, out)`` block written into its ``out`` (int32, contiguous), under one
    setting of FAISS's thread count: the bits-ivf index scans a few hundred lists a query, and setting and
    restoring it around each list cost a fifth of the scan (1.1 of 4.9 ms over 586,000 codes)."""
    faiss = _faiss_hammings() if use_faiss else None
    if faiss is None:
        for codes, out in blocks:
            _numpy_hamming(codes, query_code, out)
        return
    q = np.ascontiguousarray(query_code.reshape(1, -1))
    with _serial(faiss):
        for codes, out in blocks:
            n, width = codes.shape
            if n:
                codes = np.ascontiguousarray(codes)
                faiss.hammings(faiss.swig_ptr(q), faiss.swig_ptr(codes), 1, n, width, faiss.swig_ptr(out))


def _numpy_hamming(codes: np.ndarray, query_code: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``_hamming`` without FAISS."""
    n, width = codes.shape
    words = codes.view(np.uint64)  # XOR and count bits, a block at a time (stays in cache)
    q = query_code.reshape(1, width).view(np.uint64)[0]
    tmp = np.empty((min(_BLOCK, n), words.shape[1]), dtype=np.uint64)
    for start in range(0, n, _BLOCK):
        stop = min(n, start + _BLOCK)
        part = tmp[:stop - start]
        np.bitwise_xor(words[start:stop], q, out=part)
        np.add.reduce(np.bitwise_count(part), axis=1, dtype=np.int32, out=out[start:stop])
    return out


SAMPLE_ROWS = 65_536  # distances the cut-off is first guessed from


def _rows_within(distances: np.ndarray, bound: int) -> np.ndarray:
    """Rows (sorted, int64) whose distance is at most ``bound``: on a big gallery in parts over the cores
    (numpy's comparison and nonzero let go of Python's lock; 13-16 ms on one core at 10M rows)."""
    n = len(distances)
    parts = _WORKERS * SCAN_PARTS_PER_WORKER if n >= PARALLEL_FROM and _WORKERS > 1 else 1
    if parts == 1:
        return np.flatnonzero(distances <= bound)
    bounds = np.linspace(0, n, parts + 1).astype(np.int64)

    def part(i: int) -> np.ndarray:
        return np.flatnonzero(distances[bounds[i]:bounds[i + 1]] <= bound) + bounds[i]

    return np.concatenate(list(_pool().map(part, range(parts))))


def nearest(distances: np.ndarray, m: int, width_bits: int) -> np.ndarray:
    """Rows (sorted) of the ``m`` smallest distances, plus every row tied with the m-th: a histogram
    of the distances gives the cut-off, so nothing is sorted.

    On a big gallery the histogram of a sample of the distances guesses a bound a little past the
    cut-off; the rows within it are found in one pass, and their own histogram gives the exact
    cut-off (the counts up to the bound are the same as the whole array's). When fewer than ``m``
    rows lie within the guess, the whole array's histogram is taken instead."""
    n = len(distances)
    if m >= n:
        return np.arange(n, dtype=np.int64)
    if n >= 4 * SAMPLE_ROWS:
        sample = distances[::n // SAMPLE_ROWS]
        counts = np.cumsum(np.bincount(sample, minlength=width_bits + 1))
        guess = int(np.searchsorted(counts, 1.2 * m * len(sample) / n + 64))  # 20 % past m, and some slack
        within = _rows_within(distances, guess)
        if len(within) >= m:
            near = distances[within]
            cut = int(np.searchsorted(np.cumsum(np.bincount(near, minlength=guess + 1)), m))
            return within[near <= cut]
    counts = np.cumsum(np.bincount(distances, minlength=width_bits + 1))
    cut = int(np.searchsorted(counts, m))  # the smallest distance d with at least m rows <= d
    return np.flatnonzero(distances <= cut).astype(np.int64)


class BitsIndex:
    """Sign-bit codes of every row, scanned in full; the shortlist re-scored exactly from ``vectors``."""

    backend = "bits"

    def __init__(self, dim: int, vectors, path: Path | None = None):
        self.dim, self.vectors, self.path = dim, vectors, path
        self.width = code_bytes(dim)
        self.mean: np.ndarray | None = None
        self.mean_rows = 0
        self._codes = np.zeros((0, self.width), dtype=np.uint8)
        if path is not None and path.exists():
            self._load(path)

    @property
    def codes_offset(self) -> int:
        """Where the codes start in the file: after the header and the mean (4 KiB aligned)."""
        return codes_offset(self.dim)

    # -- the file ------------------------------------------------------------------------------
    def _load(self, path: Path) -> None:
        with open(path, "rb") as f:
            header = json.loads(f.read(HEADER_BYTES).split(b"\n", 1)[0])
            if (header.get("version") != VERSION or header.get("dim") != self.dim
                    or header.get("codes_offset") != self.codes_offset):
                raise ValueError(f"{path.name} is not a version-{VERSION} {self.dim}-d bits index")
            self.mean = np.frombuffer(f.read(4 * self.dim), dtype=np.float32).copy()
        self.mean_rows = int(header["mean_rows"])
        rows = max(0, path.stat().st_size - self.codes_offset) // self.width
        self._codes = (np.memmap(path, dtype=np.uint8, mode="r", offset=self.codes_offset, shape=(rows, self.width))
                       if rows else np.zeros((0, self.width), dtype=np.uint8))

    def _head(self) -> bytes:
        text = json.dumps({"version": VERSION, "kind": "sign bits of (vector - mean)", "dim": self.dim,
                           "mean_rows": self.mean_rows, "codes_offset": self.codes_offset}).encode()
        head = text + b"\n" + b" " * (HEADER_BYTES - len(text) - 1) + self.mean.astype(np.float32).tobytes()
        return head + b"\0" * (self.codes_offset - len(head))

    # -- building ------------------------------------------------------------------------------
    def fit(self, vectors) -> None:
        """The centre the codes are taken around: the mean of up to MEAN_SAMPLE rows spread over the gallery."""
        self.mean = centre(spread_rows(vectors, MEAN_SAMPLE, self.dim), self.dim)
        self.mean_rows = len(vectors)

    def add(self, vectors, start_row: int) -> None:
        """Code rows ``start_row ..`` and append them (to the file, when the index has one)."""
        if start_row != len(self):
            raise ValueError(f"rows must be added in order: expected {len(self)}, got {start_row}")
        if self.mean is None:
            self.fit(vectors)
        blocks = [encode(vectors[s:s + _BLOCK], self.mean) for s in range(0, len(vectors), _BLOCK)]
        if not blocks:
            return
        if self.path is None:
            self._codes = np.concatenate([np.asarray(self._codes), *blocks])
            return
        head = None if self.path.exists() else self._head()
        write_code_blocks(self.path, self.codes_offset + start_row * self.width, blocks, head)
        self._load(self.path)

    # -- searching -----------------------------------------------------------------------------
    def direction(self, query: np.ndarray) -> np.ndarray:
        """The query without its component along the gallery mean."""
        return direction(query, self.mean)

    def candidates(self, query: np.ndarray, m: int, first: int | None = None) -> np.ndarray:
        """The shortlist: ``m`` rows (sorted) by the asymmetric score among the ``first`` whose codes
        are nearest the query's sign bits."""
        d = self.direction(query)
        zero = np.zeros(self.dim, dtype=np.float32)
        rows = nearest(hamming(self._codes, encode(d[None], zero)[0]), first or m, self.width * 8)
        if len(rows) <= m:
            return rows
        scores = asymmetric_scores(take_codes(self._codes, rows), d)
        return np.sort(rows[np.argpartition(-scores, m - 1)[:m]])

    def search(self, query: np.ndarray, k: int) -> SearchResult:
        from .ann import rerank

        n = len(self)
        k = min(k, n)
        if k <= 0:
            return SearchResult(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        query = np.asarray(query, dtype=np.float32)
        rows = self.candidates(query, shortlist(n, k), first_stage(n, k))  # sorted: ties keep the lower row first
        return rerank(self.vectors, query, rows, k, self._exact_scores)

    def _exact_scores(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        return exact_scores(self.vectors, rows, query)

    def head(self, rows: int) -> "BitsIndex":
        """The same index over its first ``rows`` rows only (shares the codes and the vectors; writes nothing):
        a search over it runs every step of a full one on fewer rows (an interview's warm-up)."""
        part = BitsIndex.__new__(BitsIndex)
        part.__dict__.update(self.__dict__)
        part.path = None
        part._codes = self._codes[:max(0, int(rows))]
        return part

    @property
    def nbytes(self) -> int:
        return int(len(self) * self.width)

    def __len__(self) -> int:
        return len(self._codes)


def write_code_blocks(path: Path, at: int, blocks, head: bytes | None = None) -> None:
    """Write code ``blocks`` (uint8 arrays) one after another from byte ``at`` of an index file, after
    cutting it there (a half-written tail of an interrupted extension goes), and sync it; ``head``, when
    given, is written first at the start of a new file."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if head is not None:
            os.pwrite(fd, head, 0)
        os.ftruncate(fd, at)
        for block in blocks:
            os.pwrite(fd, block.tobytes(), at)
            at += block.nbytes
        os.fsync(fd)
    finally:
        os.close(fd)


def prefault(array, wait: bool = True) -> bool:
    """Map every page of a memory-mapped file into this process at once (``MADV_POPULATE_READ``,
    Linux 5.14+), so that the exact re-score's scattered rows cost no page fault each (4096 faults
    a query otherwise: a third of the search on the 2-core machine). Only when the file fits in half
    the available memory; anywhere else, or on an older kernel, nothing is done.

    ``wait`` False: done by a background thread (libc's ``madvise`` through ctypes, which lets go of
    Python's lock), so that opening a gallery does not wait for its files to be read: at 10M rows the
    int8 vector file and the codes (5.8 GB) took 3.5 s to map. A search meanwhile faults in the pages it
    reads, as without the prefault. Returns True when the mapping was done or started."""
    import mmap

    raw = getattr(array, "raw", array)  # QuantisedVectors keeps its memmap in .raw
    mm = getattr(raw, "_mmap", None)
    advice = getattr(mmap, "MADV_POPULATE_READ", 22 if os.uname().sysname == "Linux" else None) \
        if hasattr(os, "uname") else None
    if mm is None or advice is None:
        return False
    from ..host import available_ram

    available = available_ram()
    if available is None:
        return False
    try:
        if len(mm) > available // 2:
            return False
        if wait:
            mm.madvise(advice)
            return True
        start = np.frombuffer(mm, dtype=np.uint8).ctypes.data  # the mapping's first page
        owner = weakref.ref(raw)
    except (OSError, ValueError, AttributeError, TypeError):
        return False
    import threading

    thread = threading.Thread(target=_populate, args=(owner, start, len(mm), advice), name="prefault", daemon=True)
    thread.start()
    _PREFAULTS.append(thread)
    del _PREFAULTS[:-8]
    return True


_PREFAULTS: list = []  # the latest background prefaults (tests wait for them)


POPULATE_CHUNK = 256 << 20  # bytes mapped per call of the background prefault (a multiple of the page size)


def _populate(owner, start: int, nbytes: int, advice: int) -> None:
    """Map ``nbytes`` from ``start`` a chunk at a time, holding the mapping (``owner()``, the memory-mapped
    array) only during each call: a gallery closed meanwhile lets go of its mapping, and the rest is not
    mapped. (Holding it to the end kept a closed case's files mapped for seconds: opening three cases on
    a 10M gallery in a row counted three copies of its 5.8 GB in the process's resident memory.)"""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        for offset in range(0, nbytes, POPULATE_CHUNK):
            held = owner()
            if held is None:
                return  # the gallery was closed: its mapping is gone
            libc.madvise(ctypes.c_void_p(start + offset), ctypes.c_size_t(min(POPULATE_CHUNK, nbytes - offset)),
                         ctypes.c_int(advice))
            del held
    except (OSError, AttributeError):  # no libc here: the pages are faulted in as they are read
        pass


def is_current(gallery, n: int) -> bool:
    """True when the gallery's ``index.bits`` holds codes of exactly its ``n`` rows and needs no re-coding:
    opening it then writes nothing (an interview's warm-up opens only such an index)."""
    path = gallery.folder / BITS_FILE
    try:
        with open(path, "rb") as f:
            header = json.loads(f.read(HEADER_BYTES).split(b"\n", 1)[0])
        dim = int(header["dim"])
        rows = (path.stat().st_size - codes_offset(dim)) // code_bytes(dim)
        return (header.get("version") == VERSION and header.get("codes_offset") == codes_offset(dim)
                and rows == n and n <= REBUILD_GROWTH * max(int(header["mean_rows"]), 1))
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError):
        return False


def open_bits(gallery, vectors, dim: int) -> BitsIndex:
    """The gallery's bits index brought up to date with its ``vectors`` (built, extended or re-coded)."""
    n = len(vectors)
    path = gallery.folder / BITS_FILE
    index = None
    if path.exists():
        try:
            index = BitsIndex(dim, vectors, path)
        except (ValueError, KeyError, json.JSONDecodeError):
            index = None  # another version or a damaged header: re-code it
    if index is not None and (len(index) > n or n > REBUILD_GROWTH * max(index.mean_rows, 1)):
        index = None  # from another gallery state, or grown far past its mean
    if index is None:
        path.unlink(missing_ok=True)
        index = BitsIndex(dim, vectors, path)
    if len(index) < n:
        if index.mean is None:
            index.fit(vectors)
        for start in range(len(index), n, _BLOCK):  # a block at a time: an fp16/int8 file decodes per block
            index.add(vectors[start:min(n, start + _BLOCK)], start)
        gallery.save_meta("index_state", json.dumps({"backend": "bits", "count": n}))
    if n >= PARALLEL_FROM:  # a big gallery: its pages mapped once (in the background), not faulted in row by row
        prefault(index._codes, wait=False)
        prefault(vectors, wait=False)
    return index
