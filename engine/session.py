"""The engine's front door: one verb each to open a case, create a case and import into a gallery.

The CLI, the desktop app, the demo and the benchmark all come in through here, so a case is
opened (with its gallery and engine) the same way everywhere, and every caller gives the same
warnings::

    with open_case("theft.case") as s:          # case + its gallery + the engine it was made with
        print(s.warnings)                         # e.g. the gallery's images changed since
        Interview(s.gallery, s.engine, case=s.case)

    new_case("theft.case", "Theft", "j.doe", "gallery/").close()
    import_into("gallery/", ["crops/"], engine="lite", progress=print)

Each verb imports what it needs lazily (``--help`` stays light).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import UserError

DEFAULT_SELECTOR = "kmeans"
DEFAULT_QUESTIONER = "infogain"

#: said when a case's gallery no longer holds the images the case was made with
FINGERPRINT_WARNING = ("The gallery's images differ from those the case was made with; run 'interreid case "
                       "verify' (or Verify in the app) for details.")


@dataclass
class CaseSession:
    """An open case (or none), its open gallery and the engine. Close it when done."""

    case: Any  # CaseFile | None
    gallery: Any  # Gallery
    engine: Any  # EngineParts
    warnings: list[str] = field(default_factory=list)

    def close(self) -> None:
        """Close the case and the gallery (each at most once; a failure closing one still closes the other)."""
        try:
            if self.case is not None:
                self.case.close()
        finally:
            self.gallery.close()

    def __enter__(self) -> "CaseSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def engine_for(gallery, selector: str | None = None, questioner: str | None = None, pack=None,
               load_questioner: bool = True, treid: str | None = None, treid_weight: float | None = None):
    """The engine for an open gallery with the named selector and questioner (defaults: kmeans, infogain),
    re-ranked with a T-ReID model (``treid``: "lite" or a pack; paper Table 2) when one is named."""
    from .engines import build_engine

    engine = build_engine(gallery, selector=selector or DEFAULT_SELECTOR,
                          questioner=questioner or DEFAULT_QUESTIONER, pack=pack, load_questioner=load_questioner)
    if treid:
        from .treid import DEFAULT_WEIGHT, attach_treid

        attach_treid(engine, gallery, treid, DEFAULT_WEIGHT if treid_weight is None else treid_weight)
    return engine


def open_gallery(folder: str | Path, selector: str | None = None, questioner: str | None = None, pack=None,
                 load_questioner: bool = True, treid: str | None = None,
                 treid_weight: float | None = None) -> CaseSession:
    """A gallery and its engine with no case file (nothing is recorded)."""
    from .gallery.store import Gallery

    gallery = Gallery.open(folder)
    try:
        return CaseSession(None, gallery, engine_for(gallery, selector, questioner, pack, load_questioner, treid,
                                                     treid_weight))
    except BaseException:
        gallery.close()
        raise


def open_case(path: str | Path, gallery: str | Path | None = None, selector: str | None = None,
              questioner: str | None = None, pack=None, load_questioner: bool = True, treid: str | None = None,
              treid_weight: float | None = None) -> CaseSession:
    """Open an existing case for an interview: the case, its gallery (or ``gallery``) and the engine
    with the selector and questioner the case was made with (unless others are named).

    ``warnings`` says when the gallery no longer holds the images the case was made with."""
    from .casefile import CaseFile
    from .errors import CaseFileError, GalleryMovedError
    from .gallery.store import Gallery

    path = Path(path).expanduser().absolute()
    case = CaseFile.open(path)
    opened = None
    try:
        meta = case.metadata()
        folder = gallery or meta.get("gallery_path")
        if not folder:
            raise CaseFileError(f"{path} names no gallery; it cannot be opened for an interview.")
        if gallery is None and not Path(folder).exists():  # not "import images into it first": it was made
            raise GalleryMovedError(f"This case's gallery is no longer at {folder} (moved, renamed, or on a drive "
                                    "that is not connected); put it back there, or record its new place with "
                                    "'interreid case relocate FILE --gallery DIR'.", str(folder))
        opened = Gallery.open(folder)
        warnings = []
        cited = case.gallery_manifest()
        if cited is not None:  # format 3: the gallery's checkpoint at the case's size, and how many rows since
            from .gallery import manifest

            if manifest.head_at(opened, cited["rows"]) != cited["head"]:
                warnings.append(FINGERPRINT_WARNING)
            elif len(opened) > cited["rows"]:
                warnings.append(FINGERPRINT_WARNING.rstrip(".") + (
                    f"; its {len(opened) - cited['rows']} newer image(s) are left out of this interview ('interreid "
                    "case extend', or Extend in the app, adds them, recorded in the case)."))
        elif opened.fingerprint() != meta.get("gallery_fingerprint"):
            held = {sha for _i, sha, _p in case.gallery_snapshot()}
            newer = sum(1 for sha in opened.shas() if sha not in held)
            warnings.append(FINGERPRINT_WARNING if not newer else FINGERPRINT_WARNING.rstrip(".") + (
                f"; its {newer} newer image(s) are left out of this interview ('interreid case extend', or "
                "Extend in the app, adds them, recorded in the case)."))
        chosen = meta.get("engine") or {}
        recorded = chosen.get("treid")  # the T-ReID model the case was made with, unless another is named
        if not treid and recorded:
            from .treid import spec_from_identity

            treid = spec_from_identity(recorded)
        if treid_weight is None and recorded:
            treid_weight = float(recorded.get("weight", 0.5))
        engine = engine_for(opened, selector or chosen.get("selector"), questioner or chosen.get("questioner"),
                            pack, load_questioner, treid, treid_weight)
        from .gallery.qdrant_index import record_index

        record_index(case, opened)  # a Qdrant-searched gallery: which collection, server and size (audit chain)
        return CaseSession(case, opened, engine, warnings)
    except BaseException:
        case.close()
        if opened is not None:
            opened.close()
        raise


def new_case(path: str | Path, title: str, investigator: str | None, gallery: str | Path,
             selector: str | None = None, questioner: str | None = None, pack=None,
             load_questioner: bool = False, treid: str | None = None,
             treid_weight: float | None = None, encrypt: bool = True) -> CaseSession:
    """Create a case file for an interview on ``gallery`` (a folder): gallery -> engine -> case.

    The engine is built first, so a bad selector/questioner/pack is refused before any file is
    written; ``load_questioner=False`` leaves a LLaVA questioner unloaded (the caller loads it).
    ``encrypt`` (default on) encrypts the case at rest with the workstation's passphrase (the demo's
    case is plain). Returns the open session; close it (or use ``with``) when done."""
    import getpass

    from .casefile import CaseFile

    session = open_gallery(gallery, selector, questioner, pack, load_questioner, treid, treid_weight)
    try:
        if len(session.gallery) == 0:
            raise UserError(f"Gallery {session.gallery.folder} holds no images; import some before opening a case.")
        session.case = CaseFile.create(path, title, investigator or getpass.getuser(), session.gallery,
                                       session.engine.identity(), encrypt=encrypt)
        from .gallery.qdrant_index import record_index

        record_index(session.case, session.gallery)
        return session
    except BaseException:
        session.close()
        raise


IMAGE_TOWERS = ("fp32", "int8")  # a model pack's image towers (the int8 one only in packs built with --int8)


def open_embedder(engine: str = "lite", pack=None, tower: str = "fp32"):
    """The embedder that computes a gallery's vectors: ``lite`` (no model pack) or ``full`` (a pack),
    the full engine with the pack's ``tower`` (fp32, or the int8 tower: faster on a processor)."""
    from .embedder import create_embedder

    if engine == "full":
        if not pack:
            raise UserError("The full engine needs a model pack; give --pack DIR (or an installed pack's name).")
        return create_embedder("full", pack=pack, precision=tower)
    if tower != "fp32":
        raise UserError("The lite engine has no model to choose; the int8 image model is for model packs "
                        "(--engine full --pack DIR).")
    return create_embedder(engine)  # lite needs no pack; an unknown name is refused in one sentence


def gallery_tower(gallery: str | Path, tower: str | None) -> str:
    """The image tower an import into ``gallery`` uses: a gallery's own (an existing full-engine gallery
    keeps the tower it was made with, so its vectors never mix two models), else ``tower`` (default
    fp32). Asking an existing gallery for another tower is refused in one sentence."""
    from .gallery.store import Gallery

    if tower is not None and tower not in IMAGE_TOWERS:
        raise UserError(f"Unknown image model '{tower}'; choose one of: {', '.join(IMAGE_TOWERS)}.")
    if not (Path(gallery) / "gallery.db").is_file():
        return tower or "fp32"
    with Gallery.open(gallery, read_only=True) as opened:
        ident = opened.embedder_identity
    if "manifest_sha256" not in ident.extra:
        return tower or "fp32"  # not a model pack's gallery: open_embedder refuses int8 in its own words
    own = str(ident.extra.get("precision") or "fp32")
    if tower is not None and tower != own:
        raise UserError(f"The gallery {gallery} was made with the model pack's {own} image model; import into it "
                        f"without choosing another (its vectors must all come from one model), or import into a "
                        "new gallery folder.")
    return own


def relocate_gallery(case_path: str | Path, folder: str | Path) -> str:
    """Record in the case at ``case_path`` that its gallery is now at ``folder`` (an audited step, refused
    unless the folder holds the same gallery); one sentence saying what was done."""
    from .casefile import CaseFile

    with CaseFile.open(Path(case_path).expanduser().absolute()) as case:
        before, now = case.relocate_gallery(folder)
    if before == now:
        return f"The case already names its gallery at {now}; nothing changed."
    return (f"Recorded in the case that its gallery is now at {now} (it named {before}); the step is in the case's "
            "audit log.")


def check_sources(sources) -> None:
    """Refuse, in one sentence, a source that does not exist or a folder that holds no image and no video
    file: checked before the gallery folder is made, so a typo leaves nothing behind (CLI and app)."""
    from .gallery.importer import find_images, printable
    from .video.importer import collect_videos

    for src in sources:
        root = Path(src).expanduser().absolute()
        if not root.exists():
            raise UserError(f"Source folder {printable(root)} does not exist; check the path and try again.")
        if root.is_dir() and next(find_images(root), None) is None and not collect_videos([root]):
            raise UserError(f"{printable(root)} holds no image files (.jpg, .jpeg, .png, .bmp, .webp) and no video "
                            "files; nothing was imported.")


def import_into(gallery: str | Path, sources, engine: str = "lite", pack=None, embedder=None,
                index: str | None = None, progress: Callable | None = None, cancel: Callable[[], bool] | None = None,
                keep_open: bool = False, video_options=None, encrypt: bool = False, index_url: str | None = None,
                ray=None, vectors: str | None = None, tower: str | None = None):
    """Import folders (or files) into the gallery in ``gallery`` (created if new): embedder ->
    Gallery.create -> import. Resumable: importing the same sources again continues.

    ``embedder`` (an open embedder) is used instead of ``engine``/``pack`` when given; ``index``
    sets the gallery's index backend (auto | exact | bits | bits-ivf | hnsw | usearch | faiss-ivfpq); ``vectors`` the
    precision of a new gallery's vector file (fp32 | fp16 | int8); ``encrypt`` encrypts a new
    gallery at rest (the CLI and the app ask for it unless told not to; the demo's and a
    benchmark's galleries are plain); ``tower`` the model pack's image tower for a new full-engine
    gallery (fp32, default, or int8; an existing gallery keeps its own); ``ray`` (a RayOptions) spreads the per-file work over Ray
    workers (engine/gallery/ray_ingest.py), the gallery written the same. Returns the ImportReport, or
    (report, open gallery) with ``keep_open`` (the caller closes it). A KeyboardInterrupt leaves
    the imported part saved."""
    from .gallery.importer import import_sources
    from .gallery.store import Gallery

    if embedder is None:
        embedder = open_embedder(engine, pack, gallery_tower(gallery, tower) if engine == "full" else tower or "fp32")
    opened = Gallery.create(gallery, embedder.identity, encrypt=encrypt, vector_format=vectors)
    try:
        if index:
            opened.set_index_backend(index)
        if index_url:  # a Qdrant server (index "qdrant"); the API key stays in the environment
            from .gallery.qdrant_index import set_server

            set_server(opened, index_url)
        if ray is not None:
            from .gallery.ray_ingest import import_sources_ray

            report = import_sources_ray(opened, embedder, [str(s) for s in sources], engine, pack, ray,
                                        progress=progress, cancel=cancel, video_options=video_options)
        else:
            report = import_sources(opened, embedder, [str(s) for s in sources], progress=progress,
                                    cancel=cancel, video_options=video_options)
        report.gallery_images = len(opened)
    except BaseException:
        opened.close()
        raise
    if keep_open:
        return report, opened
    opened.close()
    return report
