"""``interreid``: the command line. Each command group lives in its own ``cmd_*`` module.

User mistakes (UserError) print one sentence and exit with status 2; Ctrl-C exits 130.
Heavy libraries are imported inside the handlers, so ``interreid --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .. import __version__
from ..errors import UserError

COMMAND_MODULES = ("cmd_demo", "cmd_gallery", "cmd_search", "cmd_similar", "cmd_interview", "cmd_case",
                   "cmd_pack", "cmd_bench", "cmd_data", "cmd_train")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="interreid", description="Interactive person re-identification "
                                     "workstation (LLaVA-ReID): galleries, interviews, case files, reports.")
    parser.add_argument("--version", action="version", version=f"interreid {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.{name}":
                continue  # a command group not built in this checkout
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"interreid: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interreid: interrupted; everything saved so far is kept.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
