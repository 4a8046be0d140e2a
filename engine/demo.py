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
    from .embedder import create_embedder
    from .errors import UserError
    from .gallery.importer import import_sources
    from .gallery.store import Gallery

    crops = demo_crops_dir()
    if not crops.is_dir():
        raise UserError(f"The demo crops are missing from {crops}; reinstall interreid.")
    folder = data_dir() / "demo-gallery"
    embedder = create_embedder("lite")
    with Gallery.create(folder, embedder.identity) as gallery:
        import_sources(gallery, embedder, [crops], progress=progress)
    return folder


def new_demo_case(gallery_folder: Path) -> Path:
    """A new case file on the demo gallery, in the data folder's ``cases/``."""
    from .casefile import CaseFile
    from .engines import build_engine
    from .gallery.store import Gallery

    cases = data_dir() / "cases"
    cases.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    path = cases / f"demo-{stamp}.case"
    with Gallery.open(gallery_folder) as gallery:
        engine = build_engine(gallery)
        import getpass

        CaseFile.create(path, "Demo case (OpenCV sample footage)", getpass.getuser(), gallery,
                        engine.identity(), encrypt=False).close()  # the demo is not a real case: plain
    return path
