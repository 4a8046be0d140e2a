"""The gallery owns its schema and its connection: no SQL on its tables and no use of its
connection outside engine/gallery/store.py (so the database is opened and written in one place)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GALLERY_SQL = re.compile(r"\b(FROM|INTO|UPDATE|JOIN)\s+(images|sources|skipped|meta)\b", re.IGNORECASE)
GALLERY_CONN = re.compile(r"\bgallery\.conn\b|\bg\.conn\b")


def test_no_gallery_sql_or_connection_outside_the_store():
    offenders = []
    for top in ("engine", "desktop"):
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel == "engine/gallery/store.py":
                continue
            text = path.read_text(encoding="utf-8")
            for pattern in (GALLERY_SQL, GALLERY_CONN):
                offenders += [f"{rel}: {m.group(0)}" for m in pattern.finditer(text)]
    assert not offenders, offenders


def test_utc_now_lives_in_the_clock():
    offenders = [p.relative_to(ROOT).as_posix() for top in ("engine", "desktop") for p in (ROOT / top).rglob("*.py")
                 if "from ..gallery.store import utc_now" in p.read_text(encoding="utf-8")
                 or "from .store import Gallery, utc_now" in p.read_text(encoding="utf-8")]
    assert not offenders, offenders
