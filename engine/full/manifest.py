"""Model pack format and verification: a folder with ``manifest.json`` and the files of each component, SHA-256 each.

Layout (paths in the manifest are relative to the pack folder)::

    manifest.json
    retriever/config.json                 the model config (architecture + preprocessing)
    retriever/image.onnx                  image tower, fp32
    retriever/image_int8.onnx             image tower, dynamic int8 (optional)
    retriever/text.onnx                   text tower, fp32, 192 tokens
    retriever/bpe_simple_vocab_16e6.txt.gz  CLIP's BPE merges (the tokenizer)
    selector/..., questioner/...          optional components (see ``components.py``)

``manifest.json``::

    {"format_version": 1, "name": ..., "version": ..., "created": ISO-8601 UTC, "licence": ...,
     "source": ..., "weights": "random" | "trained",
     "components": {"retriever": {"dir": "retriever",
                                  "files": {relpath: {"sha256": hex, "size": bytes}},
                                  "config": {model config}, "checkpoint": {...} | null,
                                  "config_file": relpath, "tokenizer": relpath,
                                  "image_onnx": relpath, "text_onnx": relpath,
                                  "image_int8_onnx": relpath (optional)},
                    "selector": {...}, "questioner": {...}},
     "versions": {"torch": ..., "open_clip": ..., "onnx": ..., "onnxruntime": ..., "interreid": ...}}

A component's ``files`` value may also be a bare SHA-256 string (what ``components.py`` writes).
The pack's identity is the SHA-256 of ``manifest.json`` (:func:`manifest_hash`); the manifest
holds every file's hash, so it pins every byte. Nothing here touches the network.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModelPackError
from ..hashing import sha256_file

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
RETRIEVER = "retriever"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")


def set_offline() -> None:
    """Make sure no library we call reaches for the network (model hubs)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


@dataclass(frozen=True)
class Manifest:
    """A pack's parsed manifest. ``folder`` is the pack folder; ``sha256`` the manifest's hash."""

    folder: Path
    data: dict = field(repr=False)
    sha256: str

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def version(self) -> str:
        return str(self.data["version"])

    @property
    def weights(self) -> str:
        return str(self.data.get("weights", "trained"))

    @property
    def components(self) -> dict:
        return dict(self.data.get("components") or {})

    def component(self, name: str) -> dict:
        """The manifest entry of component ``name``. Raises ModelPackError when absent."""
        entry = self.components.get(name)
        if entry is None:
            raise ModelPackError(f"The model pack {self.folder} has no {name} component; use a pack built with one.")
        return dict(entry)

    def file(self, component: str, key: str) -> Path | None:
        """Absolute path of a file a component names under ``key`` (e.g. ``image_onnx``), or None."""
        rel = self.component(component).get(key)
        return self.folder / rel if rel else None

    def info(self) -> dict:
        """What a case or gallery records about the pack."""
        return {"name": self.name, "version": self.version, "manifest_sha256": self.sha256,
                "weights": self.weights}


def manifest_hash(folder: str | Path) -> str:
    """SHA-256 (hex) of the pack's ``manifest.json``."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise ModelPackError(f"{folder} is not a model pack (no {MANIFEST}); give the pack's folder.")
    return sha256_file(path)


def read_manifest(folder: str | Path) -> Manifest:
    """Parse and check a manifest's format without hashing the pack's files."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ModelPackError(f"Model pack folder {folder} does not exist; give the folder that holds {MANIFEST}.")
    if not path.is_file():
        raise ModelPackError(f"{folder} is not a model pack (no {MANIFEST}); give the pack's folder.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelPackError(f"{path} cannot be read as JSON ({exc}); rebuild or re-copy the pack.") from None
    if not isinstance(data, dict):
        raise ModelPackError(f"{path} is not a model pack manifest (not a JSON object); rebuild the pack.")
    fmt = data.get("format_version")
    if fmt != FORMAT_VERSION:
        raise ModelPackError(f"{path} has format_version {fmt!r}, but this interreid reads version "
                             f"{FORMAT_VERSION}; use a matching interreid or rebuild the pack.")
    for key in ("name", "version", "components"):
        if key not in data:
            raise ModelPackError(f"{path} has no '{key}' field; rebuild the pack.")
    if not isinstance(data["components"], dict) or not data["components"]:
        raise ModelPackError(f"{path} lists no components; rebuild the pack.")
    for comp, entry in data["components"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("files"), dict):
            raise ModelPackError(f"{path}: component '{comp}' has no file list; rebuild the pack.")
        for rel in entry["files"]:
            _check_relpath(path, rel)
    return Manifest(folder, data, sha256_file(path))


def _check_relpath(manifest_path: Path, rel: str) -> None:
    parts = Path(rel).parts
    if not rel or Path(rel).is_absolute() or ".." in parts:
        raise ModelPackError(f"{manifest_path} lists the unsafe file path '{rel}'; the pack is not trustworthy.")


def _expected(entry) -> tuple[str, int | None]:
    if isinstance(entry, str):
        return entry, None
    return str(entry.get("sha256")), (int(entry["size"]) if "size" in entry else None)


def _iter_files(manifest: Manifest):
    for comp, entry in manifest.components.items():
        for rel, expected in entry["files"].items():
            sha, size = _expected(expected)
            yield comp, rel, sha, size


def _check_file(manifest: Manifest, comp: str, rel: str, sha: str, size: int | None, path: Path,
                actual_sha: str | None = None) -> None:
    where = f"model pack {manifest.name} {manifest.version} ({manifest.folder})"
    if not path.is_file():
        raise ModelPackError(f"The {where} is missing {rel} ({comp}); re-copy the pack from its source.")
    if size is not None and path.stat().st_size != size:
        raise ModelPackError(f"{rel} in the {where} has {path.stat().st_size} bytes, not {size}: the file is "
                             "damaged or was changed; re-copy the pack from its source.")
    if (actual_sha or sha256_file(path)) != sha:
        raise ModelPackError(f"{rel} in the {where} does not match its SHA-256 in {MANIFEST}: the file is "
                             "damaged or was changed; re-copy the pack from its source.")


def check_loadable(manifest: Manifest) -> None:
    """Open what the retriever component holds (ONNX sessions on the CPU, the tokenizer, config).

    Raises ModelPackError naming the file that cannot be loaded.
    """
    if RETRIEVER not in manifest.components:
        return
    from .providers import CPU, make_session  # noqa: PLC0415
    from .tokenizer import ClipTokenizer  # noqa: PLC0415

    entry = manifest.component(RETRIEVER)
    for key in ("text_onnx", "image_onnx"):
        if not entry.get(key):
            raise ModelPackError(f"The retriever of model pack {manifest.folder} names no {key}; rebuild the pack.")
    for key in ("image_onnx", "image_int8_onnx", "text_onnx", "tokenizer"):
        rel = entry.get(key)
        if not rel:
            continue
        try:
            if key == "tokenizer":
                ClipTokenizer(manifest.folder / rel)
            else:
                make_session(manifest.folder / rel, [CPU])
        except Exception as exc:  # noqa: BLE001  (any failure means the file is unusable)
            raise ModelPackError(f"{rel} in model pack {manifest.folder} cannot be loaded "
                                 f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); "
                                 "rebuild the pack.") from None
    config = entry.get("config") or {}
    if not {"embed_dim", "preprocess", "text_cfg"} <= set(config):
        raise ModelPackError(f"The retriever of model pack {manifest.folder} has an incomplete config; "
                             "rebuild the pack.")


def verify_pack(folder: str | Path, check_loads: bool = True) -> Manifest:
    """Re-hash every file the manifest lists; with ``check_loads``, also open the retriever's files.

    Returns the Manifest. Raises ModelPackError (one sentence naming the file and the problem) on a
    missing file, a wrong size or hash, an unknown manifest version, or an unloadable component.
    """
    set_offline()
    manifest = read_manifest(folder)
    for comp, rel, sha, size in _iter_files(manifest):
        _check_file(manifest, comp, rel, sha, size, manifest.folder / rel)
    if check_loads:
        check_loadable(manifest)
    return manifest



# -- components ------------------------------------------------------------------------------------

def find_manifest(folder: str | Path) -> Manifest | None:
    """The folder's Manifest, or None when it has no ``manifest.json`` (a pack being assembled, or a
    bare component folder used in tests). An unreadable manifest raises ModelPackError."""
    folder = Path(folder)
    if not (folder / MANIFEST).exists():
        return None
    return read_manifest(folder)


def component_entry(pack_dir: str | Path, name: str) -> dict | None:
    """The manifest entry of component ``name``, or None when the pack has no such component.

    A folder without a manifest counts as having the component when its folder ``pack_dir/name``
    exists."""
    manifest = find_manifest(pack_dir)
    if manifest is not None:
        entry = manifest.components.get(name)
        return dict(entry) if entry is not None else None
    return {"dir": name} if (Path(pack_dir) / name).is_dir() else None


def pack_name(pack_dir: str | Path) -> str:
    """The pack's name from its manifest (the folder's name when it has none)."""
    manifest = find_manifest(pack_dir)
    return manifest.name if manifest is not None else Path(pack_dir).name
