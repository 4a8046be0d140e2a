"""``interreid bench interactive``: simulated interviews over an annotated split (paper Table 1, Figure 4)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UserError


def register_interactive(bsub) -> None:
    p = bsub.add_parser(
        "interactive", help="simulated interviews on an annotated split: R@k, mAP, mINP, BRI per round",
        description="Run one simulated interview per query image of a split (the query is its initial "
                    "description; the targets are all gallery images of its person) and report the paper's "
                    "Table 1 metrics after rounds 3 and 5 and BRI, per method and selector.")
    p.add_argument("--data", required=True, metavar="ANNOS.json", help="Interactive-PEDES annotation file")
    p.add_argument("--images", metavar="ROOT", help="folder the records' file_path is relative to (default: the "
                                                     "annotation file's folder)")
    p.add_argument("--split", default="test", help="split to evaluate (default test)")
    p.add_argument("--engine", choices=("lite", "full"), default="lite", help="engine (default lite)")
    p.add_argument("--pack", metavar="DIR", help="model pack for the full engine")
    p.add_argument("--method", default="initial,infogain", metavar="M1,M2",
                   help="methods: initial, template, infogain, llava, oracle (default initial,infogain)")
    p.add_argument("--selector", default="kmeans", metavar="S1,S2",
                   help="candidate selectors: top, uniform, kmeans, learned (default kmeans)")
    p.add_argument("--rounds", type=int, default=5, help="questions per interview (default 5)")
    p.add_argument("--answerer", default="auto", metavar="A",
                   help="simulated witness: annotated, memory, attributes, llm:PATH_OR_URL (default: attributes "
                        "when the dataset has an attributes.json, else memory)")
    p.add_argument("--witness-prompt", metavar="FILE",
                   help="prompt of an llm: witness (YAML with a 'template' holding {context} and {question}; default: "
                        "the paper's, resources/prompts/answerer.yaml; resources/prompts/answerer-truthful.yaml "
                        "tells it to say when it does not know)")
    p.add_argument("--attributes", metavar="FILE", help="ground-truth attribute file for the attributes answerer "
                                                        "(default: attributes.json beside --data or in --images)")
    p.add_argument("--limit", type=int, metavar="N", help="run N queries drawn with --seed (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed for --limit and sampling models (default 0)")
    p.add_argument("--cache", metavar="DIR", help="folder for the cached benchmark galleries")
    p.add_argument("--json", metavar="OUT", help="write every per-round number and per-query rank as JSON "
                                                 "('-' = stdout)")
    p.add_argument("--plot", metavar="OUT.png", help="write R@1 and R@5 against rounds as a PNG")
    p.add_argument("--treid", action="append", default=[], metavar="PACK",
                   help="also re-rank with a T-ReID model (paper Table 2): a model pack folder or installed name "
                        "(its treid component, else its retriever), or 'lite'; repeatable")
    p.add_argument("--treid-weight", type=float, default=0.5, metavar="W",
                   help="weight of the T-ReID model's similarity (default 0.5, the paper's plain average)")
    p.set_defaults(func=cmd_interactive)


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def cmd_interactive(args) -> int:
    from ..evaluation.runner import BenchSettings, run_benchmark
    from ..evaluation.tables import format_table, plot_rounds
    from .output import ProgressBar, emit_json

    if args.plot and not args.plot.lower().endswith(".png"):
        raise UserError(f"--plot writes a PNG; give a file name ending in .png (got {args.plot}).")
    settings = BenchSettings(
        annotations=Path(args.data),
        images=Path(args.images) if args.images else Path(args.data).parent, split=args.split, engine=args.engine,
        pack=args.pack, methods=_names(args.method), selectors=_names(args.selector), rounds=args.rounds,
        answerer=args.answerer, attributes=Path(args.attributes) if args.attributes else None, limit=args.limit,
        seed=args.seed, cache_dir=Path(args.cache) if args.cache else None, treid=tuple(args.treid),
        treid_weight=args.treid_weight,
        witness_prompt=Path(args.witness_prompt) if args.witness_prompt else None)
    bars: dict[str, ProgressBar] = {}

    def progress(done: int, total: int, what: str) -> None:
        stage = "import" if what == "gallery import" else "bench"
        if stage not in bars:
            for bar in bars.values():
                bar.close()
            bars[stage] = ProgressBar("importing gallery" if stage == "import" else "interviews", total)
        bars[stage].update(done, what)

    try:
        result = run_benchmark(settings, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if result.interrupted:
        print(f"interreid: interrupted after {result.queries_done} of {result.queries_planned} queries; "
              "the results below cover those.", file=sys.stderr)
    json_to_stdout = args.json == "-"
    print(format_table(result), file=sys.stderr if json_to_stdout else sys.stdout)
    if result.treid:
        from ..treid.table import format_treid_table  # noqa: PLC0415

        print("\n" + format_treid_table(result), file=sys.stderr if json_to_stdout else sys.stdout)
    if args.plot:
        path = plot_rounds(result, args.plot)
        print(f"plot: {path}", file=sys.stderr if json_to_stdout else sys.stdout)
    if args.json:
        emit_json(result.as_dict(), args.json)
    return 130 if result.interrupted else 0
