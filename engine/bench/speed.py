"""``interreid bench speed``: throughput and latency, reported as ratios against a reference path.

Rows: gallery import throughput (lite engine, real JPEG files on disk), index search latency for
exact numpy vs hnswlib at 10k and 100k clustered vectors (and hnswlib's recall@200 against exact),
and, where the full engine is installed, CLIP embedding throughput for the PyTorch reference vs
ONNX fp32 / int8 (rows contributed by ``engine.bench.speed_clip``).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

Row = dict


def _row(group: str, name: str, value: float, unit: str, ratio: float | None = None, **extra) -> Row:
    return {"group": group, "name": name, "value": round(float(value), 4), "unit": unit,
            "ratio_vs_reference": None if ratio is None else round(float(ratio), 3), **extra}


def import_rows(n_images: int = 300) -> list[Row]:
    """Import throughput of the lite engine on ``n_images`` JPEG crops written to a temp folder."""
    from PIL import Image

    from ..embedder import create_embedder
    from ..session import import_into

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for i in range(n_images):
            arr = rng.integers(0, 255, (128, 64, 3), dtype=np.uint8)
            arr[:, :, i % 3] = (arr[:, :, i % 3] // 2 + 100).astype(np.uint8)
            Image.fromarray(arr).save(src / f"cam01_{i:05d}.jpg", quality=90)
        embedder = create_embedder("lite")
        t0 = time.perf_counter()
        import_into(Path(tmp) / "gallery", [src], embedder=embedder)
        elapsed = time.perf_counter() - t0
        t0 = time.perf_counter()
        import_into(Path(tmp) / "gallery", [src], embedder=embedder)  # resume: nothing new to read
        resume = time.perf_counter() - t0
    return [_row("import", f"lite import ({n_images} JPEG crops 128x64)", n_images / elapsed, "images/s"),
            _row("import", "re-run of the same import (resume check)", n_images / resume, "files/s")]


def encryption_rows(n_images: int = 200, rounds: int = 4) -> list[Row]:
    """The cost of encryption at rest: import and interview rounds, encrypted vs plain (the reference),
    and opening an encrypted case (scrypt). Uses a temporary workstation and passphrase, so the
    user's keys and anchor journal are not touched."""
    import os
    from contextlib import contextmanager

    from PIL import Image

    from ..casefile import CaseFile
    from ..embedder import create_embedder
    from ..engines import build_engine
    from ..gallery.importer import import_sources
    from ..gallery.store import Gallery
    from ..interview.loop import Interview
    from ..storage import keys

    @contextmanager
    def bench_keys(folder: Path):
        saved = {k: os.environ.get(k) for k in (keys.ENV_WORKSTATION, keys.ENV_KEY_FILE)}
        old = keys._passphrase
        os.environ[keys.ENV_WORKSTATION] = str(folder / "workstation")
        os.environ.pop(keys.ENV_KEY_FILE, None)
        keys.set_passphrase("bench passphrase, not a real one")
        try:
            yield
        finally:
            keys.set_passphrase(old)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    rng = np.random.default_rng(1)
    answers = ["Blue jeans.", "Black shoes.", "No hat.", "A backpack.", "Short hair.", "White top."]
    out: dict[bool, dict] = {}
    with tempfile.TemporaryDirectory() as tmp, bench_keys(Path(tmp)):
        src = Path(tmp) / "src"
        src.mkdir()
        for i in range(n_images):
            arr = rng.integers(0, 255, (128, 64, 3), dtype=np.uint8)
            arr[:64, :, i % 3] = 220
            Image.fromarray(arr).save(src / f"cam01_{i:05d}.jpg", quality=90)
        embedder = create_embedder("lite")
        for encrypt in (False, True):
            tag = "enc" if encrypt else "plain"
            with Gallery.create(Path(tmp) / f"g-{tag}", embedder.identity, encrypt=encrypt) as gallery:
                t0 = time.perf_counter()
                import_sources(gallery, embedder, [src])
                imp = time.perf_counter() - t0
                case_path = Path(tmp) / f"{tag}.case"
                CaseFile.create(case_path, "Bench", "bench", gallery, build_engine(gallery).identity(),
                                encrypt=encrypt).close()
                keys._derive.cache_clear()
                t0 = time.perf_counter()
                case = CaseFile.open(case_path)
                open_s = time.perf_counter() - t0
                with case:
                    iv = Interview(gallery, build_engine(gallery), case=case)
                    iv.start("a man in a red jacket")
                    t0 = time.perf_counter()
                    for a in answers[:rounds]:  # the suggested question, or a plain one when none is left
                        suggestion = iv.state.suggestion
                        iv.answer(a, asked=None if suggestion and suggestion.text else "What else do you remember?")
                    per_round = (time.perf_counter() - t0) / rounds
            out[encrypt] = {"import": n_images / imp, "round": per_round * 1000, "open": open_s * 1000}
    p, e = out[False], out[True]
    return [
        _row("encryption", f"import, plain gallery ({n_images} crops)", p["import"], "images/s", 1.0),
        _row("encryption", f"import, encrypted gallery + sealed thumbnails ({n_images} crops)", e["import"],
             "images/s", e["import"] / p["import"]),
        _row("encryption", "interview round, plain case (lite engine)", p["round"], "ms", 1.0),
        _row("encryption", "interview round, encrypted case and gallery", e["round"], "ms", p["round"] / e["round"]),
        _row("encryption", "open a plain case", p["open"], "ms", 1.0),
        _row("encryption", "open an encrypted case (scrypt n=2^15 key derivation)", e["open"], "ms",
             p["open"] / e["open"]),
    ]


def lite_rows(n_rows: int = 100_000) -> list[Row]:
    """Lite engine: scoring latency of a description over ``n_rows`` stored vectors."""
    from ..embedder import l2_normalise
    from ..lite.layout import DIM
    from ..lite.retriever import LiteRetriever

    rng = np.random.default_rng(0)
    vectors = l2_normalise(rng.random((n_rows, DIM)).astype(np.float32))
    retriever = LiteRetriever()
    query = "A man in a red jacket, blue jeans and white shoes, short dark hair."
    retriever.score(query, vectors[:10])
    lat = _latencies(lambda q: retriever.score(q, vectors), np.array([query] * 10, dtype=object))
    rows = [_row("lite", f"lite scoring of a description ({n_rows // 1000}k vectors)", np.median(lat), "ms",
                 p95_ms=round(float(np.percentile(lat, 95)), 3))]
    return rows + ranking_rows(retriever.score(query, vectors))


def ranking_rows(scores: np.ndarray) -> list[Row]:
    """Ranking a round's scores: the search verb's top K (argpartition) against a full stable sort."""
    from ..search import DEFAULT_DEPTH, top_rows

    n = len(scores)
    reps = np.zeros(10)
    lat_full = _latencies(lambda _q: np.lexsort((np.arange(n), -scores)), reps)
    lat_top = _latencies(lambda _q: top_rows(scores, DEFAULT_DEPTH), reps)
    med_full, med_top = np.median(lat_full), np.median(lat_top)
    label = f"{n // 1000}k lite scores"
    return [_row("lite", f"ranking: full stable sort, reference ({label})", med_full, "ms", 1.0),
            _row("lite", f"ranking: top-{DEFAULT_DEPTH} search verb ({label})", med_top, "ms", med_full / med_top)]


def _latencies(fn: Callable[[np.ndarray], object], queries: np.ndarray) -> np.ndarray:
    out = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t0) * 1000)
    return np.asarray(out)


def index_rows(sizes=(10_000, 100_000), dim: int = 512, k: int = 200, n_queries: int = 50) -> list[Row]:
    """Exact vs hnswlib search latency (median, p95) and hnswlib recall@k at each size."""
    from ..gallery.index import ExactIndex, HnswIndex
    from .synthetic_vectors import clustered_vectors

    rows: list[Row] = []
    for n in sizes:
        data = clustered_vectors(n + n_queries, dim, seed=n)
        base, queries = data[:n], data[n:]
        exact = ExactIndex(dim)
        exact.add(base, 0)
        t0 = time.perf_counter()
        hnsw = HnswIndex(dim, None, capacity=n)
        hnsw.add(base, 0)
        build_s = time.perf_counter() - t0
        lat_exact = _latencies(lambda q: exact.search(q, k), queries)
        lat_hnsw = _latencies(lambda q: hnsw.search(q, k), queries)
        recall = np.mean([len(set(exact.search(q, k).rows) & set(hnsw.search(q, k).rows)) / k for q in queries])
        label = f"{n // 1000}k x {dim}-d, top-{k}"
        med_e, med_h = np.median(lat_exact), np.median(lat_hnsw)
        rows += [
            _row("index", f"exact search median ({label})", med_e, "ms", 1.0, p95_ms=round(float(np.percentile(lat_exact, 95)), 3)),
            _row("index", f"hnswlib search median ({label})", med_h, "ms", med_e / med_h,
                 p95_ms=round(float(np.percentile(lat_hnsw, 95)), 3)),
            _row("index", f"hnswlib recall@{k} vs exact ({label})", recall, "fraction"),
            _row("index", f"hnswlib build ({label})", build_s, "s"),
        ]
    return rows


def run_speed(sizes=(10_000, 100_000), include_clip: bool = True, progress=print,
              video_frames: int = 200, round_sizes=(), index_sizes=(), index_backends=None) -> list[Row]:
    """All speed rows. ``ratio_vs_reference`` > 1 means faster than the reference path."""
    rows: list[Row] = []
    progress("bench: import throughput...")
    rows += import_rows()
    if video_frames:
        from .speed_video import video_rows

        progress("bench: video import (ours vs OpenCV VideoCapture + HOG on every frame)...")
        rows += video_rows(video_frames)
    progress("bench: encryption at rest (encrypted vs plain)...")
    rows += encryption_rows(60 if len(sizes) == 1 else 200)  # a quick run imports fewer crops
    rows += lite_rows()
    progress("bench: index latency (exact vs hnswlib)...")
    rows += index_rows(sizes)
    if index_sizes:
        from .speed_index import BACKENDS, index_backend_rows

        progress("bench: vector precision (fp16, int8) and index backends (usearch, FAISS IVF-PQ)...")
        rows += index_backend_rows(tuple(index_sizes), backends=index_backends or BACKENDS, progress=progress)
    if round_sizes:
        from .speed_round import round_rows

        progress("bench: interview rounds on synthetic galleries (ours vs brute force + full sort)...")
        rows += round_rows(tuple(round_sizes), progress=progress)
    if include_clip:
        try:
            from .speed_clip import clip_speed_rows  # full engine, when present
        except ImportError:
            clip_speed_rows = None
        if clip_speed_rows is not None:
            progress("bench: CLIP embedding (PyTorch reference vs ONNX fp32 / int8)...")
            rows += clip_speed_rows()
    return rows


def format_table(rows: list[Row]) -> str:
    lines = [f"{'benchmark':<62} {'value':>12} {'unit':<10} {'ratio':>7}"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        ratio = "" if r.get("ratio_vs_reference") is None else f"{r['ratio_vs_reference']:.2f}x"
        lines.append(f"{r['name'][:62]:<62} {r['value']:>12.4g} {r['unit']:<10} {ratio:>7}")
    return "\n".join(lines)
