"""Where a model pack keeps the selector and questioner components, and how they are added.

A component lives in its own folder inside the pack (``selector/``, ``questioner/``); the pack's
``manifest.json`` lists it under ``components`` with its files (paths relative to the pack,
SHA-256 each) and its ``config``. ``manifest.py`` owns the manifest format, its one reader and the
hash checks; this module only finds a component's folder and copies a component into a pack folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import ModelPackError
from ..hashing import sha256_file
from .manifest import component_entry


class MissingComponentError(ModelPackError):
    """The pack has no such component (as opposed to a damaged one): callers may fall back."""


def component_dir(pack_dir: Path, name: str) -> Path:
    """The folder holding component ``name`` inside the pack. Raises ModelPackError if absent."""
    entry = component_entry(pack_dir, name)
    folder = Path(pack_dir) / (entry or {}).get("dir", name)
    if entry is None or not folder.is_dir():
        raise MissingComponentError(f"The model pack {pack_dir} has no {name} component.")
    return folder


def component_config(pack_dir: Path, name: str) -> dict:
    """The ``config`` dict the manifest records for component ``name`` ({} when none)."""
    return dict((component_entry(pack_dir, name) or {}).get("config") or {})


def add_component_files(pack_dir: Path, name: str, files: dict[str, Path], config: dict | None = None) -> dict:
    """Copy ``files`` ({path inside the component folder: source file}) into ``pack_dir/name/``.

    Returns the manifest entry for the component: ``{"dir": name, "files": {pack-relative path:
    sha256}, "config": config}``; the caller (the pack builder) puts it under
    ``manifest["components"][name]``. Sources that are folders are copied whole.
    """
    pack_dir = Path(pack_dir)
    hashes: dict[str, str] = {}
    for rel, src in files.items():
        src = Path(src)
        dst = pack_dir / name / rel
        if src.is_dir():
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(src, dst)
            copied = sorted(p for p in dst.rglob("*") if p.is_file())
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            copied = [dst]
        for path in copied:
            hashes[path.relative_to(pack_dir).as_posix()] = sha256_file(path)
    return {"dir": name, "files": dict(sorted(hashes.items())), "config": dict(config or {})}
