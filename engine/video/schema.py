"""Gallery tables for video sources (gallery format 2) and the migration from format 1.

``videos``       one row per source video (by SHA-256): where it is, camera and clock, how far the
                 import got (``next_frame``: the first decoded frame not yet processed) and the
                 keyframe to seek to when resuming there.
``tracks``       one row per person track, gallery-wide id; ``status`` is ``open`` while the track
                 may still continue (an interrupted import), ``closed`` once its crops are chosen,
                 ``dropped`` when it was seen in too few frames to keep.
``track_boxes``  the box of a track in every sampled frame it was seen in.
``crops``        every gallery image cut from a video: its source video, frame, pts, wall-clock
                 time, box, track, detector and parameters, and its foreground mask.
``pending``      candidate crops of open tracks (PNG bytes), so an interrupted import loses nothing.

The video package owns these tables and their SQL; it runs it through the gallery's
``transaction``/``query``/``execute`` (engine/gallery/store.py opens and holds the connection, and
alone touches ``images``, ``sources``, ``skipped`` and ``meta``).
"""

from __future__ import annotations

from datetime import UTC

VIDEO_SCHEMA = """
CREATE TABLE IF NOT EXISTS videos (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL, root TEXT NOT NULL, rel_path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    camera TEXT, camera_from TEXT,
    start_time TEXT, time_from TEXT, clock_offset_s REAL NOT NULL DEFAULT 0,
    width INTEGER, height INTEGER, fps REAL, frames_declared INTEGER, duration_s REAL, codec TEXT,
    sample_fps REAL, detector TEXT, min_height INTEGER,
    status TEXT NOT NULL,               -- importing | complete | stopped
    next_frame INTEGER NOT NULL DEFAULT 0,
    resume_key_frame INTEGER, resume_key_pts INTEGER,
    frames_decoded INTEGER, note TEXT,
    background TEXT,                    -- gallery-relative PNG of the temporal-median background
    imported_at TEXT NOT NULL, completed_at TEXT
);
CREATE TABLE IF NOT EXISTS tracks (
    track_id INTEGER PRIMARY KEY,       -- gallery-wide, never reused
    video_sha256 TEXT NOT NULL REFERENCES videos(sha256),
    camera TEXT,
    first_frame INTEGER NOT NULL, last_frame INTEGER NOT NULL,
    first_time TEXT, last_time TEXT,
    status TEXT NOT NULL                -- open | closed | dropped (seen in too few frames: no crops)
);
CREATE INDEX IF NOT EXISTS tracks_video ON tracks(video_sha256);
CREATE TABLE IF NOT EXISTS track_boxes (
    track_id INTEGER NOT NULL REFERENCES tracks(track_id),
    frame INTEGER NOT NULL, pts REAL NOT NULL,
    x INTEGER NOT NULL, y INTEGER NOT NULL, w INTEGER NOT NULL, h INTEGER NOT NULL, score REAL,
    PRIMARY KEY (track_id, frame)
);
CREATE TABLE IF NOT EXISTS crops (
    sha256 TEXT PRIMARY KEY REFERENCES images(sha256),
    video_sha256 TEXT NOT NULL REFERENCES videos(sha256),
    track_id INTEGER NOT NULL REFERENCES tracks(track_id),
    frame INTEGER NOT NULL, pts REAL NOT NULL, time TEXT,
    x INTEGER NOT NULL, y INTEGER NOT NULL, w INTEGER NOT NULL, h INTEGER NOT NULL,
    score REAL, quality REAL,
    detector TEXT NOT NULL,             -- JSON: name, version, parameters
    png TEXT NOT NULL,                  -- gallery-relative path of the lossless crop
    mask TEXT                           -- gallery-relative path of the foreground mask (PNG, 0/255)
);
CREATE INDEX IF NOT EXISTS crops_track ON crops(track_id);
CREATE TABLE IF NOT EXISTS pending (
    track_id INTEGER NOT NULL REFERENCES tracks(track_id),
    frame INTEGER NOT NULL, pts REAL NOT NULL,
    x INTEGER NOT NULL, y INTEGER NOT NULL, w INTEGER NOT NULL, h INTEGER NOT NULL,
    score REAL, quality REAL, slot INTEGER NOT NULL,
    png BLOB NOT NULL, mask BLOB,
    PRIMARY KEY (track_id, slot)
);
"""

FORMAT_WITH_VIDEO = 2


def has_video_tables(gallery) -> bool:
    return gallery.has_table("crops")


def migrate(gallery) -> list[str]:
    """Bring a gallery to the current format; returns one sentence per step done (empty: nothing to do)."""
    from ..gallery.store import SCHEMA_VERSION

    steps: list[str] = []
    version = int(gallery.meta("schema_version") or 0)
    if version < FORMAT_WITH_VIDEO <= SCHEMA_VERSION:
        from datetime import datetime

        with gallery.transaction():
            for statement in VIDEO_SCHEMA.split(";"):
                if statement.strip():
                    gallery.execute(statement)
            gallery.set_meta("schema_version", str(FORMAT_WITH_VIDEO))
            gallery.set_meta(f"migrated_{version}_to_{FORMAT_WITH_VIDEO}",
                             datetime.now(UTC).isoformat(timespec="seconds"))
        steps.append(f"format {version} -> {FORMAT_WITH_VIDEO}: added the tables for video sources, person "
                     "tracks and crop provenance (videos, tracks, track_boxes, crops, pending); "
                     "no existing image, vector or source row was changed.")
    return steps
