"""The embedder interface both engines implement, and a registry of embedders by name.

An embedder turns images into an (N, D) float32 array whose rows are L2-normalised. Its
``identity`` (name, version, dimension, and for model-pack embedders the pack's manifest hash)
is stored in the gallery so that a gallery is never searched with vectors of another kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class EmbedderIdentity:
    """Who made a gallery's vectors. Two galleries are comparable iff identities are equal."""

    name: str
    version: str
    dim: int
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def as_dict(self) -> dict:
        return {"name": self.name, "version": self.version, "dim": self.dim, **self.extra}


class Embedder(Protocol):
    """Images in, an (N, D) float32 L2-normalised array out."""

    identity: EmbedderIdentity
    batch_size: int

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Embed RGB PIL images. Returns float32 (len(images), identity.dim), rows L2-normalised."""
        ...


def l2_normalise(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Row-wise L2 normalisation in float32."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, eps)).astype(np.float32)


_FACTORIES: dict[str, Callable[..., Embedder]] = {}


def register_embedder(name: str, factory: Callable[..., Embedder]) -> None:
    """Register an embedder factory under ``name`` (e.g. ``lite``, ``full``)."""
    _FACTORIES[name] = factory


def create_embedder(name: str, **kwargs) -> Embedder:
    """Build a registered embedder. ``full`` needs ``pack=DIR``."""
    _load_builtin_embedders()
    if name not in _FACTORIES:
        from .errors import UserError

        raise UserError(f"Unknown engine '{name}'; choose one of: {', '.join(sorted(_FACTORIES))}.")
    return _FACTORIES[name](**kwargs)


def _load_builtin_embedders() -> None:
    # Imported here so that registering costs nothing until an embedder is needed.
    from . import lite  # noqa: F401  (registers "lite")

    try:
        from . import full  # noqa: F401  (registers "full")
    except ImportError:  # full engine not built yet in this checkout
        pass
