"""The precision of a gallery's vector file: fp32 (the default), fp16, or int8 with a scale per row.

The vector file beside ``gallery.db`` holds the gallery's vectors (from gallery format 3 their only copy,
covered by block hashes: vector_store.py; up to format 2 derived from the database's float32 vector
column); the precision is chosen when the gallery is created (setting
``vector_format``; a gallery without it is fp32, as every gallery made before this setting existed)
and each precision has its own file name, so a file is never read at the wrong precision:

* ``fp32`` -> ``vectors.f32``: float32 rows (4·D bytes a row).
* ``fp16`` -> ``vectors.f16``: float16 rows (2·D bytes a row).
* ``int8`` -> ``vectors.i8``:  records of D int8 values and one float32 scale (D + 4 bytes a row);
  the row is ``q * scale`` with ``scale = max|x| / 127``.

fp16 and int8 files are read through :class:`QuantisedVectors`, which behaves as a read-only float32
(N, D) array (``len``, ``shape``, indexing, ``@`` a query) while only the compact file is mapped:
``@`` decodes and scores the rows block by block, so a search never holds a float32 copy of the
gallery. ``numpy.asarray`` on it decodes every row (the rare paths that need them all).
"""

from __future__ import annotations

import numpy as np

FORMATS = ("fp32", "fp16", "int8")
DEFAULT_FORMAT = "fp32"
FILE_NAMES = {"fp32": "vectors.f32", "fp16": "vectors.f16", "int8": "vectors.i8"}
_BLOCK = 16_384  # rows decoded at a time by QuantisedVectors @ q (32 MB of float32 at 512-d)


def import_usearch():
    """usearch's index module, with FAISS loaded first where it is installed: FAISS's first index
    build segfaults in a process that loaded usearch before it (faiss-cpu 1.15 with usearch 2.26;
    seen in ``bench speed``), while the other order works."""
    try:
        import faiss  # noqa: F401  (see above: load order only)
    except ImportError:
        pass
    import usearch.index

    return usearch.index


def check_format(name: str) -> str:
    if name not in FORMATS:
        raise ValueError(f"unknown vector precision {name!r}; choose one of {', '.join(FORMATS)}")
    return name


def record_dtype(fmt: str, dim: int) -> np.dtype:
    """The numpy dtype of one row of the file."""
    if fmt == "fp32":
        return np.dtype((np.float32, (dim,)))
    if fmt == "fp16":
        return np.dtype((np.float16, (dim,)))
    return np.dtype([("q", np.int8, (dim,)), ("scale", np.float32)])


def row_bytes(fmt: str, dim: int) -> int:
    return record_dtype(check_format(fmt), dim).itemsize


def encode(vectors: np.ndarray, fmt: str) -> bytes:
    """The file bytes of float32 rows ``vectors`` (N, D) at precision ``fmt``."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if fmt == "fp32":
        return vectors.tobytes()
    if fmt == "fp16":
        return vectors.astype(np.float16).tobytes()
    check_format(fmt)
    rec = np.zeros(len(vectors), dtype=record_dtype("int8", vectors.shape[1]))
    peak = np.abs(vectors).max(axis=1) if vectors.size else np.zeros(len(vectors), np.float32)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    rec["q"] = np.clip(np.rint(vectors / scale[:, None]), -127, 127).astype(np.int8)
    rec["scale"] = scale
    return rec.tobytes()


def take_records(raw: np.ndarray, rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``raw[rows]`` for a structured (int8 + scale) array, gathered as plain bytes: numpy copies
    records of a structured dtype field by field, and 25,000 rows of 516 bytes took 13-14 ms that
    way against 4-5 ms as rows of bytes (10M-row file, pages in memory). ``out`` (uint8, at least
    len(rows) x itemsize) is reused when given. The result is a record array over the gathered bytes."""
    width = raw.dtype.itemsize
    flat = raw.view(np.uint8).reshape(len(raw), width)
    if out is None:
        buf = np.take(flat, rows, axis=0)
    else:
        buf = out[:len(rows)]
        np.take(flat, rows, axis=0, out=buf)
    return buf.view(raw.dtype).reshape(len(rows))


def open_mapped(path, fmt: str, n: int, dim: int):
    """The file's rows, memory-mapped read-only: a float32 array for fp32, else QuantisedVectors."""
    raw = np.memmap(path, dtype=record_dtype(fmt, dim).base if fmt != "int8" else record_dtype(fmt, dim),
                    mode="r", shape=(n, dim) if fmt != "int8" else (n,))
    return raw if fmt == "fp32" else QuantisedVectors(raw, fmt, dim)


def decode_bytes(data: bytes, fmt: str, dim: int) -> np.ndarray:
    """float32 rows from the file bytes ``data`` (tests, checks)."""
    raw = np.frombuffer(data, dtype=record_dtype(fmt, dim).base if fmt != "int8" else record_dtype(fmt, dim))
    if fmt != "int8":
        raw = raw.reshape(-1, dim)
    return np.asarray(QuantisedVectors(raw, fmt, dim)) if fmt != "fp32" else raw.copy()


class QuantisedVectors:
    """A read-only float32 view of fp16 or int8 rows (see the module docstring)."""

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, raw: np.ndarray, fmt: str, dim: int):
        self.raw = raw
        self.format = fmt
        self.dim = dim

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.raw), self.dim)

    @property
    def nbytes(self) -> int:
        """Bytes of the compact rows (what the search maps), not of a float32 copy."""
        return int(self.raw.nbytes)

    def __len__(self) -> int:
        return len(self.raw)

    def _decode(self, rows) -> np.ndarray:
        if self.format == "int8" and isinstance(rows, np.ndarray) and rows.ndim == 1 and rows.dtype.kind in "iu":
            part = take_records(self.raw, rows)
        else:
            part = self.raw[rows]
        if self.format == "fp16":
            return np.asarray(part, dtype=np.float32)
        return part["q"].astype(np.float32) * part["scale"][..., None]

    def __getitem__(self, key):
        if isinstance(key, tuple):  # (rows, columns...)
            rows = self._decode(key[0])
            return rows[key[1:]] if rows.ndim == 1 else rows[(slice(None),) + key[1:]]
        return self._decode(key)

    def __matmul__(self, other) -> np.ndarray:
        other = np.asarray(other, dtype=np.float32)
        n = len(self.raw)
        out = np.empty((n,) + other.shape[1:], dtype=np.float32)
        for start in range(0, n, _BLOCK):
            stop = min(n, start + _BLOCK)
            part = self.raw[start:stop]
            if self.format == "fp16":
                out[start:stop] = part.astype(np.float32) @ other
            else:
                scores = part["q"].astype(np.float32) @ other
                scale = part["scale"]
                out[start:stop] = scores * (scale if scores.ndim == 1 else scale[:, None])
        return out

    def top(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the k best rows for ``query`` by the stored (fp16 / int8) vectors, best first.

        usearch's exhaustive SIMD search over the mapped codes (no decode, no float32 copy) picks 2·k
        rows by cosine; they are re-scored from the decoded rows. Without usearch (the optional
        ``scale`` extra) every row is decoded and scored block by block."""
        from .index import top_k

        query = np.asarray(query, dtype=np.float32)
        n = len(self.raw)
        try:
            usearch = import_usearch()
            search, MetricKind = usearch.search, usearch.MetricKind
        except ImportError:
            search = None
        if search is None or n == 0 or k <= 0:
            found = top_k(self @ query, k)
            return found.rows, found.scores
        if self.format == "fp16":
            codes, q = self.raw, query.astype(np.float16)
        else:
            peak = float(np.abs(query).max()) or 1.0
            codes, q = self.raw["q"], np.rint(query * (127.0 / peak)).astype(np.int8)
        matches = search(codes, q, min(n, 2 * k), MetricKind.Cos, exact=True, threads=0)
        rows = np.unique(np.asarray(matches.keys, dtype=np.int64))
        rows = rows[(rows >= 0) & (rows < n)]
        scores = (self._decode(rows) @ query).astype(np.float32)
        order = np.lexsort((rows, -scores))[:k]
        return rows[order], scores[order]

    def __array__(self, dtype=None, copy=None):
        full = self._decode(slice(None)) if len(self.raw) else np.zeros((0, self.dim), np.float32)
        return full if dtype is None else full.astype(dtype, copy=False)

    def __iter__(self):
        for i in range(len(self.raw)):
            yield self._decode(i)


class DecodedRows:
    """One round's rows of the gallery's vectors, decoded once: ``vectors[rows]`` is read in one gather
    (one block decode of an fp16/int8 file) when the round starts, and the selector and the questioner,
    which read those rows again and again (the candidate pool, the top-k, each shown row), index this
    block instead of decoding row by row. Any row outside it is read from the gallery's vectors as
    before; ``numpy.asarray`` decodes every row of the file, as on the gallery's vectors (a round's own
paths never ask for it: tests/test_bits_index.py checks)."""

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, vectors, rows):
        self.base = vectors
        self.rows = np.unique(np.asarray(rows, dtype=np.int64).reshape(-1))
        self.block = (np.asarray(vectors[self.rows], dtype=np.float32) if len(self.rows)
                      else np.zeros((0, vectors.shape[1]), np.float32))

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.base.shape)

    @property
    def nbytes(self) -> int:
        return int(self.base.nbytes)

    def __len__(self) -> int:
        return len(self.base)

    def _positions(self, rows: np.ndarray) -> np.ndarray | None:
        at = np.searchsorted(self.rows, rows)
        inside = at < len(self.rows)
        if not inside.all() or not np.array_equal(self.rows[at], rows):
            return None
        return at

    def __getitem__(self, key):
        if isinstance(key, tuple):
            rows = self[key[0]]
            return rows[key[1:]] if rows.ndim == 1 else rows[(slice(None),) + key[1:]]
        if isinstance(key, (int, np.integer)) or (isinstance(key, np.ndarray) and key.dtype.kind in "iu") \
                or (isinstance(key, list) and all(isinstance(k, (int, np.integer)) for k in key)):
            rows = np.asarray(key, dtype=np.int64)
            at = self._positions(np.where(rows < 0, rows + len(self.base), rows))
            if at is not None:
                return self.block[at]
        return np.asarray(self.base[key], dtype=np.float32)

    def __matmul__(self, other) -> np.ndarray:
        return self.base @ other

    def __array__(self, dtype=None, copy=None):
        full = np.asarray(self.base)
        return full if dtype is None else full.astype(dtype, copy=False)


def round_view(vectors, rows):
    """The gallery's vectors as one round's selector and questioner read them: a DecodedRows block of
    ``rows`` for an fp16/int8 file, the (memory-mapped float32) vectors themselves otherwise."""
    return DecodedRows(vectors, rows) if isinstance(vectors, QuantisedVectors) else vectors
