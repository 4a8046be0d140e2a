"""``interreid bench speed|interactive``."""

from __future__ import annotations

import sys

from .output import emit_json


def register(sub) -> None:
    p = sub.add_parser("bench", help="benchmarks: speed, interactive retrieval")
    bsub = p.add_subparsers(dest="bench_command", metavar="ACTION", required=True)
    sp = bsub.add_parser("speed", help="throughput/latency of our paths vs the reference paths")
    sp.add_argument("--json", metavar="OUT", help="write the rows as JSON to OUT ('-' = stdout)")
    sp.add_argument("--quick", action="store_true", help="10k vectors only, no CLIP rows (a smoke run)")
    sp.add_argument("--round-sizes", metavar="N,N", default=None,
                    help="gallery sizes for the interview-round rows, e.g. 100000,1000000 "
                         "(default 10000; 2000 with --quick; 0 leaves them out)")
    sp.add_argument("--ray", action="store_true",
                    help="add the Ray Data ingest rows: 4 clips of the demo video through 2 local Ray workers "
                         "against the single-process import (several minutes on 2 cores)")
    sp.set_defaults(func=cmd_speed)
    try:
        from .cmd_bench_interactive import register_interactive
    except ImportError:
        return
    register_interactive(bsub)


def cmd_speed(args) -> int:
    from ..bench.speed import format_table, run_speed

    sizes = (10_000,) if args.quick else (10_000, 100_000)
    text = args.round_sizes if args.round_sizes is not None else ("2000" if args.quick else "10000")
    try:
        round_sizes = tuple(int(s.replace("_", "")) for s in text.split(",") if s.strip() and int(s) > 0)
    except ValueError:
        print(f"--round-sizes takes whole numbers separated by commas (e.g. 100000,1000000), not '{text}'.",
              file=sys.stderr)
        return 2
    rows = run_speed(sizes, include_clip=not args.quick, progress=lambda m: print(m, file=sys.stderr),
                     video_frames=20 if args.quick else 200, round_sizes=round_sizes)
    if args.ray:
        from ..bench.speed_ray import ray_rows

        rows += ray_rows(progress=lambda m: print(m, file=sys.stderr))
    print(format_table(rows))
    if args.json:
        emit_json({"rows": rows}, args.json)
    return 0
