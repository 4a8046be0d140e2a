"""Re-hash the source videos behind a case's video crops (``case verify``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import GalleryError
from ..gallery.store import DB_NAME, Gallery
from ..hashing import sha256_file


def source_videos(crop_paths: list[str]) -> dict[str, str]:
    """{video sha256: video path} for the crops among ``crop_paths`` that a gallery cut from video
    (a crop lives at <gallery>/crops/ab/<sha>.png; its gallery.db records the source video)."""
    found: dict[str, str] = {}
    by_gallery: dict[Path, list[str]] = {}
    for p in crop_paths:
        path = Path(p)
        if len(path.parents) >= 3 and path.parents[1].name == "crops" and path.suffix == ".png":
            by_gallery.setdefault(path.parents[2], []).append(path.stem)
    for folder, shas in by_gallery.items():
        if not (folder / DB_NAME).is_file():
            continue
        try:
            with Gallery.open(folder, read_only=True) as gallery:
                for i in range(0, len(shas), 500):
                    chunk = shas[i:i + 500]
                    for vsha, vpath in gallery.query(
                            "SELECT DISTINCT v.sha256, v.path FROM crops c JOIN videos v ON v.sha256 = c.video_sha256"
                            f" WHERE c.sha256 IN ({','.join('?' * len(chunk))})", chunk):
                        found[vsha] = vpath
        except (GalleryError, sqlite3.DatabaseError):
            continue
    return found


def rehash_videos(crop_paths: list[str]) -> tuple[int, list[dict], list[dict]]:
    """(videos checked, altered [{sha256, path, found, kind}], missing [{sha256, path, kind}])."""
    altered, missing = [], []
    videos = source_videos(crop_paths)
    for sha, path in sorted(videos.items(), key=lambda kv: kv[1]):
        try:
            found = sha256_file(path)
        except OSError:
            missing.append({"sha256": sha, "path": path, "kind": "source video"})
            continue
        if found != sha:
            altered.append({"sha256": sha, "path": path, "found": found, "kind": "source video"})
    return len(videos), altered, missing
