"""``interreid gallery import|info``."""

from __future__ import annotations

import sys

from ..errors import UserError
from .output import emit_json


def register(sub) -> None:
    p = sub.add_parser("gallery", help="import folders of person crops into a gallery; show a gallery")
    gsub = p.add_subparsers(dest="gallery_command", metavar="ACTION", required=True)

    imp = gsub.add_parser("import", help="import folder trees of person crops (recursive; resumable)")
    imp.add_argument("sources", nargs="+", metavar="SRC",
                     help="folders (or image or video files) to import; video files are cut into person crops")
    imp.add_argument("--gallery", required=True, metavar="DIR", help="gallery folder (created if new)")
    imp.add_argument("--engine", choices=("lite", "full"), default="lite",
                     help="which engine computes the vectors (default: lite, no model pack needed)")
    imp.add_argument("--pack", metavar="DIR", help="model pack folder or installed pack name (--engine full)")
    from .gallery_index import BACKENDS

    imp.add_argument("--index", choices=BACKENDS,
                     default=None, help="index backend (default auto: exact below 200,000 images, bits above: a "
                          "64-byte code per image scanned in full, the best rows re-scored exactly; bits-ivf: the same "
                          "codes grouped into lists, only those nearest the query scanned; usearch and "
                          "faiss-ivfpq compress the index, see docs/scale.md; qdrant: a Qdrant store beside the "
                          "gallery, or the server named by --qdrant-url)")
    imp.add_argument("--qdrant-url", metavar="URL", help="with --index qdrant: the force's Qdrant server "
                     "(https://host:6333; API key from INTERREID_QDRANT_API_KEY)")
    imp.add_argument("--vectors", choices=("fp32", "fp16", "int8"), default=None,
                     help="precision of a new gallery's vector file (default fp32; fp16 halves it, int8 quarters "
                          "it; chosen when the gallery is created)")
    imp.add_argument("--image-tower", choices=("fp32", "int8"), default=None,
                     help="with --engine full: the model pack's image model that measures a new gallery's images "
                          "(default fp32; int8, in packs built with --int8, imports faster on a computer without "
                          "a graphics card; its vectors are close to fp32's, not the same: a pack build refuses a tower "
                          "below 0.99 cosine on real crops; an existing gallery keeps its own)")
    imp.add_argument("--plain", action="store_true", help="do not encrypt a new gallery at rest (by default its "
                                                         "database and thumbnails are encrypted with the "
                                                         "workstation passphrase)")
    imp.add_argument("--json", action="store_true", help="print the import report as JSON")
    imp.add_argument("--ray", action="store_true",
                     help="spread the work over Ray workers on this workstation (one video or batch of images "
                          "per worker at a time; the gallery is the same as without it)")
    imp.add_argument("--workers", type=int, default=None, metavar="N",
                     help="Ray workers with --ray (default 2), or at most N on the cluster of --ray-address")
    imp.add_argument("--ray-address", metavar="ADDR",
                     help="run the workers on an existing Ray cluster (e.g. ray://head:10001); its workers must "
                          "see the source files under the same paths")
    from .gallery_video import add_video_arguments, register_video_commands

    add_video_arguments(imp)
    imp.set_defaults(func=cmd_import)
    register_video_commands(gsub)
    from .gallery_synthetic import register_synthetic_command

    register_synthetic_command(gsub)

    rk = gsub.add_parser("rekey", help="change the passphrase an encrypted gallery (database and thumbnails) is "
                                       "encrypted with; run it with 'case rekey' so cases and galleries agree")
    rk.add_argument("gallery", metavar="DIR")
    rk.add_argument("--new-key-file", metavar="FILE", required=True,
                    help="file whose first line is the new passphrase")
    rk.set_defaults(func=cmd_rekey)

    from .gallery_index import register_index_command

    register_index_command(gsub)

    info = gsub.add_parser("info", help="counts, engine, index backend and skipped files of a gallery")
    info.add_argument("gallery", metavar="DIR")
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=cmd_info)


def cmd_import(args) -> int:
    from ..gallery.store import Gallery
    from ..session import import_into
    from .gallery_video import ImportBars, video_options

    options = video_options(args)
    progress = ImportBars("importing")

    from ..gallery.importer import printable
    from ..session import check_sources

    check_sources(args.sources)  # before the gallery folder is made, so a typo leaves nothing behind
    from .gallery_index import check_index_options

    check_index_options(args.index, args.qdrant_url)
    ray = _ray_options(args)
    try:
        report, gallery = import_into(args.gallery, args.sources, engine=args.engine, pack=args.pack,
                                      index=args.index, vectors=args.vectors, tower=args.image_tower,
                                      progress=progress, keep_open=True,
                                      video_options=options, encrypt=not args.plain, index_url=args.qdrant_url,
                                      ray=ray)
    except KeyboardInterrupt:
        progress.close()
        with Gallery.open(args.gallery) as gallery:
            saved, folder = len(gallery), gallery.folder
        print(f"interreid: import interrupted; {saved} images are saved in {folder}; "
              "run the same command again to resume.", file=sys.stderr)
        return 130
    progress.close()
    with gallery:
        total = len(gallery)
    if args.json:
        emit_json({**report.as_dict(), "gallery": str(gallery.folder), "gallery_images": total})
    else:
        partly, skipped = report.partly_imported(), report.not_imported()
        cut = f", {len(partly)} video(s) imported only up to where they stop" if partly else ""
        print(f"imported {report.imported} new images, {report.duplicates} duplicates (same SHA-256, source "
              f"recorded), {report.already} already imported, {len(skipped)} skipped{cut} "
              f"in {report.elapsed_s:.1f} s; the gallery now holds {total} images.")
        from .gallery_video import print_videos

        print_videos(report)
        for path, reason in partly:
            print(f"partly imported {printable(path)}: {reason}")
        for path, reason in skipped:
            print(f"skipped {printable(path)}: {reason}")
    return 0


def _ray_options(args):
    """RayOptions for --ray/--ray-address (None: the single-process import)."""
    if not (args.ray or args.ray_address):
        if args.workers is not None:
            raise UserError("--workers sets the number of Ray workers; add --ray (or --ray-address ADDR).")
        return None
    workers = 2 if args.workers is None else args.workers
    if workers < 1:
        raise UserError(f"--workers {workers} is too few; give at least 1.")
    from ..gallery.ray_ingest import RayOptions

    return RayOptions(workers=workers, address=args.ray_address)


def cmd_rekey(args) -> int:
    from pathlib import Path

    from ..gallery.store import DB_NAME, Gallery
    from ..storage import blobs, keys, rekey_database

    try:
        new = Path(args.new_key_file).read_text(encoding="utf-8").splitlines()[0]
    except (OSError, UnicodeDecodeError, IndexError):
        raise UserError(f"The new key file {args.new_key_file} cannot be read or is empty; write the new passphrase "
                        "on its first line.") from None
    if not new:
        raise UserError("An empty passphrase cannot protect a gallery; nothing was changed.")
    with Gallery.open(args.gallery) as gallery:  # proves the current passphrase opens it
        if not gallery.encrypted:
            raise UserError(f"Gallery {gallery.folder} is not encrypted; import into a new gallery to have it "
                            "encrypted.")
        folder = gallery.folder
        gallery.checkpoint()
    from ..gallery.importer import _ImportLock

    old = keys.get_passphrase("the gallery's current passphrase")
    with _ImportLock(folder):
        sealed = 0
        from_video = 0
        video_files = [p for sub in ("crops", "masks", "backgrounds") for p in sorted((folder / sub).rglob("*.png"))]
        for image in sorted((folder / "thumbs").rglob("*.jpg")) + video_files:
            data = image.read_bytes()
            if blobs.is_sealed(data):
                salt = data[len(blobs.MAGIC):len(blobs.MAGIC) + 16]
                blobs.write_private(image, blobs.seal(blobs.unseal(data, old), salt, new))
                if image.suffix == ".png":
                    from_video += 1
                else:
                    sealed += 1
        what = rekey_database(folder / DB_NAME, old, new, what="gallery")
    also = f"; also {from_video} crops, masks and backgrounds cut from video" if from_video else ""
    print(f"{folder}: database {what}; {sealed} thumbnails re-sealed with the new passphrase{also}")
    return 0


def cmd_info(args) -> int:
    from ..gallery.store import Gallery
    from ..video.cameras import clock_words

    with Gallery.open(args.gallery) as gallery:
        info = gallery.info()
        from ..video.query import list_tracks, list_videos

        info["videos"] = list_videos(gallery)
        info["tracks"] = len(list_tracks(gallery))
        from ..gallery.manifest import checkpoints

        marks = checkpoints(gallery)  # read only: 'info' writes nothing (a case's citing adds checkpoints)
        info["manifest"] = {"rows": marks[-1][0], "head": marks[-1][1]} if marks else None
    if args.json:
        emit_json(info)
        return 0
    emb = info["embedder"]
    idx = info["index"]
    print(f"gallery      {info['folder']}")
    print(f"images       {info['images']} ({info['source_files']} source files, {info['duplicates']} duplicates)")
    print(f"cameras      {', '.join(info['cameras']) or '-'}")
    if info["videos"]:
        print(f"videos       {len(info['videos'])} ({info['tracks']} person tracks)")
        for v in info["videos"]:
            print(f"  {v['path']}: {v['status']}, camera {v['camera']}, clock from {clock_words(v['time_from'])}")
    tower = f", {emb['precision']} image model" if emb.get("manifest_sha256") and emb.get("precision") else ""
    print(f"embedder     {emb['name']} version {emb['version']} ({emb['dim']}-d{tower})")
    print(f"index        {idx['backend']} (setting {idx['setting']}; exact below {idx['exact_threshold']})")
    if idx["backend"] == "qdrant":
        server = idx["qdrant"]["server"]
        print(f"  Qdrant collection {idx['qdrant']['collection']} on "
              f"{'the store beside the gallery' if server == 'embedded' else server}")
    from ..gallery.vector_store import size_text

    vf = info.get("vector_file") or {}
    print(f"vectors      {info.get('vector_format', 'fp32')} precision" + (
        f", in {vf['file']} ({size_text(vf['bytes'])}; their only copy, {vf['hashed_blocks']} hashed blocks)"
        if vf.get("home") == "file" else " (kept in the database; the vector file beside it is derived from it)"))
    print(f"fingerprint  {info['fingerprint']}")
    if info["manifest"]:  # the value a case and its report cite as the gallery's manifest
        m = info["manifest"]
        print(f"manifest     {m['head']} (its first {m['rows']} images; a case made on this gallery cites it "
              "as its gallery manifest)")
    print(f"encrypted    {'yes (database and thumbnails)' if info.get('encrypted') else 'no'}")
    print(f"skipped      {info['skipped']} files")
    for item in info["skipped_files"]:
        print(f"  {item['path']}: {item['reason']}")
    return 0
