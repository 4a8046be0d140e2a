"""fp16 / int8 vector files and the compressed index backends (usearch, FAISS IVF-PQ)."""

from __future__ import annotations

import numpy as np
import pytest

from interreid.engine.bench.synthetic_vectors import clustered_vectors
from vector_galleries import add_rows, gallery_of

RECALL_BOUND = 0.95
DIM = 64


def _recall(found, truth, k):
    return np.mean([len(set(f.rows) & set(t.rows)) / k for f, t in zip(found, truth)])


@pytest.mark.parametrize("fmt,bytes_per_row,tol", [("fp16", 2 * DIM, 2e-3), ("int8", DIM + 4, 2e-2)])
def test_compact_vector_files_round_trip_append_and_are_checked(tmp_path, fmt, bytes_per_row, tol):
    from interreid.engine.errors import GalleryError
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.gallery.vector_format import FILE_NAMES, QuantisedVectors

    data = clustered_vectors(300, DIM, seed=2)
    g = gallery_of(tmp_path / "g", data[:200], fmt)
    v = g.vectors()
    path = tmp_path / "g" / FILE_NAMES[fmt]
    assert isinstance(v, QuantisedVectors) and v.shape == (200, DIM)
    assert path.stat().st_size == 200 * bytes_per_row and not (tmp_path / "g" / "vectors.f32").exists()
    assert np.abs(np.asarray(v) - data[:200]).max() < tol  # decoded rows are close to the float32 ones
    q = data[5]
    assert np.allclose(v @ q, np.asarray(v) @ q, atol=1e-5) and np.allclose(v[[3, 7]], np.asarray(v)[[3, 7]])
    add_rows(g, data[200:], 200)  # an import appends the new rows to the compact file
    assert g.vectors().shape == (300, DIM) and path.stat().st_size == 300 * bytes_per_row
    assert np.abs(np.asarray(g.vectors())[200:] - data[200:]).max() < tol
    assert g.vector_file_matches() and g.info()["vector_format"] == fmt
    g.close()
    with open(path, "r+b") as f:  # one changed byte is caught by the check against the database
        f.seek(bytes_per_row * 17 + 3)
        byte = f.read(1)
        f.seek(bytes_per_row * 17 + 3)
        f.write(bytes([byte[0] ^ 0x01]))
    with Gallery.open(tmp_path / "g") as g:  # (against the block hashes recorded at import: the file is the only copy)
        assert g.vector_format == fmt and not g.vector_file_matches()
    path.unlink()  # the only copy is gone: one sentence, nothing rebuilt
    with pytest.raises(GalleryError, match="cannot be rebuilt from the database"):
        Gallery.open(tmp_path / "g")


def test_precision_is_fixed_at_creation_and_an_old_gallery_opens_as_fp32(tmp_path):
    from interreid.engine.errors import GalleryError
    from interreid.engine.gallery.store import VECTOR_FILE, Gallery
    from interreid.engine.embedder import EmbedderIdentity

    data = clustered_vectors(50, DIM, seed=4)
    g = gallery_of(tmp_path / "old", data)  # as every gallery before the setting: no vector_format
    assert g.meta("vector_format") is None
    g.close()
    with Gallery.open(tmp_path / "old") as g:
        assert g.vector_format == "fp32" and isinstance(g.vectors(), np.memmap)
        assert np.array_equal(g.vectors(), data) and (tmp_path / "old" / VECTOR_FILE).exists()
    with pytest.raises(GalleryError, match="chosen when a gallery is created"):
        Gallery.create(tmp_path / "old", EmbedderIdentity("test", "1", DIM), vector_format="int8")
    with Gallery.create(tmp_path / "old", EmbedderIdentity("test", "1", DIM), vector_format="fp32") as g:
        assert len(g) == 50  # asking for the precision it has is fine


@pytest.mark.parametrize("fmt", ["fp16", "int8"])
def test_exact_search_on_compact_vectors_keeps_the_top_k(fmt):
    from interreid.engine.gallery.index import ExactIndex
    from interreid.engine.gallery.vector_format import decode_bytes, encode

    n, k = 4000, 50
    data = clustered_vectors(n + 10, DIM, seed=5)
    base, queries = data[:n], data[n:]
    exact, compact = ExactIndex(DIM), ExactIndex(DIM)
    exact.add(base, 0)
    compact.add(_view(encode(base, fmt), fmt), 0)
    found = [compact.search(q, k) for q in queries]
    assert _recall(found, [exact.search(q, k) for q in queries], k) >= RECALL_BOUND
    decoded = decode_bytes(encode(base, fmt), fmt, DIM)
    for f, q in zip(found, queries):  # scores are those of the stored rows, best first
        assert np.allclose(f.scores, decoded[f.rows] @ q, atol=1e-5) and np.all(np.diff(f.scores) <= 0)


def _view(data: bytes, fmt):
    from interreid.engine.gallery.vector_format import QuantisedVectors, record_dtype

    dtype = record_dtype(fmt, DIM)
    raw = np.frombuffer(data, dtype=dtype) if fmt == "int8" else np.frombuffer(data, dtype=dtype.base).reshape(-1, DIM)
    return QuantisedVectors(raw, fmt, DIM)


@pytest.mark.parametrize("backend", ["usearch", "faiss-ivfpq"])
def test_compressed_backends_find_the_exact_top_k_with_exact_scores(tmp_path, backend):
    pytest.importorskip("usearch" if backend == "usearch" else "faiss")
    from interreid.engine.gallery.index import ExactIndex, open_index

    n, k = 3000, 50
    data = clustered_vectors(n + 200 + 10, DIM, seed=6)
    queries = data[-10:]
    g = gallery_of(tmp_path / "g", data[:n])
    g.set_index_backend(backend)
    index = open_index(g)
    assert index.backend == backend and len(index) == n
    exact = ExactIndex(DIM)
    exact.add(data[:n], 0)
    truth = [exact.search(q, k) for q in queries]
    found = [index.search(q, k) for q in queries]
    assert _recall(found, truth, k) >= RECALL_BOUND
    for f, q in zip(found, queries):  # the returned scores are the exact cosines of the returned rows
        assert np.allclose(f.scores, data[f.rows] @ q, atol=1e-5)
    saved = sorted(p.name for p in (tmp_path / "g").iterdir() if p.name.startswith("index."))
    assert saved and all(not p.endswith(".tmp") for p in saved)
    add_rows(g, data[n:n + 200], n)  # an import extends the saved index with the new rows
    index = open_index(g)
    assert len(index) == n + 200
    hit = index.search(data[n + 150], 1)
    assert hit.rows[0] == n + 150 and hit.scores[0] == pytest.approx(1.0, abs=1e-5)
    g.close()


def test_compressed_backend_over_an_int8_gallery(tmp_path):
    pytest.importorskip("usearch")
    from interreid.engine.gallery.index import open_index

    data = clustered_vectors(1000, DIM, seed=7)
    g = gallery_of(tmp_path / "g", data, "int8")
    g.set_index_backend("usearch")
    res = open_index(g).search(data[42], 5)
    assert res.rows[0] == 42 and np.allclose(res.scores, np.asarray(g.vectors())[res.rows] @ data[42], atol=1e-5)
    g.close()


def test_import_cli_takes_the_precision_and_the_index(tmp_path, crops_dir):
    from interreid.engine.cli.main import main
    from interreid.engine.gallery.store import Gallery

    assert main(["gallery", "import", str(crops_dir), "--gallery", str(tmp_path / "g"), "--plain",
                 "--vectors", "fp16", "--index", "exact"]) == 0
    with Gallery.open(tmp_path / "g") as g:
        assert g.vector_format == "fp16" and g.meta("index_backend") == "exact"
        assert (tmp_path / "g" / "vectors.f16").exists() and g.vector_file_matches()
    with pytest.raises(SystemExit) as exc:
        main(["gallery", "import", str(crops_dir), "--gallery", str(tmp_path / "h"), "--vectors", "fp8"])
    assert exc.value.code == 2


def test_bench_rows_report_recall_size_and_ratios():
    pytest.importorskip("usearch")
    pytest.importorskip("faiss")
    from interreid.engine.bench.speed_index import index_backend_rows

    rows = {r["name"]: r for r in index_backend_rows((2000,), dim=DIM, k=20, n_queries=5,
                                                      backends=("hnsw", "usearch", "faiss-ivfpq"), progress=lambda m: None)}
    label = f"2k x {DIM}-d, top-20"
    assert rows[f"fp16 vector file ({label})"]["ratio_vs_reference"] == 2.0
    assert rows[f"int8 vector file ({label})"]["ratio_vs_reference"] == pytest.approx(4 * DIM / (DIM + 4), abs=1e-3)
    for name in ("exact fp16", "exact int8", "hnswlib", "usearch int8", "FAISS IVF-PQ"):
        assert rows[f"{name} recall@20 vs fp32 exact ({label})"]["value"] >= 0.9, name
    assert rows[f"usearch int8 build ({label})"]["value"] > 0 and rows[f"FAISS IVF-PQ index file ({label})"]["value"] > 0


def test_an_interview_runs_on_an_int8_lite_gallery(tmp_path, crops_dir):
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview
    from interreid.engine.session import import_into

    import_into(tmp_path / "g8", [crops_dir], engine="lite", vectors="int8")
    import_into(tmp_path / "g32", [crops_dir], engine="lite")
    with Gallery.open(tmp_path / "g8") as g8, Gallery.open(tmp_path / "g32") as g32:
        assert g8.vector_format == "int8" and len(g8) == len(g32) == 12
        first = Interview(g8, build_engine(g8)).start("A person wearing a red top.")
        reference = Interview(g32, build_engine(g32)).start("A person wearing a red top.")
        assert set(first.rows[:3].tolist()) & set(reference.rows[:3].tolist())  # the int8 ranking keeps the best
