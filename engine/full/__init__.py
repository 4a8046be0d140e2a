"""The full engine: the model pack's CLIP retriever on onnxruntime (plus selector and questioner).

Importing this package registers the ``full`` embedder; nothing heavy is imported until a pack is
loaded. Entry points: :func:`load_embedder`, :func:`load_retriever`, :func:`pack_for_gallery`.
"""

from __future__ import annotations

from pathlib import Path

from ..embedder import EmbedderIdentity, register_embedder
from ..errors import ModelPackError
from .pack import RETRIEVER, Manifest, read_manifest, resolve_pack, set_offline, verify_pack

EMBEDDER_NAME = "clip-onnx"
EMBEDDER_FORMAT = "1"


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


def load_embedder(pack: str | Path, precision: str = "fp32", batch_size: int = 32, provider: str | None = None,
                  verify: bool = True):
    """An OnnxClipEmbedder from a pack folder or installed pack name (verified first).

    ``precision`` ``"fp32"`` or ``"int8"`` (the pack must hold the int8 tower); ``provider``
    ``"auto"`` (default), ``"cpu"`` or ``"cuda"``. Raises ModelPackError.
    """
    from .onnx_retriever import OnnxClipEmbedder  # noqa: PLC0415
    from .providers import choose_providers  # noqa: PLC0415

    set_offline()
    folder = resolve_pack(pack)
    manifest = verify_pack(folder, check_loads=False) if verify else read_manifest(folder)
    key = {"fp32": "image_onnx", "int8": "image_int8_onnx"}.get(precision)
    if key is None:
        raise ModelPackError(f"Unknown precision '{precision}'; choose fp32 or int8.")
    path = manifest.file(RETRIEVER, key)
    if path is None:
        raise ModelPackError(f"Model pack {folder} has no {precision} image tower; rebuild it with --int8 or use fp32.")
    config = manifest.component(RETRIEVER)["config"]
    try:
        return OnnxClipEmbedder(path, pack_identity(manifest, precision), config.get("preprocess"),
                                batch_size=batch_size, providers=choose_providers(provider))
    except Exception as exc:  # noqa: BLE001
        raise ModelPackError(f"{path.name} in model pack {folder} cannot be loaded ({exc}); rebuild the pack.") from None


def load_retriever(pack_dir: str | Path, provider: str | None = None, verify: bool = True):
    """The OnnxClipRetriever (text tower) of a pack folder or installed pack name. Raises ModelPackError."""
    from .onnx_retriever import OnnxClipRetriever  # noqa: PLC0415
    from .providers import choose_providers  # noqa: PLC0415

    set_offline()
    folder = resolve_pack(pack_dir)
    manifest = verify_pack(folder, check_loads=False) if verify else read_manifest(folder)
    entry = manifest.component(RETRIEVER)
    text = manifest.file(RETRIEVER, "text_onnx")
    try:
        return OnnxClipRetriever(text, pack_identity(manifest), bpe_path=manifest.file(RETRIEVER, "tokenizer"),
                                 context_length=int(entry["config"]["text_cfg"]["context_length"]),
                                 providers=choose_providers(provider))
    except Exception as exc:  # noqa: BLE001
        raise ModelPackError(f"The retriever of model pack {folder} cannot be loaded ({exc}); rebuild the pack.") from None


def pack_for_gallery(gallery, pack: str | Path | None = None) -> tuple[Path, dict]:
    """The pack whose CLIP made ``gallery``'s vectors: (folder, {name, version, manifest_sha256, weights}).

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
        return manifest.folder, manifest.info()
    from .pack import list_installed_packs  # noqa: PLC0415

    for manifest in list_installed_packs():
        if manifest.sha256 == want:
            return manifest.folder, manifest.info()
    raise ModelPackError(f"The gallery was built with model pack {need}, which is not installed; install it "
                         "with 'interreid pack install SRC' or give --pack DIR.")


def _full_embedder_factory(pack: str | Path | None = None, **kwargs):
    if pack is None:
        raise ModelPackError("The full engine needs a model pack; give --pack DIR (or an installed pack's name).")
    return load_embedder(pack, **kwargs)


register_embedder("full", _full_embedder_factory)

__all__ = ["load_embedder", "load_retriever", "pack_for_gallery", "pack_identity", "verify_pack"]
