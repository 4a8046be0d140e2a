"""T-ReID re-ranking (paper §5.3, Table 2): fuse a text-based re-ID model's similarity for the
witness's initial description with the interactive retriever's similarity for the dialogue.

The paper encodes the initial description with an existing T-ReID model (IRRA, RDE), the
dialogue with its own retriever, and re-ranks "by averaging the similarity". Here::

    fused = (1 - w) * s_dialogue + w * s_treid * (T_dialogue / T_treid)

on the interactive retriever's scale, with ``T`` each model's softmax temperature (paper Eq. 1).
For two CLIP-style models (both T = 0.02) and ``w = 0.5`` that is exactly the paper's plain
average; for models whose scores are on other scales (the lite engine's log-likelihoods, T = 1)
it averages their logits, so neither dominates only because of its units.

A T-ReID model is a model pack (same format): its ``treid`` component if it has one, else its
``retriever`` component (so any pack built with ``interreid pack build --irra/--clip`` serves);
or ``lite`` for the lite engine's colour scorer. Its image vectors of a gallery are computed once
and kept beside the gallery (``<gallery>/treid/<model>.npz``, by image SHA-256).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ModelPackError, UserError

DEFAULT_WEIGHT = 0.5  # the paper's plain average
COMPONENT = "treid"


class GalleryTreid:
    """A T-ReID model's scores for a text over every image of one gallery (rows in gallery order)."""

    def __init__(self, name: str, identity: dict, retriever, vectors: np.ndarray):
        self.name = name
        self.identity = identity
        self.retriever = retriever
        self.temperature = float(retriever.temperature)
        self.vectors = vectors
        self._cache: dict[str, np.ndarray] = {}
        self.spec = ""  # what the user gave (--treid), so that a case can load it again

    def scores(self, text: str) -> np.ndarray:
        out = self._cache.get(text)
        if out is None:
            out = np.asarray(self.retriever.score(text, self.vectors), dtype=np.float32)
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[text] = out
        return out


@dataclass
class TreidFusion:
    """What an engine carries to re-rank with a T-ReID model (see the module docstring)."""

    model: GalleryTreid
    weight: float = DEFAULT_WEIGHT
    notes: list[str] = field(default_factory=list)

    def fuse(self, scores: np.ndarray, temperature: float, initial: str) -> np.ndarray:
        """``scores`` (the interactive retriever's, gallery order) fused with the T-ReID model's
        scores for ``initial``; same scale and temperature as ``scores``."""
        treid = self.model.scores(initial)
        if treid.shape != np.shape(scores):
            raise UserError("Images were added to the gallery after the second matching model was loaded; "
                            "close and reopen the case to include them.")
        return fuse(scores, temperature, treid, self.model.temperature, self.weight)

    def identity(self) -> dict:
        return {"model": self.model.identity, "weight": self.weight, "spec": self.model.spec}

    def describe(self) -> str:
        return f"re-ranked with the T-ReID model {self.model.name} (weight {self.weight:g})"


def fuse(dialogue: np.ndarray, t_dialogue: float, treid: np.ndarray, t_treid: float, weight: float) -> np.ndarray:
    d = np.asarray(dialogue, dtype=np.float64)
    t = np.asarray(treid, dtype=np.float64)
    if d.shape != t.shape:
        raise ValueError(f"score shapes differ: {d.shape} vs {t.shape}")
    return ((1.0 - weight) * d + weight * t * (float(t_dialogue) / float(t_treid))).astype(np.float32)


def check_weight(weight: float) -> float:
    if not 0.0 <= float(weight) <= 1.0:
        raise UserError(f"The T-ReID weight must lie between 0 and 1 (got {weight}); 0.5 is the paper's average.")
    return float(weight)


# -- loading -------------------------------------------------------------------------------------
def _cached_vectors(gallery, key: str, dim: int, embed) -> np.ndarray:
    """The model's vectors of every gallery image, computing only the images not cached yet."""
    shas = gallery.shas()
    folder = Path(gallery.folder) / "treid"
    path = folder / f"{key}.npz"
    known: dict[str, np.ndarray] = {}
    if path.is_file():
        try:
            with np.load(path) as data:
                known = dict(zip(data["shas"].tolist(), data["vectors"]))
        except (OSError, ValueError, KeyError):
            known = {}  # a damaged cache is recomputed
    missing = [r for r, s in enumerate(shas) if s not in known]
    if missing:
        for start in range(0, len(missing), 64):
            rows = missing[start:start + 64]
            vecs = embed([gallery.load_image(r) for r in rows])
            for r, v in zip(rows, vecs):
                known[shas[r]] = v
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.npz"
        np.savez(tmp, shas=np.array(list(known)), vectors=np.stack(list(known.values())).astype(np.float32))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    if not shas:
        return np.zeros((0, dim), dtype=np.float32)
    return np.stack([known[s] for s in shas]).astype(np.float32)


def _lite_model(gallery) -> GalleryTreid:
    from ..lite.embedder import LiteEmbedder  # noqa: PLC0415
    from ..lite.retriever import LiteRetriever  # noqa: PLC0415

    ident = LiteEmbedder.identity
    if gallery.embedder_identity.name == ident.name:
        vectors = gallery.vectors()
    else:
        vectors = _cached_vectors(gallery, f"lite-colour-{ident.version}", ident.dim, LiteEmbedder().embed_images)
    return GalleryTreid("lite colour scorer", {"kind": "lite", **ident.as_dict()}, LiteRetriever(), vectors)


def _pack_model(gallery, pack: str) -> GalleryTreid:
    from ..embedder import EmbedderIdentity  # noqa: PLC0415
    from ..full.onnx_retriever import OnnxClipEmbedder, OnnxClipRetriever  # noqa: PLC0415
    from ..full.pack import resolve_pack, set_offline, verify_pack  # noqa: PLC0415
    from ..full.providers import choose_providers  # noqa: PLC0415

    set_offline()
    manifest = verify_pack(resolve_pack(pack), check_loads=False)
    comp = COMPONENT if COMPONENT in manifest.components else "retriever"
    entry = manifest.component(comp)
    config = entry.get("config") or {}
    image, text = manifest.file(comp, "image_onnx"), manifest.file(comp, "text_onnx")
    if image is None or text is None or "embed_dim" not in config:
        raise ModelPackError(f"The {comp} component of model pack {manifest.folder} has no ONNX image/text pair; "
                             "a T-ReID model needs both towers.")
    ident = EmbedderIdentity("clip-onnx-treid", f"1:{manifest.sha256[:16]}:{comp}", int(config["embed_dim"]),
                             extra={"pack": manifest.name, "pack_version": manifest.version,
                                    "manifest_sha256": manifest.sha256, "component": comp,
                                    "weights": manifest.weights})
    try:
        providers = choose_providers(None)
        embedder = OnnxClipEmbedder(image, ident, config.get("preprocess"), providers=providers)
        retriever = OnnxClipRetriever(text, ident, bpe_path=manifest.file(comp, "tokenizer"),
                                      context_length=int(config.get("text_cfg", {}).get("context_length", 77)),
                                      providers=providers)
    except Exception as exc:  # noqa: BLE001
        raise ModelPackError(f"The T-ReID model in pack {manifest.folder} cannot be loaded ({exc}); "
                             "rebuild the pack.") from None
    vectors = _cached_vectors(gallery, f"pack-{manifest.sha256[:16]}-{comp}", ident.dim, embedder.embed_images)
    name = f"{manifest.name} {manifest.version}" + (" (untrained)" if manifest.weights == "random" else "")
    return GalleryTreid(name, {"kind": "pack", **ident.as_dict()}, retriever, vectors)


def load_treid(spec: str, gallery) -> GalleryTreid:
    """A T-ReID model over ``gallery``: ``lite``, or a model pack folder / installed pack name."""
    spec = str(spec).strip()
    if not spec:
        raise UserError("--treid needs a model pack (a folder or an installed pack's name) or 'lite'.")
    model = _lite_model(gallery) if spec == "lite" else _pack_model(gallery, spec)
    model.spec = spec if spec == "lite" else str(Path(spec).absolute()) if Path(spec).is_dir() else spec
    return model


def attach_treid(engine, gallery, spec: str | None, weight: float = DEFAULT_WEIGHT):
    """Give ``engine`` (EngineParts) a T-ReID re-ranker over ``gallery``; returns the engine.
    ``spec`` None or empty leaves it as it is."""
    if spec:
        engine.treid = TreidFusion(load_treid(spec, gallery), check_weight(weight))
    return engine


def spec_from_identity(recorded: dict) -> str | None:
    """The ``--treid`` value that loads the model a case recorded (``TreidFusion.identity()``)."""
    model = (recorded or {}).get("model") or {}
    if model.get("kind") == "lite":
        return "lite"
    spec = (recorded or {}).get("spec")
    if spec and Path(spec).is_dir():  # the same folder, if it still holds the same pack
        from ..full.pack import read_manifest  # noqa: PLC0415

        try:
            if read_manifest(spec).sha256 == model.get("manifest_sha256"):
                return spec
        except ModelPackError:
            pass
    if model.get("pack"):
        return f"{model['pack']}-{model.get('pack_version', '')}".rstrip("-")
    return None
