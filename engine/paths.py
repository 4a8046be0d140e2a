"""Where the project's data lives: bundled resources and the per-user application data folder."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """The bundled resources (prompts, configs, styles, demo gallery), found through the package.

    An installed wheel (and the one-folder build) carries them as package data in
    ``engine/resources/``; a source checkout keeps them in the top-level ``resources/`` folder.
    ``INTERREID_RESOURCES`` overrides both.
    """
    override = os.environ.get("INTERREID_RESOURCES")
    if override:
        return Path(override)
    packaged = Path(str(files(__package__ or "interreid.engine") / "resources"))
    return packaged if packaged.is_dir() else _REPO_ROOT / "resources"


def data_dir() -> Path:
    """Per-user data folder (installed model packs, the cached demo gallery, recent cases).

    ``INTERREID_DATA`` overrides it (tests point it at a temporary folder).
    """
    override = os.environ.get("INTERREID_DATA")
    if override:
        path = Path(override)
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "interreid"
    path.mkdir(parents=True, exist_ok=True)
    return path
