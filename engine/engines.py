"""Assemble an engine (retriever + selector + questioner) for a gallery, by name.

The gallery's embedder identity decides the engine: ``lite-colour`` vectors are searched by the
lite retriever, ``clip-onnx`` vectors by the model pack's CLIP text tower.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import UserError
from .interview.protocols import Questioner, Selector
from .retriever import Retriever

LITE_EMBEDDER = "lite-colour"


@dataclass
class EngineParts:
    kind: str  # "lite" | "full"
    retriever: Retriever
    selector: Selector
    questioner: Questioner
    pack: dict | None = None  # name, version, manifest_sha256, weights
    notes: list[str] = field(default_factory=list)
    treid: object | None = None  # a treid.TreidFusion: rankings fused with a T-ReID model (paper Table 2)

    def identity(self) -> dict:
        """What a case records about the engine that produced its rankings and questions."""
        out = {"kind": self.kind, "retriever": self.retriever.identity.as_dict(),
               "selector": self.selector.name, "questioner": self.questioner.name, "pack": self.pack}
        if self.treid is not None:
            out["treid"] = self.treid.identity()
        return out

    def describe(self) -> str:
        pack = ""
        if self.pack:
            pack = f", pack {self.pack.get('name')} {self.pack.get('version')}"
            if self.pack.get("weights") == "random":
                pack += " (untrained — for testing only)"
        out = f"{self.kind} engine{pack}; selector {self.selector.name}, questioner {self.questioner.name}"
        return out + (f"; {self.treid.describe()}" if self.treid is not None else "")


def selector_names() -> list[str]:
    from .interview.selectors import SELECTORS

    return sorted(SELECTORS) + ["learned"]


def make_selector(name: str, pack=None) -> Selector:
    """``pack``: an opened ModelPack, or a pack folder (the learned selector is one of its components)."""
    from .interview.selectors import SELECTORS

    if name in SELECTORS:
        return SELECTORS[name]()
    if name == "learned":
        if pack is None:
            raise UserError("The 'learned' selector needs a model pack; give --pack or choose top, uniform or kmeans.")
        from .full.selector import load_selector  # noqa: PLC0415

        return load_selector(_pack_folder(pack))
    raise UserError(f"Unknown selector '{name}'; choose one of: {', '.join(selector_names())}.")


def make_questioner(name: str, pack=None, load: bool = True) -> Questioner:
    """``pack``: an opened ModelPack, or a pack folder. ``load=False``: the LLaVA questioner comes back
    unloaded (the caller starts its loading)."""
    from .lite.questioners import QUESTIONERS

    if name in QUESTIONERS:
        return QUESTIONERS[name]()
    if name == "llava":
        if pack is None:
            raise UserError("The 'llava' questioner needs a model pack; give --pack or choose infogain or template.")
        from .full.questioner import load_questioner  # noqa: PLC0415

        return load_questioner(_pack_folder(pack), load=load)
    raise UserError(f"Unknown questioner '{name}'; choose one of: {', '.join(sorted(QUESTIONERS) + ['llava'])}.")


def _pack_folder(pack):
    """The folder of an opened ModelPack, or the folder given."""
    from pathlib import Path  # noqa: PLC0415

    from .full.pack import ModelPack  # noqa: PLC0415

    return pack.folder if isinstance(pack, ModelPack) else Path(pack)


def build_engine(gallery, selector: str = "kmeans", questioner: str = "infogain", pack=None,
                 load_questioner: bool = True) -> EngineParts:
    """The engine for ``gallery`` (an open Gallery). ``pack`` is a model pack folder or name.

    ``load_questioner=False`` leaves a LLaVA questioner unloaded, for an app to load it in the
    background (``engine.questioner.start_loading()``); until then it suggests infogain's question
    and says so."""
    ident = gallery.embedder_identity
    if ident.name == LITE_EMBEDDER:
        from .lite.retriever import LiteRetriever

        if pack:
            raise UserError(f"Gallery {gallery.folder} was imported with the lite engine, which uses no model pack; "
                            "leave out --pack, or import into a new gallery with --engine full --pack.")

        return EngineParts("lite", LiteRetriever(), make_selector(selector), make_questioner(questioner))
    from .full import open_pack_for_gallery  # noqa: PLC0415

    opened = open_pack_for_gallery(gallery, pack)  # resolved, read and verified once
    retriever = opened.retriever()
    chooser = make_selector(selector, opened)
    notes = []
    try:
        asker = make_questioner(questioner, opened, load=load_questioner)
    except UserError as exc:
        from .full.components import MissingComponentError  # noqa: PLC0415

        if not isinstance(exc, MissingComponentError):
            raise
        asker = make_questioner("infogain")  # the pack has no questioner: say so and go on
        notes.append(str(exc))
    if asker.name != "llava":  # lite questioners read lite colour vectors: compute them from the images
        from .full.lite_view import LiteViewQuestioner  # noqa: PLC0415

        asker = LiteViewQuestioner(asker)
    return EngineParts("full", retriever, chooser, asker, pack=opened.info(), notes=notes)
