"""``interreid gallery index``: choose a gallery's index backend and bring it up to date (e.g. push
an existing gallery's vectors into Qdrant); the import's ``--index qdrant --qdrant-url`` checks."""

from __future__ import annotations

from ..errors import UserError
from .output import ProgressBar, emit_json

# engine/gallery/index.py's BACKENDS, spelled here so that building the parser imports no numpy
# (tests/test_cli.py checks that the two agree)
BACKENDS = ("auto", "exact", "bits", "bits-ivf", "hnsw", "usearch", "faiss-ivfpq", "qdrant")


def register_index_command(gsub) -> None:
    ix = gsub.add_parser("index", help="choose a gallery's index backend and build it (e.g. push its vectors into "
                                       "a Qdrant store or server)")
    ix.add_argument("gallery", metavar="DIR")
    ix.add_argument("--backend", choices=BACKENDS, required=True,
                    help="auto (exact below 200,000 images, bits above), exact, bits (a 64-byte code per image "
                         "scanned in full, the best rows re-scored exactly), bits-ivf (the same codes grouped into "
                         "k-means lists, only the lists nearest the query scanned: for millions of images), hnsw, "
                         "usearch or faiss-ivfpq "
                         "(compressed, see docs/scale.md), or qdrant (a store beside the gallery, or the server "
                         "named by --qdrant-url)")
    ix.add_argument("--qdrant-url", metavar="URL", help="with --backend qdrant: the force's Qdrant server "
                    "(https://host:6333; API key from INTERREID_QDRANT_API_KEY, never saved); without it the "
                    "store beside the gallery is used")
    ix.add_argument("--json", action="store_true")
    ix.set_defaults(func=cmd_index)


def check_index_options(backend: str | None, url: str | None) -> None:
    """Refuse --qdrant-url without the qdrant backend, a malformed URL, or a server that cannot be reached,
    before anything is written."""
    if url is None:
        return
    if backend != "qdrant":
        raise UserError("--qdrant-url goes with the qdrant index; add --index qdrant (gallery import) or "
                        "--backend qdrant (gallery index).")
    from ..gallery.qdrant_index import probe

    probe(url)


def cmd_index(args) -> int:
    import json

    from ..gallery.index import open_index
    from ..gallery.qdrant_index import EMBEDDED_ADVISED_MAX, META_URL, open_qdrant, set_server
    from ..gallery.store import Gallery

    check_index_options(args.backend, args.qdrant_url)
    with Gallery.open(args.gallery) as gallery:
        vectors = gallery.vectors()
        n = len(vectors)
        if args.backend == "qdrant":
            set_server(gallery, args.qdrant_url)
            bar = None

            def progress(done: int, total: int) -> None:
                nonlocal bar
                if bar is None:
                    bar = ProgressBar("pushing vectors", total)
                bar.update(done, "")

            index = open_qdrant(gallery, vectors, progress=progress)
            if bar is not None:
                bar.close()
            gallery.set_index_backend("qdrant")
            out = {"gallery": str(gallery.folder), "backend": "qdrant", "rows": n, **index.describe(n)}
            where = gallery.meta(META_URL) or "the store beside the gallery (this computer only)"
            text = (f"{gallery.folder}: {n} images searched through Qdrant collection {index.collection} on "
                    f"{where}; it holds {out['points']} points.")
            if not gallery.meta(META_URL) and n > EMBEDDED_ADVISED_MAX:
                text += (" The store beside the gallery checks results, it is not built for speed: above "
                         f"{EMBEDDED_ADVISED_MAX:,} images each search takes seconds; use the force's Qdrant "
                         "server (--qdrant-url) for a gallery this size.")
        else:
            gallery.set_index_backend(args.backend)
            index = open_index(gallery)
            out = {"gallery": str(gallery.folder), "backend": index.backend, "setting": args.backend, "rows": n}
            text = f"{gallery.folder}: {n} images searched with the {index.backend} index (setting {args.backend})."
        gallery.save_meta("index_state", json.dumps({"backend": out["backend"], "count": n}))
    if args.json:
        emit_json(out)
    else:
        print(text)
    return 0
