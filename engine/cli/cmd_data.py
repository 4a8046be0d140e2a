"""``interreid data synth OUT``: write a synthetic dataset in the Interactive-PEDES format.
``interreid data build SRC OUT``: build Interactive-PEDES annotations with a model (paper §3.2).
``interreid data stats ANNOS``: Table 4-style statistics of an annotation file."""

from __future__ import annotations

import argparse

from ..errors import UserError


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="make datasets for benchmarks and tests")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    synth = data_sub.add_parser(
        "synth", help="draw a synthetic pedestrian dataset with Interactive-PEDES annotations",
        description="Draw a deterministic synthetic pedestrian dataset: images/<id>/<n>.jpg, "
                    "annotations.json (Interactive-PEDES records), attributes.json (ground truth).")
    synth.add_argument("out", metavar="OUT", help="folder to write (must be new or empty)")
    synth.add_argument("--ids", type=int, required=True, help="number of identities")
    synth.add_argument("--images-per-id", type=int, required=True, help="images of each identity")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    synth.add_argument("--test-fraction", type=float, default=0.5,
                       help="share of identities (the last ones) in the test split (default 0.5)")
    synth.add_argument("--size", default="128x64", help="image size HEIGHTxWIDTH in px (default 128x64)")
    synth.add_argument("--overwrite", action="store_true", help="replace a synthetic dataset already in OUT")
    synth.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    synth.set_defaults(func=_synth)
    _register_build(data_sub)
    data.set_defaults(func=lambda args: _usage(data))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _parse_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserError(f"--size must be HEIGHTxWIDTH in pixels, such as 128x64 (got {text!r}).") from None
    return h, w


def _synth(args: argparse.Namespace) -> int:
    from ..synth.dataset import generate
    from .output import ProgressBar, emit_json

    size = _parse_size(args.size)
    bar = ProgressBar("synth", max(0, args.ids) * max(0, args.images_per_id))
    try:
        report = generate(args.out, args.ids, args.images_per_id, args.seed, size=size,
                          test_fraction=args.test_fraction, overwrite=args.overwrite,
                          progress=lambda done, _total: bar.update(done))
    finally:
        bar.close()
    if args.json:
        emit_json(report.as_dict())
    else:
        print(f"Wrote {report.images} images of {report.identities} identities "
              f"({report.train_ids} train, {report.test_ids} test) to {report.out_dir} "
              f"in {report.elapsed_s:.1f} s.")
    return 0


def _register_build(data_sub) -> None:
    b = data_sub.add_parser(
        "build", help="build Interactive-PEDES dialogues from images or captions with a model (paper §3.2)",
        description="Turn person images (a folder, a gallery) or an existing annotation file (CUHK-PEDES, "
                    "ICFG-PEDES, RSTPReid, Interactive-PEDES) into Interactive-PEDES records with the paper's "
                    "three steps: describe (initial, then fine-grained), split into single-aspect sentences, "
                    "one question and answer per sentence. Every model call is cached in OUT: run the same "
                    "command again after an interruption and it continues. Nothing is sent over the network "
                    "unless you name an --endpoint.")
    b.add_argument("source", metavar="SRC", help="folder of person images, gallery folder, or annotation JSON file")
    b.add_argument("out", metavar="OUT", help="folder to write (new, or one a previous build wrote: it resumes)")
    b.add_argument("--images", metavar="ROOT", help="image root of an annotation file (what its paths are relative to)")
    b.add_argument("--endpoint", metavar="URL", help="OpenAI-compatible server for every step, e.g. "
                                                    "http://127.0.0.1:8000/v1 (#MODEL at the end picks the model)")
    b.add_argument("--vlm", metavar="DIR", help="local vision-language model folder (Hugging Face format)")
    b.add_argument("--text-model", metavar="PATH", help="local text model (a .gguf file or a folder) for steps 2-3")
    b.add_argument("--identity", choices=("image", "folder"), default="image",
                   help="for a folder of images: each image is its own person (default), or each sub-folder is one")
    b.add_argument("--splits", default="train=0.8,val=0.1,test=0.1", metavar="NAME=SHARE,...",
                   help="split of the identities (default train=0.8,val=0.1,test=0.1)")
    b.add_argument("--resplit", action="store_true", help="split the identities even when the source has splits")
    b.add_argument("--invalid", choices=("drop", "flag"), default="drop",
                   help="answers that fail validation: drop them (default) or keep them flagged")
    b.add_argument("--recaption", action="store_true",
                   help="write the fine-grained description with the vision model even when the source has one")
    b.add_argument("--parallel", type=int, default=4, help="requests at once to an endpoint (default 4)")
    b.add_argument("--prompts", metavar="YAML", help="prompt file (default: the bundled paper prompts)")
    b.add_argument("--limit", type=int, metavar="N", help="only the first N images")
    b.add_argument("--seed", type=int, default=0, help="seed of the random choices (default 0)")
    b.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    b.set_defaults(func=_build)
    st = data_sub.add_parser("stats", help="Table 4-style statistics of an Interactive-PEDES file",
                             description="Description lengths and vocabulary, rounds per dialogue and "
                                         "question-type shares of an Interactive-PEDES file.")
    st.add_argument("annotations", metavar="ANNOS.json")
    st.add_argument("--plot", metavar="OUT.png", help="write the histograms as a PNG")
    st.add_argument("--json", action="store_true", help="print the statistics as JSON")
    st.set_defaults(func=_stats)


def _build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..databuild.pipeline import BuildSettings, build, format_report
    from ..databuild.validate import parse_fractions
    from .output import ProgressBar, emit_json

    try:
        splits = parse_fractions(args.splits)
    except ValueError as exc:
        raise UserError(f"--splits must look like train=0.8,val=0.1,test=0.1 ({exc}).") from None
    settings = BuildSettings(
        source=Path(args.source), out=Path(args.out), images=Path(args.images) if args.images else None,
        identity=args.identity, endpoint=args.endpoint, vlm=args.vlm, text_model=args.text_model,
        prompts=Path(args.prompts) if args.prompts else None, seed=args.seed, parallel=args.parallel,
        splits=splits, keep_split=not args.resplit, invalid=args.invalid, limit=args.limit,
        recaption=args.recaption)
    bars: list[ProgressBar] = []

    def progress(done: int, total: int, extra: str) -> None:
        if not bars:
            bars.append(ProgressBar("building", total))
        bars[0].update(done, extra)

    try:
        report = build(settings, progress)
    finally:
        for bar in bars:
            bar.close()
    if args.json:
        emit_json(report.as_dict())
    else:
        print(format_report(report))
    return 0


def _stats(args: argparse.Namespace) -> int:
    from ..databuild.stats import compute_stats, format_stats, plot_stats
    from ..evaluation.annotations import load_annotations
    from .output import emit_json

    stats = compute_stats(load_annotations(args.annotations))
    if args.json:
        emit_json({k: v for k, v in stats.items()})
    else:
        print(format_stats(stats))
    if args.plot:
        if not args.plot.lower().endswith(".png"):
            raise UserError(f"--plot writes a PNG; give a file name ending in .png (got {args.plot}).")
        print(f"plot: {plot_stats(stats, args.plot)}")
    return 0
