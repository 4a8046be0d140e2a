"""A model pack opened once: its manifest, verified once, and its components.

``open_pack(name_or_folder)`` resolves the pack, reads its manifest and re-hashes every file the
manifest lists, once: a pack whose files have not changed since (same size and modification
time of every file, same manifest) is not hashed again in this process, so building an engine
for each selector or questioner of a benchmark, or opening case after case in the app, costs one
verification per pack, not one per engine. The :class:`ModelPack` then hands out the retriever,
the image embedder, the selector and the questioner.

The pieces live in their own modules; this one re-exports their public names for callers that
import them from ``engine.full.pack``:

* ``manifest.py``: the manifest format, its reader and the hash checks (``verify_pack``);
* ``registry.py``: installed packs (``install_pack``, ``list_installed_packs``, ``resolve_pack``);
* ``build.py``: building a pack from checkpoints (``build_pack``, ``write_manifest``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ..embedder import EmbedderIdentity
from ..errors import ModelPackError
from .build import build_pack, write_manifest
from .manifest import (FORMAT_VERSION, MANIFEST, RETRIEVER, Manifest, check_loadable, component_entry,
                       manifest_hash, read_manifest, set_offline, verify_pack)
from .registry import install_pack, list_installed_packs, packs_dir, resolve_pack

EMBEDDER_NAME = "clip-onnx"
EMBEDDER_FORMAT = "1"

__all__ = ["FORMAT_VERSION", "MANIFEST", "RETRIEVER", "Manifest", "ModelPack", "build_pack", "check_loadable",
           "component_entry", "install_pack", "list_installed_packs", "manifest_hash", "open_pack",
           "pack_for_gallery", "pack_identity", "packs_dir", "read_manifest", "resolve_pack", "set_offline",
           "verify_pack", "write_manifest"]


def pack_identity(manifest: Manifest, precision: str = "fp32") -> EmbedderIdentity:
    """The embedder identity of a pack's image tower.

    The version string carries the manifest hash, so galleries built with different packs (or with
    the int8 tower) never mix: ``"1:<first 16 hex of manifest sha256>"`` (+ ``":int8"``).
    """
    entry = manifest.component(RETRIEVER)
    version = f"{EMBEDDER_FORMAT}:{manifest.sha256[:16]}" + (":int8" if precision == "int8" else "")
    return EmbedderIdentity(EMBEDDER_NAME, version, int(entry["config"]["embed_dim"]), extra={
        "pack": manifest.name, "pack_version": manifest.version, "manifest_sha256": manifest.sha256,
        "weights": manifest.weights, "precision": precision,
    })


@dataclass(frozen=True)
class ModelPack:
    """An opened model pack. ``verified``: every file was re-hashed against the manifest."""

    manifest: Manifest
    verified: bool

    @property
    def folder(self) -> Path:
        return self.manifest.folder

    @property
    def name(self) -> str:
        return self.manifest.name

    def info(self) -> dict:
        """What a case or gallery records about the pack (name, version, manifest_sha256, weights)."""
        return self.manifest.info()

    def identity(self, precision: str = "fp32") -> EmbedderIdentity:
        return pack_identity(self.manifest, precision)

    def file_sha256(self, key: str) -> str | None:
        """The manifest's SHA-256 of the retriever file named under ``key`` (e.g. ``image_onnx``)."""
        entry = self.manifest.component(RETRIEVER)
        expected = (entry.get("files") or {}).get(entry.get(key) or "")
        return expected.get("sha256") if isinstance(expected, dict) else expected

    def has(self, component: str) -> bool:
        return component in self.manifest.components

    def retriever(self, provider: str | None = None):
        """The OnnxClipRetriever (text tower). Raises ModelPackError."""
        from .onnx_retriever import OnnxClipRetriever  # noqa: PLC0415
        from .providers import choose_providers  # noqa: PLC0415

        set_offline()
        entry = self.manifest.component(RETRIEVER)
        try:
            return OnnxClipRetriever(self.manifest.file(RETRIEVER, "text_onnx"), self.identity(),
                                     bpe_path=self.manifest.file(RETRIEVER, "tokenizer"),
                                     context_length=int(entry["config"]["text_cfg"]["context_length"]),
                                     providers=choose_providers(provider),
                                     source_sha256=self.file_sha256("text_onnx"))
        except Exception as exc:  # noqa: BLE001
            raise ModelPackError(f"The retriever of model pack {self.folder} cannot be loaded ({exc}); "
                                 "rebuild the pack.") from None

    def embedder(self, precision: str = "fp32", batch_size: int = 32, provider: str | None = None):
        """The OnnxClipEmbedder (image tower) at ``precision`` fp32 or int8. Raises ModelPackError."""
        from .onnx_retriever import OnnxClipEmbedder  # noqa: PLC0415
        from .providers import choose_providers  # noqa: PLC0415

        set_offline()
        key = {"fp32": "image_onnx", "int8": "image_int8_onnx"}.get(precision)
        if key is None:
            raise ModelPackError(f"Unknown precision '{precision}'; choose fp32 or int8.")
        path = self.manifest.file(RETRIEVER, key)
        if path is None:
            raise ModelPackError(f"Model pack {self.folder} has no {precision} image tower; rebuild it with --int8 "
                                 "or use fp32.")
        config = self.manifest.component(RETRIEVER)["config"]
        try:
            return OnnxClipEmbedder(path, self.identity(precision), config.get("preprocess"),
                                    batch_size=batch_size, providers=choose_providers(provider),
                                    source_sha256=self.file_sha256(key))
        except Exception as exc:  # noqa: BLE001
            raise ModelPackError(f"{path.name} in model pack {self.folder} cannot be loaded ({exc}); "
                                 "rebuild the pack.") from None

    def selector(self, device: str | None = None):
        """The learned selector. Raises MissingComponentError when the pack has none."""
        from .selector import load_selector  # noqa: PLC0415

        return load_selector(self.folder, device)

    def questioner(self, load: bool = True, device: str | None = None):
        """The LLaVA questioner (unloaded with ``load=False``). MissingComponentError when absent."""
        from .questioner import load_questioner  # noqa: PLC0415

        return load_questioner(self.folder, load=load, device=device)


_verified: dict[tuple, str] = {}  # (folder, file stats) -> manifest sha256 verified
_verified_lock = threading.Lock()


def _stat_signature(manifest: Manifest) -> tuple:
    """Size and modification time of the manifest and every file it lists (cheap: no hashing)."""
    out = []
    for rel in [MANIFEST] + sorted(rel for entry in manifest.components.values() for rel in entry["files"]):
        try:
            st = (manifest.folder / rel).stat()
            out.append((rel, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((rel, None, None))
    return (str(manifest.folder.resolve()), tuple(out))


def open_pack(pack: str | Path, verify: bool = True) -> ModelPack:
    """Resolve (folder or installed name), read and, with ``verify``, re-hash a pack: once per
    process while its files stay unchanged. Raises ModelPackError."""
    set_offline()
    folder = resolve_pack(pack)
    manifest = read_manifest(folder)
    if not verify:
        return ModelPack(manifest, False)
    key = _stat_signature(manifest)
    with _verified_lock:
        done = _verified.get(key) == manifest.sha256
    if not done:
        manifest = verify_pack(folder, check_loads=False)
        with _verified_lock:
            _verified[key] = manifest.sha256
    return ModelPack(manifest, True)


def open_pack_for_gallery(gallery, pack: str | Path | None = None, verify: bool = True) -> ModelPack:
    """The pack whose CLIP made ``gallery``'s vectors, opened (and verified once).

    ``pack`` (a folder or installed name) is checked against the gallery; without it the installed
    packs are searched by manifest hash. Raises ModelPackError when no matching pack is found.
    """
    ident = gallery.embedder_identity
    want = ident.extra.get("manifest_sha256")
    need = f"{ident.extra.get('pack', '?')} {ident.extra.get('pack_version', '?')}"
    if pack is not None:
        manifest = read_manifest(resolve_pack(pack))
        if want and manifest.sha256 != want:
            raise ModelPackError(f"The gallery was built with model pack {need} (manifest {want[:12]}), not "
                                 f"{manifest.name} {manifest.version} (manifest {manifest.sha256[:12]}); give "
                                 "that pack or re-import the gallery with this one.")
        return open_pack(manifest.folder, verify)
    for manifest in list_installed_packs():
        if manifest.sha256 == want:
            return open_pack(manifest.folder, verify)
    raise ModelPackError(f"The gallery was built with model pack {need}, which is not installed; install it "
                         "with 'interreid pack install SRC' or give --pack DIR.")


def pack_for_gallery(gallery, pack: str | Path | None = None) -> tuple[Path, dict]:
    """(folder, {name, version, manifest_sha256, weights}) of the pack that made ``gallery``'s vectors
    (not re-hashed; see :func:`open_pack_for_gallery`)."""
    opened = open_pack_for_gallery(gallery, pack, verify=False)
    return opened.folder, opened.info()


def load_embedder(pack: str | Path, precision: str = "fp32", batch_size: int = 32, provider: str | None = None,
                  verify: bool = True):
    """An OnnxClipEmbedder from a pack folder or installed pack name (verified first).

    ``precision`` ``"fp32"`` or ``"int8"`` (the pack must hold the int8 tower); ``provider``
    ``"auto"`` (default), ``"cpu"`` or ``"cuda"``. Raises ModelPackError.
    """
    return open_pack(pack, verify).embedder(precision, batch_size, provider)


def load_retriever(pack_dir: str | Path, provider: str | None = None, verify: bool = True):
    """The OnnxClipRetriever (text tower) of a pack folder or installed pack name. Raises ModelPackError."""
    return open_pack(pack_dir, verify).retriever(provider)
