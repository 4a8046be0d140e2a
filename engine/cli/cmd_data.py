"""``interreid data synth OUT``: write a synthetic dataset in the Interactive-PEDES format."""

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
