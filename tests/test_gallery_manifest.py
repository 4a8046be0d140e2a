"""The gallery manifest (gallery/manifest.py) and format-3 cases that cite it instead of copying the
gallery's image list."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from interreid.engine.casefile import CaseFile
from interreid.engine.gallery import manifest
from interreid.engine.gallery.store import Gallery


@pytest.fixture
def synthetic(tmp_path):
    from interreid.engine.bench.speed_round import build_synthetic_gallery

    build_synthetic_gallery(tmp_path / "g", 1500, "lite")
    return tmp_path / "g"


def _add(g, n, start):
    import hashlib

    rng = np.random.default_rng(start)
    g.add_synthetic_rows([hashlib.sha256(b"more %d" % i).hexdigest() for i in range(start, start + n)],
                         rng.random((n, g.embedder_identity.dim)).astype(np.float32) + 0.01, "thumbs/synthetic.jpg")


def test_citing_reads_only_rows_added_since_the_last_checkpoint(synthetic, monkeypatch):
    with Gallery.open(synthetic) as g:
        first = manifest.current(g)
        assert first["rows"] == 1500 and manifest.checkpoints(g) == [(1500, first["head"])]
        _add(g, 100, 0)
        read = []
        real = manifest._extend
        monkeypatch.setattr(manifest, "_extend", lambda gal, h, a, b: read.append((a, b)) or real(gal, h, a, b))
        second = manifest.current(g)
        assert read == [(1500, 1600)] and second["rows"] == 1600 and second["head"] != first["head"]
        assert manifest.verify(g, 1500, first["head"]) is None and manifest.verify(g, 1600, second["head"]) is None
        assert manifest.head_at(g, 1500) == first["head"]


def test_verify_names_an_edited_gallery_row(synthetic):
    with Gallery.open(synthetic) as g:
        cited = manifest.current(g)
    conn = sqlite3.connect(synthetic / "gallery.db")
    conn.execute("UPDATE images SET sha256 = ? WHERE row = 700", ("ab" * 32,))
    conn.commit()
    conn.close()
    with Gallery.open(synthetic, read_only=True) as g:
        assert "not those it recorded" in manifest.verify(g, cited["rows"], cited["head"])
        assert "fewer than" in manifest.verify(g, 5000, cited["head"])


def test_a_case_cites_the_manifest_searches_its_rows_and_verifies_synthetic_rows(synthetic, tmp_path):
    from interreid.engine.engines import build_engine
    from interreid.engine.interview.loop import Interview

    with Gallery.open(synthetic) as g:
        with CaseFile.create(tmp_path / "c.case", "Test", "Det", g, {"kind": "lite"}, encrypt=False) as case:
            assert case.held_rows() == 1500
            assert case.conn.execute("SELECT COUNT(*) FROM gallery_images").fetchone()[0] == 0
            _add(g, 50, 7)  # imported after the case was made: not searched until 'case extend'
            g.invalidate()
            iv = Interview(g, build_engine(g), case=case)
            state = iv.start("a man in a red jacket")
            assert state.rows.max() < 1500 and len(state.rows) == 1000
            assert case.extend_snapshot(g) == 50 and case.held_rows() == 1550
            result = case.verify()
            assert result.ok, result.lines()
            assert any("1550 gallery images have no source file (synthetic rows)" in n for n in result.notes)
            assert [r[1] for r in case.gallery_snapshot()] == g.shas()


def test_case_verify_names_the_gallery_rows_whose_vectors_changed(synthetic, tmp_path, capsys):
    from interreid.engine.cli.main import main
    from interreid.engine.gallery.vector_store import BLOCK_ROWS

    with Gallery.open(synthetic) as g:
        CaseFile.create(tmp_path / "c.case", "Test", "Det", g, {"kind": "lite"}, encrypt=False).close()
        rb = g.vectors().shape[1] * 4
    assert main(["case", "verify", str(tmp_path / "c.case")]) == 0
    assert "the gallery's vector file (the features its rankings are scored from) matches the hashes" in \
        capsys.readouterr().out
    with open(synthetic / "vectors.f32", "r+b") as f:  # one value of row 1000 (block 0 at 1500 rows)
        f.seek(rb * 1000)
        f.write(np.float32(0.5).tobytes())
    assert main(["case", "verify", str(tmp_path / "c.case")]) == 1
    out = capsys.readouterr().out
    assert f"in the gallery, the vector file vectors.f32 differs from the hashes recorded at import in rows " \
           f"0-{min(1500, BLOCK_ROWS) - 1:,}" in out and "CASE FAILED VERIFICATION" in out
    # the gallery changed, not the case: its audit log is not called broken (a court reader would read tampering)
    assert "chain intact" in out and "BROKEN" not in out and "the case file itself is intact" in out
    with CaseFile.open(tmp_path / "c.case") as case:
        result = case.verify()
    assert not result.ok and result.chain_ok and not result.data_problems and len(result.gallery_problems) == 1
    from interreid.engine.report.data import ReportData

    fake = ReportData.__new__(ReportData)
    fake.verification = result.as_dict()
    assert fake.overall == "FAILED VERIFICATION"
    fake.random_weights, fake.gallery_available = False, True
    first = fake.warnings()[0]
    assert first.startswith("The gallery this case searched has changed") and "vectors.f32" in first


def test_gallery_migrate_records_a_manifest_once(synthetic, capsys):
    from interreid.engine.cli.main import main

    conn = sqlite3.connect(synthetic / "gallery.db")  # as a gallery made before the manifest existed
    conn.execute("DROP TABLE manifest")
    conn.commit()
    conn.close()
    assert main(["gallery", "migrate", str(synthetic)]) == 0
    assert "recorded a manifest of its 1500 images" in capsys.readouterr().out
    assert main(["gallery", "migrate", str(synthetic)]) == 0
    assert "nothing changed" in capsys.readouterr().out


def test_cli_writes_a_synthetic_gallery_that_search_and_verify_read(tmp_path, capsys):
    from interreid.engine.cli.main import main

    folder = tmp_path / "syn"
    assert main(["gallery", "synthetic", str(folder), "--rows", "3000"]) == 0
    assert "synthetic lite-engine gallery of 3,000 rows" in capsys.readouterr().out
    with Gallery.open(folder) as g:
        assert len(g) == 3000 and g.vectors().shape == (3000, 46) and g.vector_file_matches()
        assert manifest.checkpoints(g)[-1][0] == 3000
    assert main(["search", "--gallery", str(folder), "--top", "5", "a man in a red jacket"]) == 0
    assert capsys.readouterr().out.strip()
    assert main(["gallery", "synthetic", str(folder), "--rows", "10"]) == 2
    assert "already holds a gallery" in capsys.readouterr().err


def test_a_similar_search_is_recorded_with_the_same_hashes_either_way(synthetic, tmp_path):
    from interreid.engine.similar import find_similar, record_similar

    with Gallery.open(synthetic) as g, CaseFile.create(tmp_path / "s.case", "T", "D", g, {"kind": "lite"},
                                                       encrypt=False) as case:
        result = find_similar(g, 10)
        record_similar(case, result, g)  # by row from the open gallery
        record_similar(case, result)  # from the case's list of the gallery's images
        logged = [e.params["results"] for e in case.audit_entries() if e.event == "similar.searched"]
        assert len(logged) == 2 and logged[0] == logged[1]
        assert logged[0][0] == g.shas()[int(result.rows[0])]
