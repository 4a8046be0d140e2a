"""The standing tamper matrix: every way of altering a case file that a probe tried, each must be
caught by ``verify`` with a message naming what changed, and verify must never crash.

The tamperer is the strongest one the threat model (docs/threat-model.md) names: they hold the case
file, the source code, sqlite3 and even the passphrase, but not the workstation's signing key. The
workstation's anchor journal is intact (it is on the workstation, not with the file).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from interreid.engine.casefile import CaseFile
from interreid.engine.casefile.audit import entry_hash
from interreid.engine.casefile.case import InterviewRecords, _row_hash
from interreid.engine.gallery.importer import import_sources
from interreid.engine.gallery.store import Gallery
from fake_embedders import BandColourTestEmbedder
from imagemaker import write_person
from rawcase import raw_connect

ROOT = Path(__file__).resolve().parent.parent
COLOURS = ["red", "blue", "green", "yellow", "black", "white", "purple", "orange"]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A case with two rounds, rankings, candidates, marks, a witness view and a report export, made
    on its own workstation; plus an older copy of it (for rollback)."""
    root = tmp_path_factory.mktemp("tamper")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INTERREID_WORKSTATION", str(root / "ws"))
        for i, c in enumerate(COLOURS):
            write_person(root / "crops" / f"p{i}.jpg", c, COLOURS[(i + 3) % len(COLOURS)], seed=i)
        with Gallery.create(root / "gallery", BandColourTestEmbedder.identity) as g:
            import_sources(g, BandColourTestEmbedder(), [root / "crops"])
            shas = g.shas()
            path = root / "case.case"
            with CaseFile.create(path, "Robbery", "Det. Smith", g, {"kind": "test"}) as case:
                rec = InterviewRecords(case)
                rec.save_ranking(0, "a man in red", np.arange(8), np.linspace(1, 0, 8))
                rec.save_candidates(1, [{"sha256": shas[i], "gallery_row": i, "rank": i + 1, "score": 0.5}
                                        for i in range(3)])
                rec.save_round({"round": 1, "suggested": "Trousers?", "asked": "Trousers?", "answer": "Blue.",
                                "questioner": "t", "rationale": "", "attribute": "lower", "kind": "d", "k": 8,
                                "suggested_at": "", "answered_at": ""})
                case.mark(shas[1], "possible", "similar jacket")
                shutil.copyfile(path, root / "older.case")  # an older copy, as a backup would hold
                rec.save_ranking(1, "a man in red, blue trousers", np.arange(8)[::-1], np.linspace(1, 0, 8))
                rec.save_round({"round": 2, "suggested": "Shoes?", "asked": "Shoes?", "answer": "White.",
                                "questioner": "t", "rationale": "", "attribute": "feet", "kind": "d", "k": 8,
                                "suggested_at": "", "answered_at": ""})
                case.mark(shas[2], "match", "same shoes")
                case.record_witness_view(shas[2], "shown at 14:02")
                case.log_event("report", "report.exported", {"path": "r.pdf", "sha256": "0" * 64, "format": "pdf"})
                assert case.verify().ok
    return root


@pytest.fixture
def case(template, tmp_path, monkeypatch):
    """A fresh copy of the template case, on a copy of its workstation."""
    shutil.copytree(template / "ws", tmp_path / "ws")
    monkeypatch.setenv("INTERREID_WORKSTATION", str(tmp_path / "ws"))
    path = tmp_path / "case.case"
    shutil.copyfile(template / "case.case", path)
    return path


def sql(path, *statements):
    conn = raw_connect(path)
    for s in statements:
        conn.execute(s)
    conn.commit()
    conn.close()


def audit_rows(conn):
    cur = conn.execute("SELECT * FROM audit ORDER BY seq")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur]


def append_forged(conn, event="mark.match", params=None, correct_hash=True):
    """Append an audit row as the source code would, but without the workstation's key."""
    last = audit_rows(conn)[-1]
    seq, params = last["seq"] + 1, params or {"note": "forged"}
    h = entry_hash(seq, last["ts"], last["actor"], "marks", event, params, "ok", last["hash"])
    conn.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?)",
                 (seq, last["ts"], last["actor"], "marks", event, json.dumps(params, sort_keys=True), "ok",
                  last["hash"], h if correct_hash else "f" * 64, None))


def recompute_chain(conn, from_seq=1):
    """Rewrite every row hash from ``from_seq`` on so the chain links again (signatures kept)."""
    prev = "0" * 64
    for r in audit_rows(conn):
        if r["seq"] >= from_seq:
            params = json.loads(r["params"])
            h = entry_hash(r["seq"], r["ts"], r["actor"], r["component"], r["event"], params, r["outcome"], prev)
            conn.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, r["seq"]))
            prev = h
        else:
            prev = r["hash"]


def relog_row(conn, table, row_id):
    """Make the audit log's row_sha256 for a data row match its (edited) contents."""
    cur = conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
    row = dict(zip([d[0] for d in cur.description], cur.fetchone()))
    for r in audit_rows(conn):
        p = json.loads(r["params"])
        if p.get("table") == table and p.get("id") == row_id:
            p["row_sha256"] = _row_hash(row)
            conn.execute("UPDATE audit SET params = ? WHERE seq = ?", (json.dumps(p, sort_keys=True), r["seq"]))


# -- the variants: (name, tamper(path), a word the problem must contain) -----------------------------
def delete_tail(n, tables=()):
    def f(path):
        conn = raw_connect(path)
        rows = audit_rows(conn)[-n:]
        for r in rows:
            p = json.loads(r["params"])
            if p.get("table") in tables:
                conn.execute(f"DELETE FROM {p['table']} WHERE id = ?", (p["id"],))
            conn.execute("DELETE FROM audit WHERE seq = ?", (r["seq"],))
        conn.commit()
        conn.close()
    return f


def forged_correct_hash(path):
    conn = raw_connect(path)
    append_forged(conn)
    conn.commit()
    conn.close()


def forged_wrong_hash(path):
    conn = raw_connect(path)
    append_forged(conn, correct_hash=False)
    conn.commit()
    conn.close()


def edit_answer_recompute(path):
    conn = raw_connect(path)
    conn.execute("UPDATE rounds SET answer = 'Green.' WHERE round = 1")
    relog_row(conn, "rounds", 1)
    recompute_chain(conn)
    conn.commit()
    conn.close()


def mark_to_excluded_forged(path):
    conn = raw_connect(path)
    conn.execute("UPDATE marks SET mark = 'excluded' WHERE mark = 'match'")
    mid = conn.execute("SELECT id FROM marks WHERE mark = 'excluded'").fetchone()[0]
    cur = conn.execute("SELECT * FROM marks WHERE id = ?", (mid,))
    row = dict(zip([d[0] for d in cur.description], cur.fetchone()))
    append_forged(conn, "mark.excluded", {"table": "marks", "id": mid, "row_sha256": _row_hash(row)})
    conn.commit()
    conn.close()


def recompute_with_own_key(path):
    """Edit an answer, then re-sign the whole recomputed chain with a key of the tamperer's own."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from interreid.engine.casefile.case import signed_message
    from interreid.engine.storage.keys import public_key_hex

    mine = Ed25519PrivateKey.generate()
    pub = public_key_hex(mine)
    conn = raw_connect(path)
    case_id = conn.execute("SELECT value FROM case_meta WHERE key = 'case_id'").fetchone()[0]
    conn.execute("UPDATE case_meta SET value = ? WHERE key = 'signing_public_key'", (pub,))
    conn.execute("UPDATE rounds SET answer = 'Green.' WHERE round = 1")
    relog_row(conn, "rounds", 1)
    mid = conn.execute("SELECT id FROM case_meta WHERE key = 'signing_public_key'").fetchone()[0]
    relog_row(conn, "case_meta", mid)
    for r in audit_rows(conn):
        p = json.loads(r["params"])
        if "public_key" in p:
            p["public_key"] = pub
            conn.execute("UPDATE audit SET params = ? WHERE seq = ?", (json.dumps(p, sort_keys=True), r["seq"]))
    recompute_chain(conn)
    for r in audit_rows(conn):
        conn.execute("UPDATE audit SET sig = ? WHERE seq = ?",
                     (mine.sign(signed_message(case_id, r["seq"], r["hash"])).hex(), r["seq"]))
    conn.commit()
    conn.close()


def swap_rows(path):
    conn = raw_connect(path)
    rows = conn.execute("SELECT * FROM audit ORDER BY seq").fetchall()
    conn.execute("DELETE FROM audit")
    rows[2], rows[3] = rows[3], rows[2]
    for new_seq, row in enumerate(rows, start=1):
        conn.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?)", (new_seq, *row[1:]))
    conn.commit()
    conn.close()


def _source(path, idx):  # a format-3 case cites the gallery manifest: the sources are the gallery's
    with CaseFile.open(path) as c:
        return c.gallery_snapshot()[idx][2]


def image_replaced(path):
    write_person(Path(_source(path, 2)), "white", "white", seed=99)


def image_deleted(path):
    os.remove(_source(path, 3))


def gallery_row_edited(path):
    """The gallery's own list edited: row 4 now names another image (the case cites the manifest)."""
    import sqlite3

    with CaseFile.open(path) as c:
        folder = Path(c.meta("gallery_path"))
    conn = sqlite3.connect(folder / "gallery.db")
    conn.execute("UPDATE images SET sha256 = ? WHERE row = 4", ("ab" * 32,))
    conn.commit()
    conn.close()


def data_variants():
    out = []
    edits = {"marks": "UPDATE marks SET note = 'x' WHERE id = 1",
             "rounds": "UPDATE rounds SET answer = 'Green.' WHERE id = 1",
             "rankings": "UPDATE rankings SET query = 'a woman' WHERE id = 1",
             "candidates": "UPDATE candidates SET score = 0.99 WHERE id = 1",
             "case_meta": "UPDATE case_meta SET value = 'Burglary' WHERE key = 'title'"}
    inserts = {"marks": "INSERT INTO marks(sha256, mark, note, at) VALUES ('ab', 'match', '', '')",
               "rounds": "INSERT INTO rounds(round, answer, state) VALUES (9, 'x', 'active')",
               "rankings": "INSERT INTO rankings(after_round, query, state) VALUES (9, 'x', 'active')",
               "candidates": "INSERT INTO candidates(round, position, sha256, state) VALUES (9, 1, 'ab', 'active')",
               "case_meta": "INSERT INTO case_meta(key, value) VALUES ('investigator', 'Mallory')",
               "gallery_images": "INSERT INTO gallery_images VALUES (99, 'ab', '/x.jpg')"}
    deletes = {"marks": "DELETE FROM marks WHERE id = 1", "rounds": "DELETE FROM rounds WHERE id = 1",
               "rankings": "DELETE FROM rankings WHERE id = 1", "candidates": "DELETE FROM candidates WHERE id = 2",
               "case_meta": "DELETE FROM case_meta WHERE key = 'investigator'"}
    for table in edits:
        out.append((f"edit {table}", lambda p, s=edits[table]: sql(p, s), table))
        out.append((f"insert into {table}", lambda p, s=inserts[table]: sql(p, s), table))
        out.append((f"delete from {table}", lambda p, s=deletes[table]: sql(p, s), table))
    # a format-3 case holds no image list of its own (it cites the gallery manifest): rows added to one
    out.append(("insert into gallery_images", lambda p: sql(p, inserts["gallery_images"]), "gallery images"))
    out.append(("edit the cited gallery manifest", lambda p: sql(
        p, "UPDATE case_meta SET value = '{\"head\": \"ab\", \"rows\": 8}' WHERE key = 'gallery_manifest'"),
        "case_meta"))
    out.append(("gallery's own image list edited", gallery_row_edited, "gallery's images"))
    return out


VARIANTS = [
    ("edited audit payload", lambda p: sql(p, "UPDATE audit SET params = '{\"note\": \"x\"}' WHERE seq = 5"),
     "audit row 5"),
    ("edited audit actor", lambda p: sql(p, "UPDATE audit SET actor = 'mallory' WHERE seq = 3"), "audit row 3"),
    ("deleted middle audit row", lambda p: sql(p, "DELETE FROM audit WHERE seq = 4"), "missing"),
    ("two audit rows swapped", swap_rows, "audit row"),
    ("forged row, wrong hash", forged_wrong_hash, "altered"),
    ("delete the last audit row (report export)", delete_tail(1), "cut from its end"),
    ("delete the last rows with their mark rows", delete_tail(3, ("marks", "witness_views")), "cut from its end"),
    ("delete the last rows with their round rows", delete_tail(5, ("marks", "witness_views", "rounds")),
     "cut from its end"),
    ("forged row, correct hash", forged_correct_hash, "signature"),
    ("edit an answer and recompute the chain", edit_answer_recompute, "signature"),
    ("mark match -> excluded plus one forged row", mark_to_excluded_forged, "signature"),
    ("recompute and re-sign the chain with the tamperer's own key", recompute_with_own_key, "recorded"),
    *data_variants(),
    ("image file replaced by another", image_replaced, "ALTERED"),
    ("image file deleted", image_deleted, "MISSING"),
    ("audit table dropped", lambda p: sql(p, "DROP TABLE audit"), "audit table is missing"),
    ("marks table dropped", lambda p: sql(p, "DROP TABLE marks"), "marks table is missing"),
]


@pytest.mark.parametrize("name, tamper, word", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_tamper_variant_is_caught_and_named(case, name, tamper, word):
    snapshot = {}
    with CaseFile.open(case) as c:  # image variants change shared files: put them back afterwards
        for _i, _sha, src in c.gallery_snapshot():
            snapshot[src] = Path(src).read_bytes()
        db = Path(c.meta("gallery_path")) / "gallery.db"
        snapshot[str(db)] = db.read_bytes()
    try:
        tamper(case)
        with CaseFile.open(case) as c:
            r = c.verify()
    finally:
        for src, data in snapshot.items():
            Path(src).write_bytes(data)
    lines = "\n".join(r.lines())
    assert not r.ok, f"{name}: not caught\n{lines}"
    assert word in lines, f"{name}: the message does not name it ({word!r})\n{lines}"


def test_rollback_to_an_older_copy_is_caught(case, template):
    shutil.copyfile(template / "older.case", case)  # the older copy is itself intact and signed
    with CaseFile.open(case) as c:
        r = c.verify(rehash_images=False)
    assert not r.ok and any("older copy" in p for p in r.anchor_problems), r.lines()


def test_untouched_copy_verifies(case):
    with CaseFile.open(case) as c:
        r = c.verify()
    assert r.ok, r.lines()
    assert r.anchors_checked > 0 and r.key_fingerprint


def test_cli_verify_on_a_damaged_case_reports_without_a_traceback(case):
    sql(case, "DROP TABLE audit", "DROP TABLE marks")
    out = subprocess.run([sys.executable, "-m", "interreid.engine.cli.main", "case", "verify", str(case)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert "audit table is missing" in out.stdout and "marks table is missing" in out.stdout
