"""The full engine: the model pack's CLIP retriever on onnxruntime (plus selector and questioner).

Importing this package registers the ``full`` embedder; nothing heavy is imported until a pack is
loaded. A pack is opened (and verified) once into a :class:`~engine.full.pack.ModelPack`
(``open_pack``, ``open_pack_for_gallery``), which hands out its retriever, embedder, selector and
questioner. The format, registry and builder live in ``manifest.py``, ``registry.py`` and
``build.py``.
"""

from __future__ import annotations

from pathlib import Path

from ..embedder import register_embedder
from ..errors import ModelPackError
from .manifest import verify_pack
from .pack import (ModelPack, load_embedder, load_retriever, open_pack, open_pack_for_gallery, pack_for_gallery,
                   pack_identity)


def _full_embedder_factory(pack: str | Path | None = None, **kwargs):
    if pack is None:
        raise ModelPackError("The full engine needs a model pack; give --pack DIR (or an installed pack's name).")
    return load_embedder(pack, **kwargs)


register_embedder("full", _full_embedder_factory)

__all__ = ["ModelPack", "load_embedder", "load_retriever", "open_pack", "open_pack_for_gallery", "pack_for_gallery",
           "pack_identity", "verify_pack"]
