"""The app's remembered settings (recent cases, window geometry) in an INI file per user.

The file lives under ``$XDG_CONFIG_HOME/interreid/desktop.ini`` (``~/.config`` when unset) and
is located on every call, so tests that point XDG_CONFIG_HOME elsewhere never share state.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 10


def settings_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "interreid" / "desktop.ini"


def open_settings() -> QSettings:
    return QSettings(str(settings_path()), QSettings.Format.IniFormat)


def recent_cases(settings: QSettings) -> list[str]:
    value = settings.value("recent_cases", [])
    if isinstance(value, str):
        value = [value]
    return [v for v in (value or []) if v]


def recent_titles(settings: QSettings) -> dict[str, str]:
    """The case title remembered for each recent case file (its path as the key)."""
    value = settings.value("recent_titles", {})
    return dict(value) if isinstance(value, dict) else {}


def add_recent_case(settings: QSettings, path: str | Path, title: str = "") -> list[str]:
    path = str(Path(path).absolute())
    items = [path] + [p for p in recent_cases(settings) if p != path]
    settings.setValue("recent_cases", items[:MAX_RECENT])
    titles = {p: t for p, t in recent_titles(settings).items() if p in items[:MAX_RECENT]}
    if title:
        titles[path] = title
    settings.setValue("recent_titles", titles)
    settings.sync()
    return items[:MAX_RECENT]


def ray_import(settings: QSettings):
    """The Ray workers imports use (engine/gallery/ray_ingest.py), or None for the single-process import.

    Set in the settings file (``[import]`` ``ray_workers = 2``, ``ray_address = ray://head:10001``) or
    by INTERREID_RAY_WORKERS / INTERREID_RAY_ADDRESS, which win; 0 workers and no address: off."""
    address = os.environ.get("INTERREID_RAY_ADDRESS") or str(settings.value("import/ray_address", "") or "")
    text = os.environ.get("INTERREID_RAY_WORKERS") or str(settings.value("import/ray_workers", "") or "")
    try:
        workers = int(text) if text.strip() else 0
    except ValueError:
        workers = 0
    if workers < 1 and not address:
        return None
    from interreid.engine.gallery.ray_ingest import RayOptions

    return RayOptions(workers=max(workers, 1) if workers else 2, address=address or None)
