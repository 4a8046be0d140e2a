"""``interreid gallery synthetic``: a gallery of N synthetic rows (no image files) for trying the
workstation at scale (engine/gallery/synthetic.py)."""

from __future__ import annotations

import sys

from ..errors import UserError
from .output import emit_json


def register_synthetic_command(gsub) -> None:
    sy = gsub.add_parser("synthetic", help="write a gallery of N synthetic rows (random vectors, no image files) "
                                           "to try search, interviews and the app at scale")
    sy.add_argument("gallery", metavar="DIR", help="a new or empty folder")
    sy.add_argument("--rows", type=int, required=True, metavar="N", help="how many rows (e.g. 1000000)")
    sy.add_argument("--engine", choices=("lite", "full"), default="lite",
                    help="lite (46 colour values a row; default) or full (the model pack's CLIP vectors, 512 a "
                         "row at ViT-B/16: 2 GB of vectors per million rows)")
    sy.add_argument("--pack", metavar="DIR", help="the model pack whose vectors a full-engine gallery holds")
    sy.add_argument("--vectors", choices=("fp32", "fp16", "int8"), default=None,
                    help="precision of the vector file (default fp32; as for gallery import)")
    sy.add_argument("--model", choices=("people", "clusters"), default="people",
                    help="how full-engine vectors are made: people (default: persons of 4-10 crops who share "
                         "clothes and colours, described by the pack's text tower; see docs/scale.md) or clusters "
                         "(the first generator: 512 rows around each random centre plus noise)")
    sy.add_argument("--json", action="store_true", help="print what was written as JSON")
    sy.set_defaults(func=cmd_synthetic)


def cmd_synthetic(args) -> int:
    from ..gallery.synthetic import build

    if args.rows < 1 or args.rows > 100_000_000:
        raise UserError(f"--rows {args.rows} is out of range; give between 1 and 100000000 rows.")
    if args.engine == "full":
        if not args.pack:
            raise UserError("A full-engine synthetic gallery needs the model pack its vectors belong to; give --pack DIR.")
        from ..full.pack import open_pack

        pack = open_pack(args.pack)
        identity, lite = pack.identity(), False
        encoder = pack.retriever() if args.model == "people" else None
    else:
        from ..lite.embedder import LiteEmbedder

        identity, lite, encoder = LiteEmbedder.identity, True, None

    def progress(done: int, total: int) -> None:
        print(f"\rwriting synthetic rows: {done:,} of {total:,}", end="", file=sys.stderr, flush=True)

    out = build(args.gallery, args.rows, identity, lite, progress=progress, vector_format=args.vectors,
                model=args.model, text_encoder=encoder)
    print(file=sys.stderr)
    if args.json:
        emit_json(out)
    else:
        print(f"Wrote a synthetic {args.engine}-engine gallery of {out['rows']:,} rows to {out['folder']} in "
              f"{out['seconds']} s. Its rows have no image files: every row shows one shared placeholder picture.")
    return 0
