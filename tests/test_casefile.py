"""Case file: creation, audit chain, tamper detection (edit, delete, reorder), image re-hashing."""

from __future__ import annotations

import numpy as np
import pytest

from rawcase import raw_connect
from interreid.engine.casefile import CaseFile
from interreid.engine.casefile.case import InterviewRecords
from interreid.engine.errors import CaseFileError
from interreid.engine.gallery.importer import import_sources
from interreid.engine.gallery.store import Gallery
from fake_embedders import BandColourTestEmbedder


@pytest.fixture
def gallery(tmp_path, crops_dir):
    g = Gallery.create(tmp_path / "gallery", BandColourTestEmbedder.identity)
    import_sources(g, BandColourTestEmbedder(), [crops_dir])
    yield g
    g.close()


@pytest.fixture
def case_path(tmp_path, gallery):
    path = tmp_path / "Fall 42 – Zeuge.case"
    with CaseFile.create(path, "Robbery at Main St", "Det. Smith", gallery, {"kind": "test"}) as case:
        rec = InterviewRecords(case)
        rec.save_ranking(0, "a man in red", np.arange(12), np.linspace(1, 0, 12))
        rec.save_round({"round": 1, "suggested": "Colour of trousers?", "asked": "What colour were his trousers?",
                        "answer": "Blue.", "questioner": "t", "rationale": "", "attribute": "lower", "kind": "d",
                        "k": 200, "suggested_at": "", "answered_at": ""})
        case.mark(gallery.shas()[3], "possible", "similar jacket")
    return path


def test_new_case_holds_metadata_and_intact_chain(case_path, gallery):
    with CaseFile.open(case_path) as case:
        meta = case.metadata()
        assert meta["title"] == "Robbery at Main St" and meta["investigator"] == "Det. Smith"
        from interreid.engine.gallery import manifest

        cited = manifest.current(gallery)  # format 3: the case cites the gallery manifest, copies no list
        assert case.gallery_manifest() == cited and cited["rows"] == 12
        assert meta["gallery_fingerprint"] == cited["head"]
        assert case.conn.execute("SELECT COUNT(*) FROM gallery_images").fetchone()[0] == 0
        assert [r[1] for r in case.gallery_snapshot()] == gallery.shas()
        entries = case.audit_entries()
        assert entries[0].seq == 1 and all(e.actor for e in entries)
        assert any(e.event == "case.created" for e in entries)
        result = case.verify()
        assert result.ok, result.lines()
        assert result.images_checked == 12


def _tamper(path, sql, *args):
    conn = raw_connect(path)
    conn.execute(sql, args)
    conn.commit()
    conn.close()


def test_edited_audit_row_detected(case_path):
    _tamper(case_path, "UPDATE audit SET actor = 'mallory' WHERE seq = 3")
    with CaseFile.open(case_path) as case:
        r = case.verify(rehash_images=False)
    assert not r.ok and any("audit row 3" in p and "altered" in p for p in r.chain_problems)


def test_deleted_audit_row_detected(case_path):
    _tamper(case_path, "DELETE FROM audit WHERE seq = 4")
    with CaseFile.open(case_path) as case:
        r = case.verify(rehash_images=False)
    assert any("missing (deleted)" in p for p in r.chain_problems)


def test_reordered_audit_rows_detected(case_path):
    conn = raw_connect(case_path)
    rows = conn.execute("SELECT * FROM audit ORDER BY seq").fetchall()
    conn.execute("DELETE FROM audit")
    rows[2], rows[3] = rows[3], rows[2]
    for new_seq, row in enumerate(rows, start=1):  # renumber so only the order betrays it
        conn.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?)", (new_seq, *row[1:]))
    conn.commit()
    conn.close()
    with CaseFile.open(case_path) as case:
        r = case.verify(rehash_images=False)
    assert not r.chain_ok and any("does not link" in p or "altered" in p for p in r.chain_problems)


def test_edited_data_row_and_deleted_mark_detected(case_path):
    _tamper(case_path, "UPDATE rounds SET answer = 'Black.' WHERE round = 1")
    _tamper(case_path, "DELETE FROM marks")
    with CaseFile.open(case_path) as case:
        r = case.verify(rehash_images=False)
    assert any("rounds row 1 was altered" in p for p in r.data_problems)
    assert any("marks row 1 was deleted" in p for p in r.data_problems)


def test_altered_and_missing_images_reported(case_path, gallery):
    src = [gallery.image(i).path for i in range(2)]
    with open(src[0], "ab") as f:
        f.write(b"x")
    import os

    os.remove(src[1])
    with CaseFile.open(case_path) as case:
        r = case.verify()
    assert [d["path"] for d in r.altered_images] == [src[0]]
    assert [d["path"] for d in r.missing_images] == [src[1]]
    assert r.chain_ok and not r.ok


def test_not_a_case_file_and_newer_version(tmp_path, case_path):
    bogus = tmp_path / "x.case"
    bogus.write_bytes(b"hello, this is not sqlite" * 10)
    with pytest.raises(CaseFileError, match="not an interreid case file"):
        CaseFile.open(bogus)
    _tamper(case_path, "INSERT INTO case_meta(key, value) VALUES ('schema_version', '7')")
    with pytest.raises(CaseFileError, match="newer interreid"):
        CaseFile.open(case_path)


def test_refuses_to_overwrite(case_path, gallery):
    with pytest.raises(CaseFileError, match="already exists"):
        CaseFile.create(case_path, "t", "i", gallery, {})


def test_locked_case_file_is_a_clear_error(case_path):
    blocker = raw_connect(case_path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(CaseFileError, match="in use"):
            case = CaseFile.open(case_path)
            case.conn.execute("PRAGMA busy_timeout = 100")
            case.mark("ab" * 32, "match")
    finally:
        blocker.rollback()
        blocker.close()
