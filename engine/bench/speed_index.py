"""``bench speed`` rows for the vector file's precision and the index backends at a given size.

For each size and each synthetic model (``people``: persons of a few crops sharing attributes, with
20 description-like queries, synthetic_people.py; ``clusters``: the first generator, 20 held-out
rows as queries), 512-d, top-200.
The reference is exact search on the fp32 vectors (numpy matrix-vector + argpartition) in the same
run. Rows per size:

* exact search on the fp16 and the int8 vector file: search time, recall@200 against fp32 exact,
  and the bytes of the vector file (ratio = fp32 bytes / these bytes);
* each index backend (bits, hnswlib, usearch int8, FAISS IVF-PQ): build time, search time (ratio against
  fp32 exact), recall@200 against fp32 exact, and the bytes of the index as saved (what a
  workstation maps or loads; usearch and IVF-PQ also read the shortlist's rows from the vector file).

hnswlib is left out above ``HNSW_MAX_ROWS`` (its build at 1M takes hours on 2 cores; docs/scale.md
extrapolates from the sizes measured).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

HNSW_MAX_ROWS = 200_000
BACKENDS = ("bits", "hnsw", "usearch", "faiss-ivfpq")
MODELS = ("people", "clusters")


def _median_ms(fn, queries) -> float:
    out = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t0) * 1000)
    return float(np.median(out))


def _clustered_file(folder: Path, n: int, dim: int, seed: int) -> np.ndarray:
    """``n`` clustered vectors (as synthetic_vectors.clustered_vectors: clusters of 8 around random
    centres) written block by block to a file in ``folder`` and memory-mapped, so 1M x 512 rows need
    2 GB of disk, not 10 GB of memory while they are made."""
    from ..embedder import l2_normalise

    rng = np.random.default_rng(seed)
    centres = l2_normalise(rng.standard_normal((max(1, n // 8), dim)).astype(np.float32))
    out = np.lib.format.open_memmap(folder / "vectors.npy", mode="w+", dtype=np.float32, shape=(n, dim))
    for start in range(0, n, 65_536):
        m = min(n, start + 65_536) - start
        noise = rng.standard_normal((m, dim)).astype(np.float32) * (0.35 / np.sqrt(dim))
        out[start:start + m] = l2_normalise(centres[rng.integers(0, len(centres), m)] + noise)
    out.flush()
    return np.load(folder / "vectors.npy", mmap_mode="r")


def _people_file(folder: Path, n: int, dim: int, seed: int, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` people-model rows written block by block and memory-mapped, and ``n_queries`` descriptions."""
    from ..gallery.synthetic_people import PeopleModel

    model, rng = PeopleModel(dim, seed=seed), np.random.default_rng(seed)
    out = np.lib.format.open_memmap(folder / "vectors.npy", mode="w+", dtype=np.float32, shape=(n, dim))
    for start in range(0, n, 65_536):
        out[start:start + 65_536] = model.rows(rng, min(n, start + 65_536) - start)[0]
    out.flush()
    return np.load(folder / "vectors.npy", mmap_mode="r"), model.descriptions(rng, n_queries)


def _encoded_file(folder: Path, base: np.ndarray, fmt: str):
    """``base`` at precision ``fmt``, encoded block by block into a file and memory-mapped."""
    from ..gallery.vector_format import encode, open_mapped

    path = folder / f"vectors.{fmt}"
    with open(path, "wb") as f:
        for start in range(0, len(base), 65_536):
            f.write(encode(base[start:start + 65_536], fmt))
    return open_mapped(path, fmt, len(base), base.shape[1])


def _recall(found: list, truth: list[set], k: int) -> float:
    return float(np.mean([len(set(np.asarray(f.rows).tolist()) & t) / k for f, t in zip(found, truth)]))


def index_backend_rows(sizes=(10_000,), dim: int = 512, k: int = 200, n_queries: int = 20,
                       backends=BACKENDS, progress=print, on_rows=None, models=MODELS) -> list[dict]:
    """The rows above; ``on_rows`` (if given) also receives each batch as it is measured."""
    from ..gallery import ann
    from ..gallery.index import ExactIndex, HnswIndex
    from .speed import _row

    class _Rows(list):
        def __iadd__(self, batch):
            if on_rows is not None:
                on_rows(batch)
            return super().__iadd__(batch)

    rows = _Rows()
    for n in sizes:
        for model in models:
            with tempfile.TemporaryDirectory() as work:
                _one_size(Path(work), n, dim, k, n_queries, backends, progress, rows, ann, ExactIndex, HnswIndex, _row,
                          model)
    return list(rows)


def _one_size(work: Path, n, dim, k, n_queries, backends, progress, rows, ann, ExactIndex, HnswIndex, _row,
              model="clusters"):
    label = f"{n // 1000}k x {dim}-d, top-{k}" + ("" if model == "clusters" else f", {model}")
    group = "index backends"
    if model == "people":
        base, queries = _people_file(work, n, dim, seed=n, n_queries=n_queries)
    else:
        data = _clustered_file(work, n + n_queries, dim, seed=n)
        base, queries = data[:n], np.array(data[n:])
    exact = ExactIndex(dim)
    exact.add(base, 0)
    truth = [set(exact.search(q, k).rows.tolist()) for q in queries]
    ref_ms = _median_ms(lambda q: exact.search(q, k), queries)
    ref_bytes = base.nbytes
    rows += [_row(group, f"exact search, fp32 vector file, reference ({label})", ref_ms, "ms", 1.0),
             _row(group, f"fp32 vector file ({label})", ref_bytes / 1e6, "MB", 1.0)]
    for fmt in ("fp16", "int8"):
        progress(f"bench: exact search on the {fmt} vector file at {n} rows...")
        mapped = _encoded_file(work, base, fmt)
        raw = mapped.raw
        compact = ExactIndex(dim)
        compact.add(mapped, 0)
        ms = _median_ms(lambda q: compact.search(q, k), queries)
        recall = _recall([compact.search(q, k) for q in queries], truth, k)
        rows += [_row(group, f"exact search, {fmt} vector file ({label})", ms, "ms", ref_ms / ms),
                 _row(group, f"exact {fmt} recall@{k} vs fp32 exact ({label})", recall, "fraction"),
                 _row(group, f"{fmt} vector file ({label})", raw.nbytes / 1e6, "MB", ref_bytes / raw.nbytes)]
    for backend in backends:
        if backend == "hnsw" and n > HNSW_MAX_ROWS:
            progress(f"bench: hnswlib left out at {n} rows (build too slow; see docs/scale.md)")
            continue
        progress(f"bench: {backend} build and search at {n} rows...")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"index.{backend}"
            t0 = time.perf_counter()
            if backend == "hnsw":
                index = HnswIndex(dim, path, capacity=n)
                index.add(base, 0)
                index.save()
            elif backend == "bits":
                from ..gallery.bits_index import BitsIndex

                index = BitsIndex(dim, base, path)
                index.add(base, 0)
            elif backend == "bits-ivf":
                from ..gallery.ivf_index import IvfBitsIndex, build

                build(base, dim, path)
                index = IvfBitsIndex(dim, base, path)
            else:
                index = ann.build(backend, base, dim, path)
            build_s = time.perf_counter() - t0
            size = path.stat().st_size
            if backend == "usearch":  # searched as the gallery opens it: a memory-mapped view
                index = ann.UsearchIndex(dim, base, path, view=True)
            elif backend == "faiss-ivfpq":
                index = ann.IvfPqIndex(dim, base, path, mmap=True)
            ms = _median_ms(lambda q: index.search(q, k), queries)
            recall = _recall([index.search(q, k) for q in queries], truth, k)
            name = {"bits": "bits (sign codes + exact re-score)", "bits-ivf": "bits-ivf (the codes in k-means lists)",
                    "hnsw": "hnswlib", "usearch": "usearch int8",
                    "faiss-ivfpq": "FAISS IVF-PQ"}[backend]
            rows += [_row(group, f"{name} build ({label})", build_s, "s"),
                     _row(group, f"{name} search ({label})", ms, "ms", ref_ms / ms),
                     _row(group, f"{name} recall@{k} vs fp32 exact ({label})", recall, "fraction"),
                     _row(group, f"{name} index file ({label})", size / 1e6, "MB", ref_bytes / size)]
