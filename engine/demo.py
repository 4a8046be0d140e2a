"""The bundled demo: OpenCV's sample pedestrian video turned into a gallery by the video import
(detect, track, keep the best crops of each person with their provenance).

The gallery is built once into the user's data folder and reused; every ``interreid demo``
opens a fresh demo case on it. ``INTERREID_DEMO_VIDEO`` names another video (tests use a short clip).
When the video is not bundled, the pre-cut crops in ``resources/demo/crops`` are imported instead.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from .paths import data_dir, resources_dir


def demo_crops_dir() -> Path:
    return resources_dir() / "demo" / "crops"


def demo_video() -> Path:
    return Path(os.environ.get("INTERREID_DEMO_VIDEO") or resources_dir() / "demo" / "vtest.avi")


def demo_gallery_folder() -> Path:
    """Where the demo gallery is built (from the video when bundled, else from the pre-cut crops)."""
    return data_dir() / ("demo-video-gallery" if demo_video().is_file() else "demo-gallery")


def demo_gallery_ready() -> bool:
    """True when the demo gallery is fully built (the window then skips the import)."""
    import sqlite3

    from .errors import GalleryError
    from .gallery.store import DB_NAME, Gallery
    from .video.query import video_status

    folder = demo_gallery_folder()
    if not (folder / DB_NAME).is_file() or not demo_video().is_file():
        return False
    try:
        with Gallery.open(folder, read_only=True) as gallery:
            status = video_status(gallery, demo_video())
    except (GalleryError, sqlite3.DatabaseError):
        return False
    return status in ("complete", "stopped")


def ensure_demo_gallery(progress=None, cancel=None) -> Path:
    """Build (first time only) and return the demo gallery folder. Re-running resumes/reuses.

    The footage is imported through the video pipeline into ``<data>/demo-video-gallery``; camera
    and clock come from ``resources/demo/cameras.csv`` (the video has no clock: the demo's,
    2024-05-01 12:00:00 UTC at frame 0, is synthetic, as ATTRIBUTION.md says)."""
    from .errors import UserError
    from .session import import_into

    video = demo_video()
    if video.is_file():
        folder = data_dir() / "demo-video-gallery"
        import_into(folder, [video], engine="lite", progress=progress, cancel=cancel)
        return folder
    crops = demo_crops_dir()
    if not crops.is_dir():
        raise UserError(f"The demo footage and crops are missing from {crops.parent}; reinstall interreid.")
    folder = data_dir() / "demo-gallery"
    import_into(folder, [crops], engine="lite", progress=progress, cancel=cancel)
    return folder


def new_demo_case(gallery_folder: Path) -> Path:
    """A new case file on the demo gallery, in the data folder's ``cases/``."""
    from .session import new_case

    cases = data_dir() / "cases"
    cases.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    path = cases / f"demo-{stamp}.case"
    # the demo is not a real case: plain
    new_case(path, "Demo case (OpenCV sample footage)", None, gallery_folder, encrypt=False).close()
    return path
