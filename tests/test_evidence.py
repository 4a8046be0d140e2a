"""Encryption at rest, keys, the anchor journal, reports as anchors, migration of older cases, and
the same through the window (passphrase dialog, verification banner)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from interreid.engine.casefile import CaseFile
from interreid.engine.casefile.case import CASE_SCHEMA_VERSION
from interreid.engine.casefile.audit import GENESIS, entry_hash
from interreid.engine.errors import CaseFileError
from interreid.engine.gallery.importer import import_sources
from interreid.engine.gallery.store import Gallery
from interreid.engine.storage import is_encrypted, keys
from fake_embedders import BandColourTestEmbedder
from rawcase import raw_connect

ROOT = Path(__file__).resolve().parent.parent


def run(*args, stdin: str | None = None, env: dict | None = None):
    return subprocess.run([sys.executable, "-m", "interreid.engine.cli.main", *map(str, args)], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


@pytest.fixture
def gallery(tmp_path, crops_dir):
    g = Gallery.create(tmp_path / "gallery", BandColourTestEmbedder.identity)
    import_sources(g, BandColourTestEmbedder(), [crops_dir])
    yield g
    g.close()


def test_new_case_is_encrypted_private_and_unreadable_without_the_key(tmp_path, gallery, monkeypatch):
    path = tmp_path / "secret.case"
    CaseFile.create(path, "Robbery", "Det. Smith", gallery, {"kind": "test"}).close()
    data = path.read_bytes()
    assert is_encrypted(path) and b"Robbery" not in data and b"SQLite format 3" not in data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".secret.case*"))  # no temporary file left behind
    monkeypatch.setenv("INTERREID_KEY_FILE", str(tmp_path / "wrong.txt"))
    (tmp_path / "wrong.txt").write_text("not the passphrase\n")
    with pytest.raises(CaseFileError, match="another passphrase"):
        CaseFile.open(path)



def test_an_encrypted_case_cut_short_is_called_damaged_not_a_wrong_passphrase(tmp_path, gallery, capsys):
    """A case cut part-way through a page (an unfinished copy) does not open with the right passphrase either:
    it is said to be cut short (or not a case at all), in one sentence, not blamed on the passphrase."""
    from interreid.engine.cli.main import main
    from interreid.engine.errors import UserError

    path = tmp_path / "c.case"
    CaseFile.create(path, "Robbery", "Det. Smith", gallery, {"kind": "test"}).close()
    data = path.read_bytes()
    half = tmp_path / "half.case"
    half.write_bytes(data[:4096 * (len(data) // 8192) + 2048])
    with pytest.raises(UserError, match="cut short") as caught:
        CaseFile.open(half)
    assert "passphrase" not in str(caught.value)
    assert main(["case", "show", str(half)]) == 2
    err = capsys.readouterr().err
    assert "cut short" in err and "restore it from a backup copy" in err and "Traceback" not in err

def test_missing_key_without_a_terminal_is_one_sentence_and_no_prompt(tmp_path, gallery):
    path = tmp_path / "c.case"
    CaseFile.create(path, "Robbery", "Det. Smith", gallery, {"kind": "test"}).close()
    env = {k: v for k, v in os.environ.items() if k != "INTERREID_KEY_FILE"}
    out = subprocess.run([sys.executable, "-m", "interreid.engine.cli.main", "case", "show", str(path)], cwd=ROOT,
                         input="", capture_output=True, text=True, timeout=120, env={**env, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "INTERREID_KEY_FILE" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_plain_case_on_request_and_demo_style(tmp_path, gallery):
    path = tmp_path / "plain.case"
    CaseFile.create(path, "Robbery", "Det. Smith", gallery, {"kind": "test"}, encrypt=False).close()
    assert path.read_bytes().startswith(b"SQLite format 3") and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_rekey_changes_the_passphrase_and_is_audited(tmp_path, gallery, monkeypatch):
    path = tmp_path / "c.case"
    CaseFile.create(path, "Robbery", "Det. Smith", gallery, {"kind": "test"}).close()
    (tmp_path / "new.txt").write_text("a new and longer passphrase\n")
    out = run("case", "rekey", path, "--new-key-file", tmp_path / "new.txt", stdin="")
    assert out.returncode == 0, out.stderr
    assert "re-encrypted" in out.stdout
    with pytest.raises(CaseFileError):
        CaseFile.open(path)  # the old passphrase no longer opens it
    monkeypatch.setenv("INTERREID_KEY_FILE", str(tmp_path / "new.txt"))
    keys._signing_cache.clear()
    with CaseFile.open(path) as case:
        assert [e.event for e in case.audit_entries()][-1] == "case.rekeyed"
        assert case.verify(rehash_images=False).ok


def test_report_anchors_the_case_and_catches_a_cut_tail_elsewhere(tmp_path, gallery, monkeypatch):
    from interreid.engine.report import write_report

    path = tmp_path / "c.case"
    with CaseFile.create(path, "Robbery", "Det. Smith", gallery, {"kind": "test"}) as case:
        case.mark(gallery.shas()[0], "match", "same coat")
    report = write_report(path, tmp_path / "r.html")
    with CaseFile.open(path) as case:
        case.mark(gallery.shas()[1], "excluded")
    # another workstation: no journal for this case; only the report anchors it
    monkeypatch.setenv("INTERREID_WORKSTATION", str(tmp_path / "elsewhere"))
    with CaseFile.open(path) as case:
        assert case.verify(rehash_images=False, report=report).ok
    conn = raw_connect(path)  # cut the tail: the mark, the report export and the mark before it
    last = conn.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
    conn.execute("DELETE FROM audit WHERE seq > ?", (last - 3,))
    conn.execute("DELETE FROM marks")
    conn.commit()
    conn.close()
    with CaseFile.open(path) as case:
        plain = case.verify(rehash_images=False)
        checked = case.verify(rehash_images=False, report=report)
    assert plain.chain_ok  # without an anchor a cut tail looks whole (docs/threat-model.md says so)
    assert not checked.ok and any("report r.html recorded audit row" in p for p in checked.anchor_problems)
    out = run("case", "verify", path, "--report", report)
    assert out.returncode == 1 and "cut from its end" in out.stdout


def _downgrade_to_format_1(path: Path) -> None:
    """Rewrite a plain case as interreid wrote format 1: no signatures, no signing key, format '1', and
    its own copy of the gallery's image list (format 3 cites the gallery manifest instead)."""
    from interreid.engine.hashing import sha256_json

    conn = raw_connect(path)
    folder = conn.execute("SELECT value FROM case_meta WHERE key = 'gallery_path'").fetchone()[0]
    with Gallery.open(folder, read_only=True) as g:
        listed, fingerprint = g.snapshot(), g.fingerprint()
    conn.executemany("INSERT INTO gallery_images(idx, sha256, source_path) VALUES (?,?,?)", listed)
    conn.execute("UPDATE case_meta SET value = ? WHERE key = 'gallery_fingerprint'", (fingerprint,))
    conn.execute("DELETE FROM case_meta WHERE key IN ('signing_public_key', 'encrypted', 'gallery_manifest')")
    conn.execute("UPDATE case_meta SET value = '1' WHERE key = 'schema_version'")
    rows = conn.execute("SELECT seq, ts, actor, component, event, params, outcome FROM audit ORDER BY seq").fetchall()
    conn.execute("DELETE FROM audit")
    conn.execute("ALTER TABLE audit DROP COLUMN sig")
    from interreid.engine.casefile.case import _row_hash

    kept, prev, seq = [], GENESIS, 0
    for _s, ts, actor, comp, event, params, outcome in rows:
        p = json.loads(params)
        if p.get("key") in ("signing_public_key", "encrypted", "gallery_manifest"):
            continue
        if event == "case.created" and "gallery_manifest" in p:
            del p["gallery_manifest"]
            p["gallery_snapshot_sha256"] = sha256_json([list(r) for r in listed])
        if p.get("table") == "case_meta":
            cur = conn.execute("SELECT * FROM case_meta WHERE id = ?", (p["id"],))
            got = cur.fetchone()
            if got is None:
                continue
            p["row_sha256"] = _row_hash(dict(zip([d[0] for d in cur.description], got)))
        p.pop("encrypted", None)
        seq += 1
        h = entry_hash(seq, ts, actor, comp, event, p, outcome, prev)
        kept.append((seq, ts, actor, comp, event, json.dumps(p, sort_keys=True), outcome, prev, h))
        prev = h
    conn.executemany("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?)", kept)
    conn.commit()
    conn.close()


def test_format_1_case_opens_verifies_and_migrates_with_one_command(tmp_path, gallery):
    path = tmp_path / "old.case"
    CaseFile.create(path, "Robbery", "Det. Smith", gallery, {"kind": "test"}, encrypt=False).close()
    _downgrade_to_format_1(path)
    from interreid.engine.casefile.anchors import journal_path

    journal_path().unlink()  # format 1 had no anchor journal
    with CaseFile.open(path) as case:
        assert case.version == 1
        r = case.verify(rehash_images=False)
        assert r.ok, r.lines()
        assert any("earlier interreid (format 1)" in n for n in r.notes)
        with pytest.raises(CaseFileError, match="case migrate"):
            case.mark(gallery.shas()[0], "match")
    out = run("case", "migrate", path)
    assert out.returncode == 0, out.stderr
    assert "format 1 -> 4" in out.stdout and "signing key" in out.stdout
    with CaseFile.open(path) as case:
        case.mark(gallery.shas()[0], "match")
        r = case.verify(rehash_images=False)
        assert r.ok and not r.notes[:1] == ["earlier"], r.lines()
        assert any(e.event == "case.migrated" for e in case.audit_entries())
    assert "already in the current format" in run("case", "migrate", path).stdout


def test_case_continued_on_another_workstation_records_its_key(tmp_path, gallery, monkeypatch):
    path = tmp_path / "c.case"
    CaseFile.create(path, "Robbery", "Det. Smith", gallery, {"kind": "test"}).close()
    first_ws = Path(os.environ["INTERREID_WORKSTATION"])
    monkeypatch.setenv("INTERREID_WORKSTATION", str(tmp_path / "second"))
    with CaseFile.open(path) as case:
        case.mark(gallery.shas()[0], "match")
        assert [e.event for e in case.audit_entries()][-2] == "case.key_added"
        r = case.verify(rehash_images=False)
    assert r.ok and any("another workstation" in n for n in r.notes)
    monkeypatch.setenv("INTERREID_WORKSTATION", str(first_ws))  # back home: an unknown key is a problem ...
    with CaseFile.open(path) as case:
        r = case.verify(rehash_images=False)
    assert not r.ok and any("does not know" in p for p in r.signature_problems)
    second = json.loads((tmp_path / "second" / "signing-key.json").read_text())["public"]
    (first_ws / "trusted-keys.txt").write_text(second + "  second workstation\n")
    with CaseFile.open(path) as case:  # ... until that workstation's key is trusted here
        assert case.verify(rehash_images=False).ok


def test_signing_key_is_wrapped_with_the_passphrase_and_private(tmp_path):
    keys.signing_key()
    path = Path(os.environ["INTERREID_WORKSTATION"]) / "signing-key.json"
    record = json.loads(path.read_text())
    assert "wrapped" in record and "private" not in record
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_window_asks_for_the_passphrase_and_shows_verification(qtbot, tmp_path, crops_dir, monkeypatch):
    pytest.importorskip("pytestqt")
    from PySide6.QtCore import QSettings

    import interreid.desktop.passphrase as pp
    from interreid.desktop.main_window import MainWindow

    from interreid.engine.embedder import create_embedder
    from interreid.engine.engines import build_engine

    path = tmp_path / "c.case"
    embedder = create_embedder("lite")
    with Gallery.create(tmp_path / "lite-gallery", embedder.identity) as g:
        import_sources(g, embedder, [crops_dir])
        CaseFile.create(path, "Robbery", "Det. Smith", g, build_engine(g).identity()).close()
    passphrase = Path(os.environ["INTERREID_KEY_FILE"]).read_text().strip()
    monkeypatch.delenv("INTERREID_KEY_FILE")
    keys.set_passphrase(None)
    answers = [("", False), ("a wrong guess", True), (passphrase, True)]
    original = pp.ensure_passphrase
    monkeypatch.setattr("interreid.desktop.main_window.ensure_passphrase",
                        lambda parent, path=None, new=False: original(parent, path, new, ask=lambda: answers.pop(0)))
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.open_case(path)  # cancelled: nothing opened, one message
    assert not window.session.is_open and "needs the workstation passphrase" in window.banner.text()
    window.open_case(path)  # a wrong passphrase: one sentence in the window, nothing opened
    qtbot.waitUntil(lambda: "another passphrase" in window.banner.text(), timeout=60000)
    assert not window.session.is_open
    window.open_case(path)  # asked again (the wrong one is forgotten), and it opens
    qtbot.waitUntil(lambda: window.session.is_open and window.last_verification is not None, timeout=60000)
    assert window.last_verification.ok and window.last_verification.key_fingerprint and not answers
    said = window.statusBar().currentMessage()  # plain words for the investigator, no "audit chain"
    assert said.startswith("Case verified: its record is complete and unaltered") and "chain" not in said
    window.session.close()
    keys.set_passphrase(None)


def test_cli_import_encrypts_the_gallery_and_seals_thumbnails(tmp_path, crops_dir, capsys):
    from PIL import Image

    from interreid.engine.cli.main import main

    g = tmp_path / "g"
    assert main(["gallery", "import", str(crops_dir), "--gallery", str(g)]) == 0
    db = (g / "gallery.db").read_bytes()
    assert is_encrypted(g / "gallery.db") and str(crops_dir).encode() not in db
    assert stat.S_IMODE((g / "gallery.db").stat().st_mode) == 0o600
    thumbs = list((g / "thumbs").rglob("*.jpg"))
    assert len(thumbs) == 12 and all(not t.read_bytes().startswith(b"\xff\xd8") for t in thumbs)
    assert all(stat.S_IMODE(t.stat().st_mode) == 0o600 for t in thumbs)
    with Gallery.open(g) as gal:
        import io

        with Image.open(io.BytesIO(gal.thumbnail_bytes(0))) as im:
            assert im.format == "JPEG" and im.height > 0
        assert gal.info()["encrypted"]
    assert main(["gallery", "import", str(crops_dir), "--gallery", str(tmp_path / "p"), "--plain"]) == 0
    assert (tmp_path / "p" / "gallery.db").read_bytes().startswith(b"SQLite format 3")


def test_window_thumbnails_of_an_encrypted_gallery(qtbot, tmp_path, crops_dir):
    pytest.importorskip("pytestqt")
    from interreid.desktop.models.thumbnails import ThumbnailCache, gallery_thumb_path

    with Gallery.create(tmp_path / "g", BandColourTestEmbedder.identity, encrypt=True) as g:
        import_sources(g, BandColourTestEmbedder(), [crops_dir])
        shas = g.shas()
    cache = ThumbnailCache(lambda row: gallery_thumb_path(tmp_path / "g", shas[row]))
    image = cache.get(0)
    assert not image.isNull() and image.height() > 64  # the real thumbnail, not the grey placeholder


def test_window_offers_to_migrate_a_format_1_case(qtbot, tmp_path, crops_dir, monkeypatch):
    pytest.importorskip("pytestqt")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from interreid.desktop.main_window import MainWindow
    from interreid.engine.casefile.anchors import journal_path
    from interreid.engine.embedder import create_embedder
    from interreid.engine.engines import build_engine

    path = tmp_path / "old.case"
    embedder = create_embedder("lite")
    with Gallery.create(tmp_path / "lite-gallery", embedder.identity) as g:
        import_sources(g, embedder, [crops_dir])
        CaseFile.create(path, "Robbery", "Det. Smith", g, build_engine(g).identity(), encrypt=False).close()
    _downgrade_to_format_1(path)
    journal_path().unlink()
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.open_case(path)
    qtbot.waitUntil(lambda: window.session.is_open and window.session.case.version == CASE_SCHEMA_VERSION
                    and not window.session.busy,
                    timeout=60000)
    assert asked and "earlier version" in asked[0]
    qtbot.waitUntil(lambda: window.last_verification is not None and bool(window.last_verification.key_fingerprint),
                    timeout=60000)
    assert window.last_verification.ok, window.last_verification.lines()
    window.session.close()
    with CaseFile.open(path) as case:
        assert any(e.event == "case.migrated" for e in case.audit_entries())


def test_window_verifies_against_a_report(qtbot, tmp_path, crops_dir, monkeypatch):
    pytest.importorskip("pytestqt")
    from PySide6.QtCore import QSettings

    from interreid.desktop.main_window import MainWindow
    from interreid.engine.embedder import create_embedder
    from interreid.engine.engines import build_engine
    from interreid.engine.report import write_report

    path = tmp_path / "c.case"
    embedder = create_embedder("lite")
    with Gallery.create(tmp_path / "lite-gallery", embedder.identity) as g:
        import_sources(g, embedder, [crops_dir])
        with CaseFile.create(path, "Robbery", "Det. Smith", g, build_engine(g).identity()) as case:
            case.mark(g.shas()[0], "match")
    report = write_report(path, tmp_path / "r.html")
    conn = raw_connect(path)  # the report export's row cut off
    conn.execute("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
    conn.commit()
    conn.close()
    monkeypatch.setenv("INTERREID_WORKSTATION", str(tmp_path / "elsewhere"))  # no journal: only the report knows
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.open_case(path)
    qtbot.waitUntil(lambda: window.last_verification is not None, timeout=60000)
    assert window.last_verification.chain_ok  # on its own the cut does not show ...
    assert window.verify_report_action.isEnabled()
    window.last_verification = None
    window.verify_against_report(str(report))
    qtbot.waitUntil(lambda: window.last_verification is not None, timeout=60000)
    assert not window.last_verification.ok  # ... against the report it does
    assert "no record of exporting the report" in window.banner.text()
    window.session.close()


def test_gallery_rekey_reseals_database_and_thumbnails(tmp_path, crops_dir, capsys, monkeypatch):
    from interreid.engine.cli.main import main

    g = tmp_path / "g"
    assert main(["gallery", "import", str(crops_dir), "--gallery", str(g)]) == 0
    (tmp_path / "new.txt").write_text("the new gallery passphrase\n")
    assert main(["gallery", "rekey", str(g), "--new-key-file", str(tmp_path / "new.txt")]) == 0
    assert "12 thumbnails re-sealed" in capsys.readouterr().out
    assert main(["gallery", "info", str(g)]) == 2  # the old passphrase no longer opens it
    monkeypatch.setenv("INTERREID_KEY_FILE", str(tmp_path / "new.txt"))
    with Gallery.open(g) as gal:
        assert len(gal) == 12 and gal.thumbnail_bytes(3)[:2] == b"\xff\xd8"


def test_rekey_encrypts_a_plain_case_and_plain_decrypts(tmp_path, gallery, monkeypatch):
    path = tmp_path / "c.case"
    CaseFile.create(path, "Robbery", "Det. Smith", gallery, {"kind": "test"}, encrypt=False).close()
    out = run("case", "rekey", path, "--new-key-file", os.environ["INTERREID_KEY_FILE"], stdin="")
    assert out.returncode == 0, out.stderr
    assert is_encrypted(path) and stat.S_IMODE(path.stat().st_mode) == 0o600
    with CaseFile.open(path) as case:
        assert case.verify(rehash_images=False).ok
    out = run("case", "rekey", path, "--plain", stdin="")
    assert out.returncode == 0, out.stderr
    assert path.read_bytes().startswith(b"SQLite format 3")
    with CaseFile.open(path) as case:
        assert [e.event for e in case.audit_entries()][-1] == "case.rekeyed" and case.verify(rehash_images=False).ok
