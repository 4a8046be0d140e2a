"""vectors.f32: the gallery's vectors memory-mapped beside gallery.db, derived from its rows."""

from __future__ import annotations

import hashlib

import numpy as np


def _gallery(folder, n, seed=0):
    from interreid.engine.embedder import EmbedderIdentity
    from interreid.engine.gallery.store import Gallery

    g = Gallery.create(folder, EmbedderIdentity("test", "1", 8))
    _add(g, n, 0, seed)
    return g


def _add(g, n, start, seed):
    vec = np.random.default_rng(seed).standard_normal((n, 8)).astype(np.float32)
    g.add_synthetic_rows([hashlib.sha256(b"%d" % (start + i)).hexdigest() for i in range(n)], vec, "t.jpg")
    return vec


def test_vectors_are_memory_mapped_appended_and_repaired(tmp_path):
    from interreid.engine.gallery.store import VECTOR_FILE, Gallery

    g = _gallery(tmp_path / "g", 50)
    first = np.array(g.vectors())
    assert isinstance(g.vectors(), np.memmap) and first.shape == (50, 8)
    path = tmp_path / "g" / VECTOR_FILE
    assert path.stat().st_size == 50 * 8 * 4 and (path.stat().st_mode & 0o777) == 0o600
    more = _add(g, 30, 50, seed=1)  # an import appends: the file grows by the new rows only
    assert np.array_equal(g.vectors()[50:], more) and np.array_equal(g.vectors()[:50], first)
    assert path.stat().st_size == 80 * 8 * 4 and g.vector_file_matches()
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


def test_a_read_only_open_writes_no_vector_file(tmp_path):
    from interreid.engine.gallery.store import VECTOR_FILE, Gallery

    g = _gallery(tmp_path / "g", 20)
    g.close()
    assert not (tmp_path / "g" / VECTOR_FILE).exists()  # nothing read the vectors yet
    with Gallery.open(tmp_path / "g", read_only=True) as g:
        v = g.vectors()
        assert v.shape == (20, 8) and not isinstance(v, np.memmap)
    assert not (tmp_path / "g" / VECTOR_FILE).exists()
