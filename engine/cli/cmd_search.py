"""``interreid search``: one description, the top matches with scores and reasons."""

from __future__ import annotations

import sys

from ..errors import UserError
from .output import emit_json


def register(sub) -> None:
    p = sub.add_parser("search", help="search a gallery with a description")
    p.add_argument("description")
    p.add_argument("--gallery", required=True, metavar="DIR")
    p.add_argument("--top", type=int, default=10, metavar="N")
    p.add_argument("--pack", metavar="DIR", help="model pack (full-engine galleries)")
    p.add_argument("--camera", action="append", metavar="CAM", help="only images of this camera (repeat for several)")
    p.add_argument("--from", dest="time_from", metavar="TIME", help="only images recorded at or after TIME "
                   "(2024-05-01 or 2024-05-01T12:30:00; images with no time are left out)")
    p.add_argument("--to", dest="time_to", metavar="TIME", help="only images recorded at or before TIME "
                   "(a date alone: to the end of that day)")
    p.add_argument("--treid", metavar="PACK", help="also rank with a text-based re-ID model (paper Table 2): a "
                                                   "model pack or installed pack name, or 'lite'")
    p.add_argument("--treid-weight", type=float, default=None, metavar="W",
                   help="weight of that model's match to the description (default 0.5, a plain average)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)


def cmd_search(args) -> int:
    from ..engines import build_engine
    from ..gallery.store import Gallery
    from ..retriever import understander

    if args.top < 1:
        raise UserError("--top must be at least 1.")
    if not args.description.strip():
        raise UserError("The description is empty; describe the person to search for.")
    with Gallery.open(args.gallery) as gallery:
        if len(gallery) == 0:
            raise UserError(f"Gallery {gallery.folder} holds no images; import some first.")
        where = row_filter(args)
        unknown = sorted(set(args.camera or ()) - set(gallery.cameras()))
        if unknown:
            raise UserError(f"Camera {unknown[0]} is not in this gallery; its cameras are "
                            f"{', '.join(gallery.cameras()) or 'not recorded'}.")
        engine = build_engine(gallery, pack=args.pack)
        if args.treid_weight is not None and not args.treid:
            raise UserError("--treid-weight needs --treid (the second model whose match it weighs).")
        if args.treid:
            from ..treid import DEFAULT_WEIGHT, attach_treid, check_weight

            weight = check_weight(DEFAULT_WEIGHT if args.treid_weight is None else args.treid_weight)
            attach_treid(engine, gallery, args.treid, weight)
            print(f"Each score averages this search's match with a second model's match to the description: "
                  f"{engine.treid.model.name} (its weight {weight:g}).", file=sys.stderr)
        results = search(gallery, engine, args.description, args.top, where)
        reader = understander(engine.retriever)
        if reader is not None:
            items, unused = reader.understand(args.description)
            if not items:
                print("interreid: warning: the description names no colour or garment the lite engine can search "
                      "on" + (f" (not used: {', '.join(unused)})" if unused else "") + "; " +
                      ("only the second model's match orders the images below. " if engine.treid is not None else
                       "every image matches equally and the order below means nothing. ") +
                      "Describe the clothes' colours.", file=sys.stderr)
    if args.json:
        emit_json({"query": args.description, "engine": engine.identity(), "results": results})
    else:
        from ..report.words import plain_reasons

        for r in results:  # the engine's own words and figures are in --json
            reasons = plain_reasons(r["reasons"])
            print(f"{r['rank']:>4}  {r['score']:9.3f}  {r['path']}" + (f"  [{reasons}]" if reasons else ""))
    return 0


def row_filter(args):
    """--camera / --from / --to as a RowFilter (None when none is given)."""
    from ..gallery.filters import RowFilter, parse_time_bound

    if not (args.camera or args.time_from or args.time_to):
        return None
    low = parse_time_bound(args.time_from, False, "--from") if args.time_from else None
    high = parse_time_bound(args.time_to, True, "--to") if args.time_to else None
    if low is not None and high is not None and low > high:
        raise UserError("--from is later than --to; swap them.")
    return RowFilter(frozenset(args.camera or ()), low, high)


def search(gallery, engine, description: str, top: int, where=None) -> list[dict]:
    """Top results for a description: rank, score, path, sha256, camera, timestamp, reasons."""
    from ..search import Ranking, Searcher

    searcher = Searcher(gallery, engine.retriever)
    treid = getattr(engine, "treid", None)
    if treid is None:
        ranking = searcher.search(description, top, where)
    else:  # paper Table 2: fused with a T-ReID model's match to the description, as an interview's first ranking
        own = searcher.every_score(description)
        keep = where.mask(*gallery.row_metadata()) if where is not None and not where.is_empty() else None
        ranking = Ranking.of_scores(treid.fuse(own, engine.retriever.temperature, description), top, keep)
    out = []
    for rank, (row, score) in enumerate(zip(ranking.rows, ranking.scores), start=1):
        img = gallery.image(int(row))
        out.append({"rank": rank, "score": float(score), "path": img.path, "sha256": img.sha256,
                    "camera": img.camera, "timestamp": img.timestamp,
                    "reasons": engine.retriever.explain(description, searcher.vectors[int(row)])})
        if treid is not None:  # the two scores that were fused
            out[-1]["retriever_score"] = float(own[int(row)])
            out[-1]["treid_score"] = float(treid.model.scores(description)[int(row)])
    return out
