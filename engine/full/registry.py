"""Installed model packs: install (copy, checking every hash), list and resolve by name.

Installed packs live in ``<data dir>/packs/<name>-<version>``; the data folder is overridable
(``INTERREID_DATA``). Nothing here touches the network.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from ..errors import ModelPackError
from ..paths import data_dir
from .manifest import (_SAFE_NAME, MANIFEST, Manifest, _check_file, _iter_files, check_loadable, manifest_hash,
                       read_manifest, set_offline)

_CHUNK = 1 << 20


def packs_dir() -> Path:
    """Where installed packs live: ``<data dir>/packs``."""
    path = data_dir() / "packs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _copy_hashing(src: Path, dst: Path) -> str:
    import hashlib  # noqa: PLC0415

    h = hashlib.sha256()
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        for chunk in iter(lambda: fin.read(_CHUNK), b""):
            h.update(chunk)
            fout.write(chunk)
    return h.hexdigest()


def install_pack(src: str | Path) -> Path:
    """Copy a pack into ``<data dir>/packs/<name>-<version>``, checking every hash as it copies.

    The copy is made in a temporary folder and renamed into place only when it is complete and its
    retriever loads, so a failed install leaves nothing behind. Installing the same pack twice is a
    no-op. Returns the installed folder. Raises ModelPackError.
    """
    set_offline()
    manifest = read_manifest(src)
    for label, value in (("name", manifest.name), ("version", manifest.version)):
        if not _SAFE_NAME.match(value):
            raise ModelPackError(f"Model pack {manifest.folder} has the {label} '{value}', which cannot be a "
                                 "folder name; rebuild it with letters, digits, '.', '_', '+' or '-'.")
    dest = packs_dir() / f"{manifest.name}-{manifest.version}"
    if dest.exists():
        if (dest / MANIFEST).is_file() and manifest_hash(dest) == manifest.sha256:
            return dest
        raise ModelPackError(f"A different model pack {manifest.name} {manifest.version} is already installed "
                             f"at {dest}; remove it or give the new pack another version.")
    tmp = Path(tempfile.mkdtemp(prefix=f".installing-{manifest.name}-", dir=packs_dir()))
    try:
        for comp, rel, sha, size in _iter_files(manifest):
            src_path = manifest.folder / rel
            actual = _copy_hashing(src_path, tmp / rel) if src_path.is_file() else None
            _check_file(manifest, comp, rel, sha, size, src_path, actual)
        shutil.copyfile(manifest.folder / MANIFEST, tmp / MANIFEST)
        installed = read_manifest(tmp)
        if installed.sha256 != manifest.sha256:
            raise ModelPackError(f"{manifest.folder / MANIFEST} changed while the pack was being installed; "
                                 "install it again.")
        check_loadable(installed)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def list_installed_packs() -> list[Manifest]:
    """Installed packs (manifests read, files not re-hashed), sorted by name and version."""
    found = []
    for folder in sorted(packs_dir().iterdir()):
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        try:
            found.append(read_manifest(folder))
        except ModelPackError:
            continue  # a damaged install is reported by `pack verify`, not by listing
    return sorted(found, key=lambda m: (m.name, _version_key(m.version)))


def _version_key(version: str) -> tuple:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.+-]", version))


def resolve_pack(pack: str | Path) -> Path:
    """A pack folder from a path, an installed ``name-version`` or an installed ``name`` (newest)."""
    path = Path(pack)
    if path.is_dir():
        return path
    installed = list_installed_packs()
    for m in installed:
        if f"{m.name}-{m.version}" == str(pack):
            return m.folder
    same_name = [m for m in installed if m.name == str(pack)]
    if same_name:
        return same_name[-1].folder
    names = ", ".join(f"{m.name}-{m.version}" for m in installed) or "none"
    raise ModelPackError(f"No model pack '{pack}': give a pack folder or the name of an installed pack "
                         f"(installed: {names}).")

