"""Read video provenance back out of a gallery: per image, per track, per video (CLI, app, report)."""

from __future__ import annotations

import json
from pathlib import Path

from .schema import has_video_tables


def crop_provenance(gallery, sha256: str) -> dict | None:
    """Provenance of a gallery image cut from a video, or None for an imported image file."""
    if not has_video_tables(gallery):
        return None
    r = gallery.query_one(
        "SELECT c.video_sha256, v.path, c.frame, c.pts, c.time, c.x, c.y, c.w, c.h, c.track_id, c.score,"
        " c.detector, c.png, c.mask, v.camera, v.time_from, v.width, v.height FROM crops c JOIN videos v"
        " ON v.sha256 = c.video_sha256 WHERE c.sha256 = ?", (sha256,))
    if r is None:
        return None
    return {"video_sha256": r[0], "video_path": r[1], "frame": r[2], "pts": round(r[3], 6), "time": r[4],
            "bbox": [r[5], r[6], r[7], r[8]], "track": r[9], "score": round(r[10], 4) if r[10] is not None else None,
            "detector": json.loads(r[11]), "png": r[12], "mask": r[13], "camera": r[14], "time_from": r[15],
            "video_size": [r[16], r[17]]}


def list_images(gallery) -> list[dict]:
    """Every gallery image: sha256, source, camera, time, and its video provenance when it has one."""
    out = []
    cameras, stamps = gallery.row_metadata()
    for (row, sha, src), camera, ts in zip(gallery.snapshot(), cameras, stamps, strict=False):
        item = {"row": row, "sha256": sha, "source": src, "camera": camera, "time": ts}
        prov = crop_provenance(gallery, sha)
        if prov is not None:
            item.update({"video": prov["video_path"], "video_sha256": prov["video_sha256"], "frame": prov["frame"],
                         "pts": prov["pts"], "bbox": prov["bbox"], "track": prov["track"]})
        out.append(item)
    return out


def list_tracks(gallery) -> list[dict]:
    """Every track: camera, video, first/last frame and time, boxes [frame, pts, x, y, w, h], kept rows."""
    if not has_video_tables(gallery):
        return []
    out = []
    for tid, vsha, camera, f0, f1, t0, t1, status, vpath in gallery.query(
            "SELECT t.track_id, t.video_sha256, t.camera, t.first_frame, t.last_frame, t.first_time, t.last_time,"
            " t.status, v.path FROM tracks t JOIN videos v ON v.sha256 = t.video_sha256 WHERE t.status != 'dropped'"
            " ORDER BY t.track_id"):
        boxes = [[f, round(p, 6), x, y, w, h] for f, p, x, y, w, h in gallery.query(
            "SELECT frame, pts, x, y, w, h FROM track_boxes WHERE track_id = ? ORDER BY frame", (tid,))]
        shas = [s for (s,) in gallery.query("SELECT sha256 FROM crops WHERE track_id = ? ORDER BY frame", (tid,))]
        row_of = gallery.rows_of_shas(shas)
        rows = [row_of[s] for s in shas if s in row_of]
        out.append({"track": tid, "camera": camera, "video": vpath, "video_sha256": vsha, "status": status,
                    "first_frame": f0, "last_frame": f1, "first_time": t0, "last_time": t1,
                    "boxes": boxes, "rows": rows})
    return out


def list_videos(gallery) -> list[dict]:
    if not has_video_tables(gallery):
        return []
    cols = ("sha256", "path", "camera", "camera_from", "start_time", "time_from", "clock_offset_s", "width",
            "height", "fps", "frames_decoded", "duration_s", "codec", "sample_fps", "status", "next_frame", "note",
            "size_bytes")
    rows = gallery.query(f"SELECT {', '.join(cols)} FROM videos ORDER BY path")
    return [dict(zip(cols, r)) for r in rows]


def video_status(gallery, path: str | Path) -> str | None:
    """Import status of the video imported from ``path`` (importing | complete | stopped), None if none."""
    if not has_video_tables(gallery):
        return None
    r = gallery.query_one("SELECT status FROM videos WHERE path = ?", (str(path),))
    return r[0] if r else None


def track_of_rows(gallery) -> dict[int, int]:
    """Gallery row -> track id, for the rows cut from a video (other rows are absent)."""
    if not has_video_tables(gallery):
        return {}
    crops = gallery.query("SELECT sha256, track_id FROM crops")
    row_of = gallery.rows_of_shas(s for s, _ in crops)
    return {int(row_of[s]): int(t) for s, t in crops if s in row_of}


class TrackLookup:
    """Row -> track id read on demand (``get`` like a dict's): an interview needs the tracks of a round's
    top rows, not every row's, so opening a large gallery reads none of them."""

    def __init__(self, gallery):
        self.gallery = gallery
        self.video = has_video_tables(gallery)
        self._known: dict[int, int | None] = {}

    def prefetch(self, rows) -> None:
        """Read the tracks of ``rows`` not read before (one query per 500 rows)."""
        todo = sorted({int(r) for r in rows} - self._known.keys())
        if not self.video:
            self._known.update(dict.fromkeys(todo))
            return
        for i in range(0, len(todo), 500):
            chunk = todo[i:i + 500]
            shas = self.gallery.shas_of_rows(chunk)
            wanted = list(shas.values())
            track = dict(self.gallery.query(
                f"SELECT sha256, track_id FROM crops WHERE sha256 IN ({','.join('?' * len(wanted))})", wanted)) \
                if wanted else {}
            self._known.update({r: (int(track[shas[r]]) if shas.get(r) in track else None) for r in chunk})

    def get(self, row: int, default=None):
        row = int(row)
        if row not in self._known:
            self.prefetch([row])
        value = self._known[row]
        return default if value is None else value


def one_per_track(rows, track_of) -> list[int]:
    """``rows`` in rank order keeping only the best-ranked row of each track (rows of no track stay).
    ``track_of``: a dict row -> track, or a :class:`TrackLookup`."""
    if isinstance(track_of, TrackLookup):
        track_of.prefetch(rows)
    seen: set[int] = set()
    out = []
    for r in rows:
        t = track_of.get(int(r))
        if t is not None:
            if t in seen:
                continue
            seen.add(t)
        out.append(int(r))
    return out
