"""The bundled demo: a gallery of person crops cut from OpenCV's sample pedestrian video.

The gallery is built once into the user's data folder and reused; every ``interreid demo``
opens a fresh demo case on it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from .paths import data_dir, resources_dir


def demo_crops_dir() -> Path:
    return resources_dir() / "demo" / "crops"


def ensure_demo_gallery(progress=None) -> Path:
    """Build (first time only) and return the demo gallery folder. Re-running resumes/reuses."""
    from .errors import UserError
    from .session import import_into

    crops = demo_crops_dir()
    if not crops.is_dir():
        raise UserError(f"The demo crops are missing from {crops}; reinstall interreid.")
    folder = data_dir() / "demo-gallery"
    import_into(folder, [crops], engine="lite", progress=progress)
    return folder


def new_demo_case(gallery_folder: Path) -> Path:
    """A new case file on the demo gallery, in the data folder's ``cases/``."""
    from .session import new_case

    cases = data_dir() / "cases"
    cases.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    path = cases / f"demo-{stamp}.case"
    new_case(path, "Demo case (OpenCV sample footage)", None, gallery_folder).close()
    return path
