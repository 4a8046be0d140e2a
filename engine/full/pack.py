"""Model packs: a folder with ``manifest.json`` and the files of each component, SHA-256 each.

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
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..errors import ModelPackError, UserError
from ..hashing import sha256_file
from ..paths import data_dir

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
RETRIEVER = "retriever"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_CHUNK = 1 << 20


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


# -- installing ----------------------------------------------------------------------------------

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


# -- building ------------------------------------------------------------------------------------

def _versions() -> dict:
    from importlib import metadata  # noqa: PLC0415

    from .. import __version__  # noqa: PLC0415

    def ver(*dists: str) -> str | None:
        for dist in dists:
            try:
                return metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
        return None

    return {"torch": ver("torch"), "open_clip": ver("open_clip_torch"), "onnx": ver("onnx"),
            "onnxruntime": ver("onnxruntime-gpu", "onnxruntime"), "interreid": __version__}


def _file_entry(folder: Path, rel: str) -> dict:
    path = folder / rel
    return {"sha256": sha256_file(path), "size": path.stat().st_size}


def write_manifest(folder: Path, data: dict) -> Manifest:
    """Write ``manifest.json`` (sorted keys, indented) and return the parsed Manifest."""
    (folder / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return read_manifest(folder)


def _check_export(model, cfg: dict, paths: dict) -> dict:
    """Cosine of each exported tower to PyTorch on a few inputs; a low one is a bug, not user error."""
    import numpy as np  # noqa: PLC0415

    from .export import check_export  # noqa: PLC0415
    from .tokenizer import ClipTokenizer  # noqa: PLC0415

    h, w = cfg["vision_cfg"]["image_size"]
    pixels = np.random.default_rng(0).standard_normal((2, 3, h, w)).astype(np.float32)
    tokens = ClipTokenizer()(["a man in a red jacket and blue jeans", "a woman carrying a white bag"])
    result = {k: round(v, 6) for k, v in check_export(model, paths, pixels, tokens).items()}
    floors = {"image_onnx": 0.999, "text_onnx": 0.999, "image_int8_onnx": 0.98}
    bad = {k: v for k, v in result.items() if v < floors[k]}
    if bad:
        raise RuntimeError(f"ONNX export does not match PyTorch (cosine {bad}); this is a bug in the exporter")
    return result


def build_pack(out: str | Path, clip_ckpt: str | Path | None = None, irra_ckpt: str | Path | None = None,
               int8: bool = False, random_weights: bool = False, config: str = "clip-reid-vit-b-16",
               name: str = "clip-reid", version: str = "0.1.0", licence: str | None = None,
               source: str | None = None, components: dict[str, dict] | None = None,
               seed: int = 0) -> Manifest:
    """Assemble a model pack in the new folder ``out`` from local files only.

    Weights: exactly one of ``clip_ckpt`` (open_clip/OpenAI CLIP state dict; text positions are
    interpolated 77 -> 192), ``irra_ckpt`` (IRRA / LLaVA-ReID checkpoint, ``base_model.`` prefix) or
    ``random_weights`` (seeded; for tests). ``config`` is a model config name or JSON path.
    ``components`` adds other components: ``{"selector": {"files": {relpath: source}, "config": {...}}}``
    (relpaths inside the component folder). Returns the written pack's Manifest (verified).
    Raises UserError/ModelPackError on bad input; ``out`` is never left half-written.
    """
    set_offline()
    chosen = [x for x in (clip_ckpt, irra_ckpt, random_weights or None) if x]
    if len(chosen) != 1:
        raise UserError("Give exactly one source of weights: a CLIP checkpoint (--clip), an IRRA checkpoint "
                        "(--irra), or --random-weights for a test pack.")
    for label, value in (("name", name), ("version", version)):
        if not _SAFE_NAME.match(str(value)):
            raise UserError(f"The pack {label} '{value}' must be letters, digits, '.', '_', '+' or '-'.")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} already exists and is not empty; give a new folder for the pack.")

    from .clip_model import build_model, load_checkpoint, load_config  # noqa: PLC0415
    from .components import add_component_files  # noqa: PLC0415
    from .export import export_towers  # noqa: PLC0415
    from .tokenizer import BPE_FILENAME, default_bpe_path  # noqa: PLC0415

    cfg = load_config(config)
    model = build_model(cfg, seed=seed)
    checkpoint = None
    ckpt = clip_ckpt or irra_ckpt
    if ckpt:
        kind = "clip" if clip_ckpt else "irra"
        report = load_checkpoint(model, ckpt, kind=kind)
        checkpoint = {"kind": kind, "file": Path(ckpt).name, "sha256": sha256_file(ckpt), **report}

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        rdir = tmp / RETRIEVER
        paths = export_towers(model, rdir, tuple(cfg["vision_cfg"]["image_size"]), int8=int8)
        export_check = _check_export(model, cfg, paths)
        shutil.copyfile(default_bpe_path(), rdir / BPE_FILENAME)
        (rdir / "config.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        entry: dict = {"dir": RETRIEVER, "config": cfg, "checkpoint": checkpoint, "export_check": export_check,
                       "config_file": f"{RETRIEVER}/config.json", "tokenizer": f"{RETRIEVER}/{BPE_FILENAME}"}
        for key, path in paths.items():
            entry[key] = path.relative_to(tmp).as_posix()
        rels = sorted(p.relative_to(tmp).as_posix() for p in rdir.rglob("*") if p.is_file())
        entry["files"] = {rel: _file_entry(tmp, rel) for rel in rels}
        all_components = {RETRIEVER: entry}
        for comp_name, spec in (components or {}).items():
            all_components[comp_name] = add_component_files(tmp, comp_name, spec["files"], spec.get("config"))
        weights = "random" if random_weights else "trained"
        data = {
            "format_version": FORMAT_VERSION, "name": name, "version": version,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "licence": licence or ("none: random weights, for testing only" if random_weights else "unspecified"),
            "source": source or (f"random weights (seed {seed}), config {cfg['name']}" if random_weights
                                 else f"{checkpoint['kind']} checkpoint {checkpoint['file']} "
                                      f"(sha256 {checkpoint['sha256']})"),
            "weights": weights, "components": all_components, "versions": _versions(),
        }
        write_manifest(tmp, data)
        verify_pack(tmp)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return read_manifest(out)
