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
    sp.add_argument("--index-sizes", metavar="N,N", default=None,
                    help="sizes for the vector precision and index backend rows (fp16/int8 files, hnswlib, usearch, "
                         "FAISS IVF-PQ), e.g. 100000,1000000 (default 10000; left out with --quick; 0 leaves them out)")
    sp.add_argument("--index-backends", metavar="B,B", default="bits,hnsw,usearch,faiss-ivfpq",
                    help="which index backends those rows build (default bits,hnsw,usearch,faiss-ivfpq; also "
                         "bits-ivf; hnswlib is left out above 200,000 rows)")
    sp.set_defaults(func=cmd_speed)
    try:
        from .cmd_bench_interactive import register_interactive
    except ImportError:
        return
    register_interactive(bsub)


def _sizes(text: str | None, default: str, flag: str) -> tuple[int, ...] | None:
    """Gallery sizes from 'N,N' (0 leaves the rows out); None, after one sentence, when they are not numbers."""
    text = default if text is None else text
    try:
        return tuple(int(s.replace("_", "")) for s in text.split(",") if s.strip() and int(s.replace("_", "")) > 0)
    except ValueError:
        print(f"{flag} takes whole numbers separated by commas (e.g. 100000,1000000), not '{text}'.",
              file=sys.stderr)
        return None


def cmd_speed(args) -> int:
    from ..bench.speed import format_table, run_speed

    sizes = (10_000,) if args.quick else (10_000, 100_000)
    round_sizes = _sizes(args.round_sizes, "2000" if args.quick else "10000", "--round-sizes")
    index_sizes = _sizes(args.index_sizes, "0" if args.quick else "10000", "--index-sizes")
    if round_sizes is None or index_sizes is None:
        return 2
    backends = tuple(b.strip() for b in args.index_backends.split(",") if b.strip())
    unknown = [b for b in backends if b not in ("bits", "bits-ivf", "hnsw", "usearch", "faiss-ivfpq")]
    if unknown:
        print(f"--index-backends takes bits, bits-ivf, hnsw, usearch and faiss-ivfpq, not '{unknown[0]}'.",
              file=sys.stderr)
        return 2
    rows = run_speed(sizes, include_clip=not args.quick, progress=lambda m: print(m, file=sys.stderr),
                     video_frames=20 if args.quick else 200, round_sizes=round_sizes, index_sizes=index_sizes,
                     index_backends=backends)
    if args.ray:
        from ..bench.speed_ray import ray_rows

        rows += ray_rows(progress=lambda m: print(m, file=sys.stderr))
    print(format_table(rows))
    if args.json:
        emit_json({"rows": rows}, args.json)
    return 0
