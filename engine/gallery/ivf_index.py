"""The ``bits-ivf`` index: the bits index's sign codes laid out by a coarse partition (an inverted file).

The ``bits`` index (bits_index.py) counts the Hamming distance of every row's 64-byte code: at 10M
rows that is 640 MB a query (40-50 ms on a 2-core workstation), then a cut-off over 10M distances.
This index clusters the gallery first, so a query reads only the codes of the few lists whose
centres are nearest it:

* **build**: k-means centres (about ``LISTS_PER_SQRT`` × sqrt(N) lists) trained on a sample of the
  gallery, two-level (a first k-means of about sqrt(lists) groups, then each group's sample split
  into lists in proportion to its size), so assigning every row costs two small products, not one
  with every centre; every row is assigned block by block from the vector file (BLAS in the build
  only). The file ``index.ivf`` beside the gallery holds a versioned JSON header, the gallery mean
  the codes are centred on, the centres, the list offsets, the gallery row of each position and the
  sign codes (bits_index.encode) in list order: a probed list is one contiguous slice.
* **search**: the query without its component along the gallery mean (as the bits index), scored
  against every centre (einsum, no BLAS in a round); the best ``nprobe`` lists are probed: Hamming
  distances of their codes, the nearest kept (bits_index.nearest), the asymmetric score
  (bits_index.asymmetric_scores, scaled by two factors per row stored by the build: RaBitQ's
  estimator, ``estimates``) keeps a shortlist, and the shortlist is re-scored exactly from the
  vector file (bits_index.exact_scores). On big probes the Hamming pass and the asymmetric stage
  are split over the cores (bits_index's worker pool). The scores returned are exact for the rows found; only which
  rows are found is approximate (recall@200 against exact search: docs/scale.md, tests/test_ivf_index.py).
* **rows imported after the build** are an unpartitioned tail: their codes are appended to the file
  and scanned in full by every search; when the tail passes ``REBUILD_TAIL`` of the partitioned rows
  the index is rebuilt.
"""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path

import numpy as np

from . import bits_index as bits
from .index import SearchResult

IVF_FILE = "index.ivf"
VERSION = 1
HEADER_BYTES = 4096
LISTS_PER_SQRT = 2  # lists = LISTS_PER_SQRT * sqrt(rows): 2,000 at 1M, 6,325 at 10M
TRAIN_PER_LIST = 32  # sample rows per list for k-means (at least MIN_TRAIN)
MIN_TRAIN = 65_536
TRAIN_ITERATIONS = 8
PROBE_FRACTION = 0.03  # lists probed: this fraction of them, and at least MIN_PROBE (measured: docs/scale.md)
MIN_PROBE = 320
SHORTLIST_MIN = 8192  # rows re-scored exactly: at least this, SHORTLIST_PER_K times the rows asked for,
SHORTLIST_PER_K = 8
SHORTLIST_FRACTION = 600  # and n / this many (10M: 16,666; it was n / 400, docs/scale.md)
FIRST_STAGE_PER_SHORTLIST = 4  # rows kept by the Hamming pass for the asymmetric score: this many per row of
FIRST_STAGE_FRACTION = 100  # the smallest shortlist, and n / this many (10M: 100,000; text queries' recall@200
#                             rests on this stage's size, not on the probes: docs/scale.md)
CORRECTED = True  # the asymmetric stage scales each row's estimate by its stored factors (RaBitQ's estimator)
PARALLEL_FROM = 131_072  # probed rows from which the Hamming pass and the asymmetric stage are split over the cores
PARTS = 8  # parts of those passes, taken in turn by whichever worker is free (bits_index's scan does the same)
REBUILD_TAIL = 0.25  # rebuild when rows added after the build exceed this fraction of the partitioned rows
MIN_ROWS = 4096  # below this a single list holds every row (k-means needs rows to split)
_BLOCK = 65_536


def _positions(picked: np.ndarray, ranges: list[tuple[int, int]], starts: np.ndarray) -> np.ndarray:
    """Code positions of ``picked`` (sorted indices into the probed ranges laid end to end, ``starts`` their
    first indices): computed for the rows kept only, not written out for every probed row."""
    first = np.fromiter((a for a, _ in ranges), dtype=np.int64, count=len(ranges))
    which = np.searchsorted(starts, picked, side="right") - 1
    return first[which] + (picked - starts[which])


def n_lists(n: int) -> int:
    """Lists for ``n`` rows: about LISTS_PER_SQRT * sqrt(n), at least 1, at most n // 64."""
    if n < MIN_ROWS:
        return 1
    return int(max(1, min(n // 64, round(LISTS_PER_SQRT * math.sqrt(n)))))


def n_probe(lists: int) -> int:
    return int(min(lists, max(MIN_PROBE, math.ceil(PROBE_FRACTION * lists))))


def shortlist(k: int, n: int = 0) -> int:
    """Rows re-scored exactly for a top-``k`` search over ``n`` rows."""
    return int(max(SHORTLIST_MIN, SHORTLIST_PER_K * k, n // SHORTLIST_FRACTION))


def first_stage(k: int, n: int = 0) -> int:
    """Rows the Hamming pass keeps for the asymmetric score (of the probed lists' rows)."""
    return int(max(FIRST_STAGE_PER_SHORTLIST * max(SHORTLIST_MIN, SHORTLIST_PER_K * k), n // FIRST_STAGE_FRACTION))


def _sections(dim: int, lists: int, rows: int) -> dict:
    """Byte offsets of the file's sections (4 KiB aligned): mean, centres, list offsets, row of each position, codes."""
    def up(x: int) -> int:
        return -(-x // 4096) * 4096

    mean = HEADER_BYTES
    centres = up(mean + 4 * dim)
    offsets = up(centres + 4 * dim * lists)
    row_of = up(offsets + 8 * (lists + 1))
    factors = up(row_of + 4 * rows)
    codes = up(factors + 8 * rows)
    return {"mean": mean, "centres": centres, "offsets": offsets, "row_of": row_of, "factors": factors,
            "codes": codes}


# -- k-means (the build only: BLAS is fine here) ---------------------------------------------------
def _nearest_centre(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """For each row of ``x`` the centre at the smallest L2 distance (|c|^2 - 2 x.c; |x|^2 is the same for every centre)."""
    return np.argmin(np.einsum("ij,ij->i", centres, centres)[None] - 2.0 * (x @ centres.T), axis=1)


def lloyd(x: np.ndarray, k: int, iterations: int = TRAIN_ITERATIONS, seed: int = 0) -> np.ndarray:
    """``k`` centres of ``x`` by Lloyd's k-means from ``k`` distinct random rows (deterministic); an
    emptied centre is moved to a random row. (The selector's k-means, interview/selectors.py, seeds with
    k-means++, whose cost grows with k squared: fine for 200 rows, not for thousands of lists.)"""
    x = np.ascontiguousarray(x, dtype=np.float32)
    n = len(x)
    k = max(1, min(k, n))
    rng = np.random.default_rng(seed)
    centres = x[np.sort(rng.choice(n, k, replace=False))].copy()
    for _ in range(iterations):
        labels = _nearest_centre(x, centres)
        counts = np.bincount(labels, minlength=k)
        order = np.argsort(labels, kind="stable")
        present = np.flatnonzero(counts)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[present]
        centres[present] = np.add.reduceat(x[order], starts, axis=0) / counts[present, None]
        empty = np.flatnonzero(counts == 0)
        if len(empty):
            centres[empty] = x[rng.choice(n, len(empty), replace=False)]
    return centres


class Partition:
    """Two-level k-means centres: ``groups`` first-level centres, each with its own lists (``parent``)."""

    def __init__(self, groups: np.ndarray, centres: np.ndarray, parent: np.ndarray):
        self.groups, self.centres, self.parent = groups, centres, parent
        self.children = [np.flatnonzero(parent == g) for g in range(len(groups))]

    @classmethod
    def train(cls, sample: np.ndarray, lists: int, seed: int = 0) -> "Partition":
        sample = np.ascontiguousarray(sample, dtype=np.float32)
        g = max(1, min(lists, round(math.sqrt(lists))))
        groups = lloyd(sample, g, seed=seed)
        labels = _nearest_centre(sample, groups)
        centres, parent, kept = [], [], []
        for j in range(len(groups)):
            members = sample[labels == j]
            if not len(members):  # a group with no lists would send the rows nearest it to list 0
                continue
            want = max(1, round(lists * len(members) / len(sample)))
            centres.append(lloyd(members, want, seed=seed + 1 + j))
            parent += [len(kept)] * len(centres[-1])
            kept.append(j)
        return cls(groups[kept], np.concatenate(centres).astype(np.float32), np.asarray(parent, dtype=np.int64))

    def assign(self, x: np.ndarray) -> np.ndarray:
        """The list of each row: its nearest first-level centre, then the nearest of that centre's lists."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        top = _nearest_centre(x, self.groups)
        out = np.empty(len(x), dtype=np.int64)
        for j, kids in enumerate(self.children):
            members = np.flatnonzero(top == j)
            if len(members):
                out[members] = kids[_nearest_centre(x[members], self.centres[kids])] if len(kids) else 0
        return out


# -- the index ------------------------------------------------------------------------------------
class IvfBitsIndex:
    """Sign codes in list order, the lists nearest the query probed; rows added after the build scanned in full."""

    backend = "bits-ivf"

    def __init__(self, dim: int, vectors, path: Path):
        self.dim, self.vectors, self.path = dim, vectors, path
        self.width = bits.code_bytes(dim)
        self._load(path)

    def _load(self, path: Path) -> None:
        with open(path, "rb") as f:
            header = json.loads(f.read(HEADER_BYTES).split(b"\n", 1)[0])
        if header.get("version") != VERSION or header.get("dim") != self.dim:
            raise ValueError(f"{path.name} is not a version-{VERSION} {self.dim}-d bits-ivf index")
        lists, built = int(header["lists"]), int(header["built_rows"])
        where = _sections(self.dim, lists, built)
        if header.get("sections") != where:
            raise ValueError(f"{path.name} has an unexpected layout")
        self.lists, self.built_rows, self.header = lists, built, header
        self.mean = np.fromfile(path, dtype=np.float32, count=self.dim, offset=where["mean"])
        self.centres = np.fromfile(path, dtype=np.float32, count=self.dim * lists, offset=where["centres"]).reshape(lists, self.dim)
        self.offsets = np.fromfile(path, dtype=np.int64, count=lists + 1, offset=where["offsets"])
        if len(self.offsets) != lists + 1 or self.offsets[-1] != built:
            raise ValueError(f"{path.name} is damaged (list offsets)")
        size = path.stat().st_size
        rows = max(0, size - where["codes"]) // self.width
        if rows < built:
            raise ValueError(f"{path.name} is damaged (codes cut short)")
        self.row_of = (np.memmap(path, dtype=np.int32, mode="r", offset=where["row_of"], shape=(built,))
                       if built else np.zeros(0, np.int32))
        self.factors = (np.memmap(path, dtype=np.float32, mode="r", offset=where["factors"], shape=(built, 2))
                        if built else np.ones((0, 2), np.float32))
        self.codes = (np.memmap(path, dtype=np.uint8, mode="r", offset=where["codes"], shape=(rows, self.width))
                      if rows else np.zeros((0, self.width), np.uint8))

    @functools.cached_property
    def _tail_factors(self) -> np.ndarray:
        """Rows of the tail have no stored factors: the partitioned rows' medians stand in for theirs. Read
        when a search first meets a tail (4,096 rows strided over the file: one page each, so not on opening,
        which the warm-up's check and the open each do)."""
        if not self.built_rows:
            return np.array([1.0, 0.0], np.float32)
        return np.median(np.asarray(self.factors[::max(1, self.built_rows // 4096)]), axis=0)

    def __len__(self) -> int:
        return len(self.codes)

    def direction(self, query: np.ndarray) -> np.ndarray:
        """The query without its component along the mean the codes are centred on (as the bits index)."""
        return bits.direction(query, self.mean)

    @property
    def tail(self) -> int:
        """Rows added after the build (scanned in full by every search)."""
        return len(self) - self.built_rows

    @property
    def nbytes(self) -> int:
        return int(self.path.stat().st_size)

    # -- searching ------------------------------------------------------------------------------
    def probed(self, direction: np.ndarray, nprobe: int | None = None) -> list[tuple[int, int]]:
        """Position ranges to scan for a query direction: the ``nprobe`` lists whose centres score best
        (adjacent ones merged), then the tail."""
        nprobe = min(self.lists, nprobe or n_probe(self.lists))
        scores = np.einsum("ij,j->i", self.centres, direction)
        best = np.sort(np.argpartition(-scores, nprobe - 1)[:nprobe]) if nprobe < self.lists else np.arange(self.lists)
        ranges: list[tuple[int, int]] = []
        for a, b in zip(self.offsets[best], self.offsets[best + 1]):
            if b <= a:
                continue
            if ranges and ranges[-1][1] == a:
                ranges[-1] = (ranges[-1][0], int(b))
            else:
                ranges.append((int(a), int(b)))
        if self.tail:
            ranges.append((self.built_rows, len(self)))
        return ranges

    def _all_built(self, positions: np.ndarray) -> bool:
        """Whether no position is in the tail (then one ``np.take`` gathers for them all, a boolean mask otherwise)."""
        return not len(positions) or int(positions.max()) < self.built_rows

    def rows_of(self, positions: np.ndarray) -> np.ndarray:
        """Gallery rows of code positions (the tail's positions are their rows)."""
        positions = np.asarray(positions, dtype=np.int64)
        if self._all_built(positions):
            return np.take(np.asarray(self.row_of), positions).astype(np.int64)
        inside = positions < self.built_rows
        out = positions.copy()
        out[inside] = self.row_of[positions[inside]]
        return out

    def candidates(self, query: np.ndarray, k: int, nprobe: int | None = None, keep: int | None = None) -> np.ndarray:
        """Gallery rows (sorted) to re-score exactly: the shortlist of the probed lists and the tail."""
        d = self.direction(query)
        qcode = bits.encode(d[None], np.zeros(self.dim, np.float32))[0]
        ranges = self.probed(d, nprobe)
        total = sum(b - a for a, b in ranges)
        dist = np.empty(total, dtype=np.int32)
        starts = np.cumsum([0] + [b - a for a, b in ranges])

        codes = np.asarray(self.codes)

        def scan(chunk: list[int]) -> None:  # these ranges' distances, written in place
            bits.hamming_blocks([(codes[a:b], dist[at:at + b - a]) for (a, b), at in
                                 ((ranges[i], starts[i]) for i in chunk)], qcode)

        parallel = bits._WORKERS > 1 and total >= PARALLEL_FROM
        if parallel:  # ranges cut into parts of about equal rows, taken by whichever worker is free
            cuts = np.searchsorted(starts[1:], np.linspace(0, total, PARTS + 1)[1:-1])
            list(bits._pool().map(scan, [c.tolist() for c in np.split(np.arange(len(ranges)), cuts) if len(c)]))
        else:
            scan(list(range(len(ranges))))
        first = min(total, FIRST_STAGE_PER_SHORTLIST * keep if keep else first_stage(k, len(self)))
        m = keep or shortlist(k, len(self))
        near = _positions(bits.nearest(dist, first, self.width * 8), ranges, starts)
        if len(near) > m:
            if parallel and len(near) >= 2 * PARTS * 1024:
                parts = np.array_split(near, PARTS)
                scores = np.concatenate(list(bits._pool().map(lambda part: self.estimates(part, d, query), parts)))
            else:
                scores = self.estimates(near, d, query)
            near = near[np.argpartition(-scores, m - 1)[:m]]
        return np.sort(self.rows_of(near))

    def estimates(self, positions: np.ndarray, d: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Estimated ``query . x`` of the rows at ``positions`` (RaBitQ's estimator on the sign codes): with
        ``s = sign(x - mean)`` and the query direction ``d`` (the query less ``a`` times the mean),
        ``q . x = d . (x - mean) + a mean . x`` and ``d . (x - mean) ~ (d . s) |x - mean|^2 / |x - mean|_1``;
        the two per-row factors (``|x - mean|^2 / |x - mean|_1`` and ``mean . x``) are stored by the build.
        Without them (``CORRECTED`` False) the plain ``d . s`` of the bits index."""
        raw = bits.asymmetric_scores(bits.take_codes(self.codes, positions), d)  # 2 (q~ . b), q~ the quantised direction
        if not CORRECTED:
            return raw
        _planes, lo, step = bits.query_planes(d, self.width)
        levels = np.rint((d - lo) / step)
        dot = raw - float(self.dim * lo + step * levels.sum())  # q~ . (2b - 1)
        f = self._factors_of(positions)
        norm2 = float(self.mean @ self.mean)
        a = float(np.asarray(query, np.float32) @ self.mean) / norm2 if norm2 > 0 else 0.0
        return dot * f[:, 0] + a * f[:, 1]

    def _factors_of(self, positions: np.ndarray) -> np.ndarray:
        """The two stored factors (float32 (len, 2)) of the rows at ``positions``, the tail's the medians: one
        ``np.take`` when no position is in the tail (a boolean-mask gather took three times as long)."""
        if self._all_built(positions):
            return np.take(np.asarray(self.factors), positions, axis=0)
        inside = positions < self.built_rows
        f = np.empty((len(positions), 2), dtype=np.float32)
        f[inside] = self.factors[positions[inside]]
        f[~inside] = self._tail_factors
        return f

    def search(self, query: np.ndarray, k: int, nprobe: int | None = None, keep: int | None = None) -> SearchResult:
        from .ann import rerank

        k = min(k, len(self))
        if k <= 0:
            return SearchResult(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        query = np.asarray(query, dtype=np.float32)
        rows = self.candidates(query, k, nprobe, keep)
        return rerank(self.vectors, query, rows, k, lambda r, q: bits.exact_scores(self.vectors, r, q))

    # -- extending ------------------------------------------------------------------------------
    def add(self, vectors, start_row: int) -> None:
        """Append rows ``start_row ..`` to the unpartitioned tail (their codes, centred on the built mean)."""
        if start_row != len(self):
            raise ValueError(f"rows must be added in order: expected {len(self)}, got {start_row}")
        at = self.header["sections"]["codes"] + start_row * self.width
        bits.write_code_blocks(self.path, at, (bits.encode(vectors[s:s + _BLOCK], self.mean)
                                               for s in range(0, len(vectors), _BLOCK)))
        self._load(self.path)


def build(vectors, dim: int, path: Path, lists: int | None = None, progress=None, seed: int = 0) -> dict:
    """Write ``path``: k-means lists of every row of ``vectors`` and their codes in list order (atomic:
    written beside, then renamed). Returns what was built (rows, lists, seconds per stage)."""
    import time

    say = progress or (lambda _m: None)
    n = len(vectors)
    lists = lists or n_lists(n)
    times = {}
    tick = time.perf_counter()
    sample = bits.spread_rows(vectors, max(MIN_TRAIN, TRAIN_PER_LIST * lists), dim)
    mean = bits.centre(sample, dim)
    times["sample_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    if lists > 1:
        say(f"training {lists} lists on {len(sample):,} rows")
        part = Partition.train(sample, lists, seed=seed)
    else:
        part = Partition(mean[None].copy(), mean[None].copy(), np.zeros(1, np.int64))
    lists = len(part.centres)
    del sample
    times["train_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    labels = np.empty(n, dtype=np.int32)
    codes = np.empty((n, bits.code_bytes(dim)), dtype=np.uint8)
    factors = np.empty((n, 2), dtype=np.float32)
    for s in range(0, n, _BLOCK):
        x = np.asarray(vectors[s:s + _BLOCK], dtype=np.float32)
        labels[s:s + len(x)] = part.assign(x) if lists > 1 else 0
        codes[s:s + len(x)] = bits.encode(x, mean)
        centred = x - mean
        factors[s:s + len(x), 0] = np.einsum("ij,ij->i", centred, centred) / np.maximum(np.abs(centred).sum(axis=1), 1e-12)
        factors[s:s + len(x), 1] = x @ mean
        if progress and (s // _BLOCK) % 16 == 0:
            say(f"assigned {s + len(x):,} of {n:,} rows")
    times["assign_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    order = np.argsort(labels, kind="stable").astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=lists))]).astype(np.int64)
    del labels
    where = _sections(dim, lists, n)
    text = json.dumps({"version": VERSION, "kind": "sign bits of (vector - mean) in k-means list order", "dim": dim,
                       "lists": lists, "built_rows": n, "sections": where}).encode()
    tmp = path.with_name(path.name + ".tmp")  # its own name: the other indexes build beside it
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(text + b"\n" + b" " * (HEADER_BYTES - len(text) - 1))
            for off, arr in ((where["mean"], mean), (where["centres"], part.centres.astype(np.float32)),
                             (where["offsets"], offsets), (where["row_of"], order),
                             (where["factors"], factors[order])):
                f.seek(off)
                f.write(np.ascontiguousarray(arr).tobytes())
            f.seek(where["codes"])
            for s in range(0, n, 1 << 20):
                f.write(codes[order[s:s + (1 << 20)]].tobytes())
            f.truncate(where["codes"] + n * bits.code_bytes(dim))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    finally:  # an error, a full disk or an interrupt leaves no partial file (hundreds of MB at 10M rows)
        tmp.unlink(missing_ok=True)
    times["write_s"] = time.perf_counter() - tick
    sizes = np.diff(offsets)
    return {"rows": n, "lists": lists, "largest_list": int(sizes.max()) if len(sizes) else 0, **times}


def needs_rebuild(index: IvfBitsIndex | None, n: int) -> bool:
    """A missing or unreadable file, one from another gallery state, or a tail grown past REBUILD_TAIL."""
    if index is None or len(index) > n:
        return True
    return (n - index.built_rows) > REBUILD_TAIL * max(index.built_rows, MIN_ROWS)


def _try_open(dim: int, vectors, path: Path) -> IvfBitsIndex | None:
    if not path.exists():
        return None
    try:
        return IvfBitsIndex(dim, vectors, path)
    except (ValueError, KeyError, TypeError, OSError, json.JSONDecodeError):
        return None  # another version or a damaged file: rebuilt


def is_current(gallery, n: int, dim: int) -> bool:
    """True when the gallery's ``index.ivf`` covers exactly its ``n`` rows and needs no rebuild (opening writes nothing)."""
    index = _try_open(dim, np.zeros((0, dim), np.float32), gallery.folder / IVF_FILE)
    return index is not None and len(index) == n and not needs_rebuild(index, n)


def open_ivf(gallery, vectors, dim: int, progress=None) -> IvfBitsIndex:
    """The gallery's bits-ivf index brought up to date with its ``vectors`` (built, extended or rebuilt)."""
    n = len(vectors)
    path = gallery.folder / IVF_FILE
    index = _try_open(dim, vectors, path)
    if needs_rebuild(index, n):
        build(vectors, dim, path, progress=progress)
        index = IvfBitsIndex(dim, vectors, path)
        gallery.save_meta("index_state", json.dumps({"backend": "bits-ivf", "count": n}))
    elif len(index) < n:
        for start in range(len(index), n, _BLOCK):  # a block at a time: an fp16/int8 file decodes per block
            index.add(vectors[start:min(n, start + _BLOCK)], start)
        gallery.save_meta("index_state", json.dumps({"backend": "bits-ivf", "count": n}))
    if n >= bits.PARALLEL_FROM:  # a big gallery: the vector file's pages mapped in the background (re-score reads)
        bits.prefault(vectors, wait=False)
        bits.prefault(index.codes, wait=False)
    return index
