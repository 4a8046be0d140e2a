"""``interreid demo``: the desktop app on the bundled demo gallery, with a fresh case."""

from __future__ import annotations

import os
import sys


def register(sub) -> None:
    p = sub.add_parser("demo", help="open the app on the bundled demo gallery with a new case")
    p.add_argument("--terminal", action="store_true",
                   help="run the interview in the terminal instead of the window")
    p.add_argument("--description", help="terminal mode: the witness's initial description")
    p.set_defaults(func=cmd_demo)


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM") == "offscreen" or sys.platform in ("win32", "darwin"))


def gui_entry_point():
    """The desktop app's ``run_app``, found by entry point (engine/ never imports desktop/)."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="interreid.gui"):
        if ep.name == "app":
            try:
                return ep.load()
            except ImportError as exc:
                print(f"interreid: the desktop app cannot start ({exc}).", file=sys.stderr)
                return None
    return None


def cmd_demo(args) -> int:
    from ..demo import ensure_demo_gallery, new_demo_case

    if not args.terminal and _has_display():
        run_app = gui_entry_point()
        if run_app is not None:  # the window appears at once and builds the gallery inside it
            return run_app(demo=True)

    from .gallery_video import ImportBars

    progress = ImportBars("building demo gallery", counts=False)
    try:
        gallery = ensure_demo_gallery(progress)
    finally:
        progress.close()
    case = new_demo_case(gallery)
    print(f"demo gallery: {gallery}\nnew case: {case}")
    if not args.terminal:
        run_app = gui_entry_point()
        if run_app is not None and _has_display():
            return run_app(case_path=str(case))
        if run_app is not None:
            print("No display found: running the interview in the terminal instead.", file=sys.stderr)
    from argparse import Namespace

    from .cmd_interview import cmd_interview

    return cmd_interview(Namespace(gallery=str(gallery), case=str(case), title="", description=args.description,
                                   rounds=5, selector=None, questioner=None, pack=None, show=5, json=None))
