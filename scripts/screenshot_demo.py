"""Screenshots of the real app on the demo gallery under Xvfb: interview, witness view, details.

    python scripts/screenshot_demo.py [--out out/screenshots/interview.png] [--size 1600x1000]
                                      [--scale 1.25]

Without a display it re-runs itself under ``xvfb-run``; with one (or ``--inner``) it starts the
app, types a witness's description, answers two suggested questions through the widgets, marks
the top candidate as possible, shows one image to the witness (with a reason) and saves:

- ``interview.png`` (the ``--out`` path): the interview window;
- ``witness.png`` and ``witness-lineup.png`` beside it: the witness view, one image and a line-up
  of three in the investigator's order;
- ``details.png``: the details view of the marked image, zoomed as pixels;
- ``similar.png``: the find-similar side window of the same image;
- ``help.png``: the Help window on "What the numbers mean".

``--scale`` runs the app at a display scaling (1.25, 1.5) to check readability. Exits non-zero
with one line on failure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTION = "A man in a dark jacket and blue jeans, walking fast."
ANSWERS = [("upper", "A dark jacket, almost black."), ("lower", "Blue jeans."), ("feet", "Dark shoes."),
           ("shoe", "Dark shoes."), ("head", "Short dark hair."), ("hair", "Short dark hair."),
           ("bag", "No bag that I saw."), ("length", "Long trousers.")]


def answer_for(suggestion) -> str:
    about = f"{suggestion.attribute or ''} {suggestion.text}".lower()
    for key, answer in ANSWERS:
        if key in about:
            return answer
    return "I'm not sure."


def wait_until(app, predicate, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError("the app did not finish in time")
        app.processEvents()
        time.sleep(0.01)


def inner(out: Path, size: tuple[int, int]) -> int:
    sys.path.insert(0, str(ROOT))
    from interreid.engine.demo import ensure_demo_gallery, new_demo_case

    from interreid.desktop.app import create_application
    from interreid.desktop.main_window import MainWindow

    app = create_application(["screenshot"])
    gallery = ensure_demo_gallery()
    case = new_demo_case(gallery)
    window = MainWindow()
    scale = float(os.environ.get("QT_SCALE_FACTOR") or 1.0)  # the size asked for is in screen pixels
    window.resize(round(size[0] / scale), round(size[1] / scale))
    window.show()
    window.open_case(case)
    session, q = window.session, window.interview_page.questions
    wait_until(app, lambda: session.is_open and not session.busy)
    q.description.setPlainText(DESCRIPTION)
    q.start_button.click()
    wait_until(app, lambda: session.state is not None and not session.busy)
    for round_index in (1, 2):
        q.answer.setText(answer_for(session.state.suggestion))
        q.ask_button.click()
        wait_until(app, lambda r=round_index: session.state.round_index == r + 1 and not session.busy)
    first = session.state.candidates[0]
    session.mark(first.sha256, "possible", "similar jacket")
    wait_until(app, lambda: not session.busy and bool(window.interview_page.chart.series))
    out.parent.mkdir(parents=True, exist_ok=True)

    def settle():
        for _ in range(20):  # let layouts and lazy thumbnails settle
            app.processEvents()
            time.sleep(0.02)

    def save(widget, path: Path) -> None:
        settle()
        if not widget.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        print(path)

    # the witness view: one image, shown with a reason (recorded), then a line-up of three
    shown = session.state.candidates[1]
    session.show_to_witness(shown.sha256, "Witness asked to see the man in the dark jacket",
                            window._present_to_witness)
    wait_until(app, lambda: not session.busy and bool(window.witness_windows))
    save(window.witness_windows[-1], out.with_name("witness.png"))
    window.witness_windows[-1].close()
    lineup = [c.sha256 for c in session.state.candidates[:3]][::-1]
    session.show_to_witness(lineup, "Line-up approved by the duty inspector", window._present_to_witness)
    wait_until(app, lambda: not session.busy and bool(window.witness_windows))
    save(window.witness_windows[-1], out.with_name("witness-lineup.png"))
    window.witness_windows[-1].close()
    save(window, out)
    # the details view of the marked image, and its similar-looking images
    window.show_details(first.row)
    wait_until(app, lambda: not session.busy and bool(window.detail_views))
    save(window.detail_views[-1], out.with_name("details.png"))
    window.detail_views[-1].close()
    window.find_similar(first.row)
    wait_until(app, lambda: not session.busy and bool(window.detail_views))
    save(window.detail_views[-1], out.with_name("similar.png"))
    window.detail_views[-1].close()
    window.show_help("numbers")
    save(window.help_dialog, out.with_name("help.png"))
    window.help_dialog.close()
    window.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "out" / "screenshots" / "interview.png"))
    parser.add_argument("--size", default="1600x1000")
    parser.add_argument("--scale", default="", help="display scaling, e.g. 1.25 or 1.5 (QT_SCALE_FACTOR)")
    parser.add_argument("--inner", action="store_true", help="run in this display (used under xvfb-run)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    out = Path(args.out).absolute()
    if args.inner or (os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM") != "offscreen"):
        return inner(out, (width, height))
    if shutil.which("xvfb-run") is None:
        print("screenshot: Xvfb is not installed (apt-get install xvfb); cannot start a display.", file=sys.stderr)
        return 2
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["QT_QPA_PLATFORM"] = "xcb"
    if args.scale:
        env["QT_SCALE_FACTOR"] = args.scale
    cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {width + 40}x{height + 80}x24", sys.executable, __file__,
           "--inner", "--out", str(out), "--size", args.size]
    return subprocess.run(cmd, env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main())
