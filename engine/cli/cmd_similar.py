"""``interreid similar``: the gallery images that look most like one image (a side search)."""

from __future__ import annotations

from .output import emit_json


def register(sub) -> None:
    p = sub.add_parser("similar", help="find the gallery images that look most like one image")
    p.add_argument("image", help="a gallery image's SHA-256 (8+ characters) or an image file in the gallery")
    p.add_argument("--gallery", required=True, metavar="DIR")
    p.add_argument("--case", metavar="FILE", help="record the side search in this case file's audit log")
    p.add_argument("--top", type=int, default=10, metavar="N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_similar)


def cmd_similar(args) -> int:
    from ..errors import UserError
    from ..gallery.store import Gallery
    from ..similar import find_similar, record_similar, resolve_image

    if args.top < 1:
        raise UserError("--top must be at least 1.")
    with Gallery.open(args.gallery) as gallery:
        result = find_similar(gallery, resolve_image(gallery, args.image), args.top)
        rows = [(rank, gallery.image(int(r)), float(s))
                for rank, (r, s) in enumerate(zip(result.rows, result.scores), start=1)]
    if args.case:
        from ..casefile import CaseFile

        with CaseFile.open(args.case) as case:
            record_similar(case, result)
    if args.json:
        emit_json({"image": result.query_sha256, "measure": result.measure,
                   "results": [{"rank": k, "similarity": s, "sha256": img.sha256, "path": img.path,
                                "camera": img.camera, "timestamp": img.timestamp} for k, img, s in rows]})
    else:
        print(f"Most similar to {result.query_sha256[:12]} by {result.measure}:")
        for k, img, s in rows:
            print(f"{k:>4}  {s:6.3f}  {img.path}")
    return 0
