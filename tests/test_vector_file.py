"""The gallery's vectors in a memory-mapped file beside gallery.db: from format 3 their only copy,
covered by block hashes (engine/gallery/vector_store.py); up to format 2 derived from the database."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vector_galleries import format2_gallery


def _gallery(folder, n, seed=0, fmt=None, old=False):
    from interreid.engine.embedder import EmbedderIdentity
    from interreid.engine.gallery.store import Gallery

    g = format2_gallery(folder, 8, fmt) if old else Gallery.create(folder, EmbedderIdentity("test", "1", 8),
                                                                   vector_format=fmt)
    _add(g, n, 0, seed)
    return g


def _add(g, n, start, seed):
    vec = np.random.default_rng(seed).standard_normal((n, 8)).astype(np.float32)
    g.add_synthetic_rows([hashlib.sha256(b"%d" % (start + i)).hexdigest() for i in range(n)], vec, "t.jpg")
    return vec


def _blob_bytes(folder) -> int:
    conn = sqlite3.connect(Path(folder) / "gallery.db")
    try:
        return conn.execute("SELECT COALESCE(SUM(LENGTH(vector)), 0) FROM images").fetchone()[0]
    finally:
        conn.close()


def _flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x10]))


# -- format 3: the file is the vectors' only copy ------------------------------------------------------
@pytest.mark.parametrize("fmt,tol", [("fp32", 0.0), ("fp16", 2e-3), ("int8", 0.02)])
def test_a_new_gallery_keeps_its_vectors_only_in_the_file(tmp_path, monkeypatch, fmt, tol):
    from interreid.engine.gallery import vector_store
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.gallery.vector_format import row_bytes

    monkeypatch.setattr(vector_store, "BLOCK_ROWS", 16)
    g = _gallery(tmp_path / "g", 40, fmt=fmt)
    more = _add(g, 25, 40, seed=1)  # an append that starts inside block 2 (rows 32-47)
    g.close()
    first = np.random.default_rng(0).standard_normal((40, 8)).astype(np.float32)
    assert _blob_bytes(tmp_path / "g") == 0  # no float32 copy in the database
    with Gallery.open(tmp_path / "g") as g:
        assert g.meta("schema_version") == "3" and g.vector_format == fmt
        v = np.asarray(g.vectors())
        assert v.shape == (65, 8) and np.abs(v - np.vstack([first, more])).max() <= tol + 1e-7
        assert g.vector_file.stat().st_size == 65 * row_bytes(fmt, 8)
        assert [r for (r,) in g.query("SELECT rows FROM vector_blocks ORDER BY block")] == [16, 16, 16, 16, 1]
        assert vector_store.problems(g) == [] and g.vector_file_matches()


def test_verify_names_the_rows_of_a_changed_byte(tmp_path, monkeypatch, capsys):
    from interreid.engine.cli.main import main
    from interreid.engine.gallery import vector_store
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.gallery.vector_format import row_bytes

    monkeypatch.setattr(vector_store, "BLOCK_ROWS", 16)
    _gallery(tmp_path / "g", 50, fmt="int8").close()
    assert main(["gallery", "verify", str(tmp_path / "g")]) == 0
    assert "matches the 4 block hashes" in capsys.readouterr().out
    _flip(tmp_path / "g" / "vectors.i8", row_bytes("int8", 8) * 20 + 3)  # a byte of row 20
    with Gallery.open(tmp_path / "g", read_only=True) as g:
        found = vector_store.problems(g)
    assert len(found) == 1 and "rows 16-31" in found[0] and "restore the gallery folder" in found[0]
    assert main(["gallery", "verify", str(tmp_path / "g")]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM: the vector file vectors.i8 differs from the hashes recorded at import in rows 16-31" in out
    assert "GALLERY FAILED VERIFICATION" in out


def test_an_append_refuses_to_hash_over_a_changed_last_block(tmp_path, monkeypatch):
    from interreid.engine.errors import GalleryError
    from interreid.engine.gallery import vector_store
    from interreid.engine.gallery.store import Gallery

    monkeypatch.setattr(vector_store, "BLOCK_ROWS", 16)
    _gallery(tmp_path / "g", 20).close()
    _flip(tmp_path / "g" / "vectors.f32", 32 * 17)  # row 17: in the last, partly filled block
    with Gallery.open(tmp_path / "g") as g:
        with pytest.raises(GalleryError, match="was changed after its rows 16-19 were imported"):
            _add(g, 5, 20, seed=2)
        assert len(g) == 20  # nothing added: the rows rolled back with the refusal
    assert (tmp_path / "g" / "vectors.f32").stat().st_size == 20 * 32


@pytest.mark.parametrize("damage", ["missing", "cut"])
def test_a_missing_or_cut_vector_file_is_one_sentence_and_loses_nothing(tmp_path, damage, capsys):
    from interreid.engine.cli.main import main
    from interreid.engine.errors import GalleryError
    from interreid.engine.gallery.store import Gallery

    _gallery(tmp_path / "g", 30).close()
    path = tmp_path / "g" / "vectors.f32"
    if damage == "missing":
        path.unlink()
    else:
        os.truncate(path, 32 * 29 + 5)
    db_before = (tmp_path / "g" / "gallery.db").read_bytes()
    with pytest.raises(GalleryError, match="restore the gallery folder .* from its backup, or re-import") as err:
        Gallery.open(tmp_path / "g")
    assert ("is missing" if damage == "missing" else "holds 29 of its 30 images' vectors") in str(err.value)
    with Gallery.open(tmp_path / "g", read_only=True) as g:  # what verify opens: the same sentence when read
        with pytest.raises(GalleryError, match="cannot be rebuilt from the database"):
            g.vectors()
    assert main(["search", "--gallery", str(tmp_path / "g"), "a red jacket"]) == 2
    err_text = capsys.readouterr().err.strip()
    assert len(err_text.splitlines()) == 1 and "Traceback" not in err_text and "from its backup" in err_text
    assert main(["gallery", "verify", str(tmp_path / "g")]) == 1
    assert (tmp_path / "g" / "gallery.db").read_bytes() == db_before  # nothing was rewritten
    assert not path.exists() if damage == "missing" else path.stat().st_size == 32 * 29 + 5


def test_an_import_that_dies_after_appending_leaves_a_tail_cut_back_on_open(tmp_path):
    from interreid.engine.gallery import vector_store
    from interreid.engine.gallery.store import Gallery

    first = np.asarray(_gallery(tmp_path / "g", 30).vectors()).copy()
    path = tmp_path / "g" / "vectors.f32"
    # a real crash: the process appends 10 rows to the file, then dies before its transaction commits
    code = ("import hashlib, os, numpy as np\n"
            "from interreid.engine.gallery.store import Gallery\n"
            f"g = Gallery.open({str(tmp_path / 'g')!r})\n"
            "with g.transaction():\n"
            "    g.add_synthetic_rows([hashlib.sha256(b'x%d' % i).hexdigest() for i in range(10)],\n"
            "                         np.ones((10, 8), np.float32), 't.jpg')\n"
            "    os._exit(9)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 9
    assert path.stat().st_size == 40 * 32  # the file got the rows; the database did not
    with Gallery.open(tmp_path / "g") as g:
        assert len(g) == 30 and path.stat().st_size == 30 * 32  # cut back to the committed rows
        assert np.array_equal(g.vectors(), first) and vector_store.problems(g) == []
        with pytest.raises(RuntimeError):  # an exception inside the transaction: rows and file tail undone
            with g.transaction():
                _add(g, 5, 30, seed=3)
                raise RuntimeError("stop")
        assert len(g) == 30 and path.stat().st_size == 35 * 32
        more = _add(g, 3, 30, seed=4)  # the next append overwrites the stale tail
        assert path.stat().st_size == 33 * 32 and np.array_equal(g.vectors()[30:], more)
        assert vector_store.problems(g) == []
    with Gallery.open(tmp_path / "g", read_only=True) as g:  # a read-only open maps the committed rows only
        assert g.vectors().shape == (33, 8)


def test_a_newer_gallery_format_is_refused(tmp_path):
    from interreid.engine.errors import GalleryError
    from interreid.engine.gallery.store import Gallery

    g = _gallery(tmp_path / "g", 3)
    with g.transaction():
        g.set_meta("schema_version", "4")
    g.close()
    with pytest.raises(GalleryError, match=r"newer interreid \(format 4\); update interreid"):
        Gallery.open(tmp_path / "g")


# -- format 2: the database's vector column is the source; the file is derived ------------------------------
def test_format2_vectors_are_memory_mapped_appended_and_repaired(tmp_path):
    from interreid.engine.gallery.store import VECTOR_FILE, Gallery

    g = _gallery(tmp_path / "g", 50, old=True)
    first = np.array(g.vectors())
    assert isinstance(g.vectors(), np.memmap) and first.shape == (50, 8)
    path = tmp_path / "g" / VECTOR_FILE
    assert path.stat().st_size == 50 * 8 * 4 and (path.stat().st_mode & 0o777) == 0o600
    more = _add(g, 30, 50, seed=1)  # an import appends: the file grows by the new rows only
    assert np.array_equal(g.vectors()[50:], more) and np.array_equal(g.vectors()[:50], first)
    assert path.stat().st_size == 80 * 8 * 4 and g.vector_file_matches()
    assert _blob_bytes(tmp_path / "g") == 80 * 8 * 4 and g.meta("schema_version") == "2"
    g.close()

    with open(path, "ab") as f:  # an import that wrote vectors but did not commit its rows
        f.write(b"\0" * 40)
    with Gallery.open(tmp_path / "g") as g:
        assert g.vectors().shape == (80, 8) and g.vector_file_matches()
    path.unlink()  # a gallery from before the file existed: rebuilt from the database
    with Gallery.open(tmp_path / "g") as g:
        assert np.array_equal(g.vectors()[50:], more) and g.vector_file_matches()
    with open(path, "r+b") as f:  # a tampered row is caught by the check against the database
        f.seek(8 * 4 * 3)
        f.write(np.ones(8, np.float32).tobytes())
    with Gallery.open(tmp_path / "g") as g:
        assert not g.vector_file_matches()


def test_a_read_only_open_of_a_format2_gallery_writes_no_vector_file(tmp_path):
    from interreid.engine.gallery.store import VECTOR_FILE, Gallery

    g = _gallery(tmp_path / "g", 20, old=True)
    g.close()
    assert not (tmp_path / "g" / VECTOR_FILE).exists()  # nothing read the vectors yet
    with Gallery.open(tmp_path / "g", read_only=True) as g:
        v = g.vectors()
        assert v.shape == (20, 8) and not isinstance(v, np.memmap)
    assert not (tmp_path / "g" / VECTOR_FILE).exists()


@pytest.mark.parametrize("fmt", ["fp32", "int8"])
def test_gallery_migrate_moves_a_format2_gallery_to_the_file_and_it_searches_the_same(tmp_path, monkeypatch,
                                                                                       capsys, fmt):
    from interreid.engine.cli.main import main
    from interreid.engine.gallery import vector_store
    from interreid.engine.gallery.index import open_index
    from interreid.engine.gallery.store import Gallery

    monkeypatch.setattr(vector_store, "BLOCK_ROWS", 16)
    g = _gallery(tmp_path / "g", 70, old=True, fmt=fmt)
    queries = np.random.default_rng(7).standard_normal((4, 8)).astype(np.float32)
    before = [open_index(g, "exact").search(q, 10) for q in queries]
    g.vectors()  # the derived file exists, as in any format-2 gallery that was searched
    name = g.vector_file.name
    g.close()
    with open(tmp_path / "g" / name, "r+b") as f:  # and is out of date: migrate rewrites it
        f.write(b"\0" * 8)
    assert _blob_bytes(tmp_path / "g") == 70 * 32
    from PIL import Image

    Image.new("RGB", (32, 64), (200, 30, 30)).save(tmp_path / "g" / "t.jpg")  # the rows' shared thumbnail
    assert main(["gallery", "migrate", str(tmp_path / "g")]) == 0
    out = capsys.readouterr().out
    assert f"format 2 -> 3: the vector file {name} is now the only copy of the 70 images' vectors" in out
    assert f"at {fmt} precision" in out and "5 block hashes" in out and "the database was compacted from" in out
    import re

    sizes = re.search(r"compacted from (.+?) to (.+?)\.", out)
    assert sizes and sizes.group(1) != sizes.group(2)  # the file really shrank (WAL checkpointed after VACUUM)
    assert _blob_bytes(tmp_path / "g") == 0
    with Gallery.open(tmp_path / "g") as g:
        assert g.meta("schema_version") == "3" and g.meta("migrated_2_to_3")
        after = [open_index(g, "exact").search(q, 10) for q in queries]
        assert vector_store.problems(g) == []
    for a, b in zip(before, after):
        assert np.array_equal(a.rows, b.rows) and np.allclose(a.scores, b.scores)
    assert main(["gallery", "migrate", str(tmp_path / "g")]) == 0
    assert "already in the current format; nothing changed" in capsys.readouterr().out


def test_gallery_migrate_refuses_a_format2_gallery_missing_vectors_and_changes_nothing(tmp_path, capsys):
    from interreid.engine.cli.main import main
    from interreid.engine.gallery.store import Gallery

    g = _gallery(tmp_path / "g", 12, old=True)
    g.vectors()
    g.close()
    file_before = (tmp_path / "g" / "vectors.f32").read_bytes()
    conn = sqlite3.connect(tmp_path / "g" / "gallery.db")
    with conn:
        conn.execute("UPDATE images SET vector = x'' WHERE row = 5")
    conn.close()
    assert main(["gallery", "migrate", str(tmp_path / "g")]) == 2
    err = capsys.readouterr().err
    assert "lacks the vectors of 1 of its images" in err and "its vectors were left as they were" in err
    assert (tmp_path / "g" / "vectors.f32").read_bytes() == file_before
    with Gallery.open(tmp_path / "g") as g:
        assert g.meta("schema_version") == "2" and g.meta("vectors_removed_uncompacted") is None
        assert not g.has_table("vector_blocks") or not g.query("SELECT 1 FROM vector_blocks")


def test_int8_rows_gathered_as_bytes_equal_numpy_records(tmp_path):
    """The round's re-score gathers int8 rows through a byte view (vector_format.take_records): the same
    records as numpy's own gather, in any order, repeated, reusing a buffer, and decoded the same."""
    from interreid.engine.gallery.bits_index import inner_products
    from interreid.engine.gallery.vector_format import QuantisedVectors, encode, take_records

    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((300, 24)).astype(np.float32)
    path = tmp_path / "v.i8"
    path.write_bytes(encode(vectors, "int8"))
    from interreid.engine.gallery.vector_format import open_mapped

    view = open_mapped(path, "int8", 300, 24)
    assert isinstance(view, QuantisedVectors)
    raw = view.raw
    rows = np.array([299, 0, 17, 17, 150, 3], dtype=np.int64)
    got = take_records(raw, rows)
    assert got.dtype == raw.dtype and np.array_equal(got["q"], raw[rows]["q"])
    assert np.array_equal(got["scale"], raw[rows]["scale"])
    buf = np.full((10, raw.dtype.itemsize), 255, dtype=np.uint8)
    again = take_records(raw, rows[:4], buf)
    assert np.array_equal(again["q"], raw[rows[:4]]["q"]) and np.shares_memory(again, buf)
    decoded = raw[rows]["q"].astype(np.float32) * raw[rows]["scale"][:, None]
    assert np.array_equal(view[rows], decoded)
    query = rng.standard_normal(24).astype(np.float32)
    many = rng.integers(0, 300, 700)  # more than one gather block
    expected = (raw[many]["q"].astype(np.float64) @ query) * raw[many]["scale"]
    assert np.allclose(inner_products(view, many, query), expected, rtol=1e-5, atol=1e-5)
