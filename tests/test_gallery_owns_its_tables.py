"""The gallery owns its schema and its connection, so the database is opened and written in one place
(engine/gallery/store.py; the encryption at rest opens it there):

* only the store runs SQL on the gallery's own tables (images, sources, skipped, meta), touches its
  connection (``gallery.conn``) or opens ``gallery.db``;
* the video package owns its tables (videos, tracks, track_boxes, crops, pending): their SQL stays in
  engine/video/ and runs through ``Gallery.transaction``/``query``/``execute``; it reads and adds
  gallery images through the store's methods like every other caller.

SQL in this code base is written with upper-case keywords, which tells it from prose such as a help
line's "dialogues from images".
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GALLERY_SQL = re.compile(r"\b(FROM|INTO|UPDATE|JOIN|TABLE)\s+(images|sources|skipped|meta)\b")
GALLERY_CONN = re.compile(r"\bgallery\.conn\b|\bg\.conn\b|\bself\.conn\s*=\s*gallery\b")
OPENS_THE_DB = re.compile(r"sqlite3\.connect\([^)]*(gallery|\bdb\b)")


def _sources():
    for top in ("engine", "desktop"):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel != "engine/gallery/store.py":
                yield rel, path.read_text(encoding="utf-8")


def test_no_gallery_sql_or_connection_outside_the_store():
    offenders = [f"{rel}: {m.group(0)}" for rel, text in _sources()
                 for pattern in (GALLERY_SQL, GALLERY_CONN, OPENS_THE_DB) for m in pattern.finditer(text)]
    assert not offenders, offenders


def test_the_rule_catches_what_it_forbids():
    assert GALLERY_SQL.search('conn.execute("SELECT row FROM images WHERE sha256 = ?")')
    assert GALLERY_SQL.search('"SELECT i.row FROM crops c JOIN images i ON i.sha256 = c.sha256"')
    assert GALLERY_SQL.search('"INSERT OR REPLACE INTO skipped VALUES (?,?,?,?,?)"')
    assert GALLERY_CONN.search("with gallery.conn:")
    assert OPENS_THE_DB.search('conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)')
    assert not GALLERY_SQL.search('help="build dialogues from images or captions"')
    assert not GALLERY_SQL.search('gallery.query("SELECT frame FROM crops WHERE track_id = ?")')


def test_utc_now_lives_in_the_clock():
    offenders = [p.relative_to(ROOT).as_posix() for top in ("engine", "desktop") for p in (ROOT / top).rglob("*.py")
                 if "from ..gallery.store import utc_now" in p.read_text(encoding="utf-8")
                 or "from .store import Gallery, utc_now" in p.read_text(encoding="utf-8")]
    assert not offenders, offenders
