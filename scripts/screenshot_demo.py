"""Screenshot of the interview screen: the real app on the demo gallery, two rounds, under Xvfb.

    python scripts/screenshot_demo.py [--out out/screenshots/interview.png] [--size 1600x1000]

Without a display it re-runs itself under ``xvfb-run``; with one (or ``--inner``) it starts the
app, types a witness's description, answers two suggested questions through the widgets,
marks the top candidate as possible, and saves the window as a PNG. Exits non-zero with one line
on failure.
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
    from engine.demo import ensure_demo_gallery, new_demo_case

    from desktop.app import create_application
    from desktop.main_window import MainWindow

    app = create_application(["screenshot"])
    gallery = ensure_demo_gallery()
    case = new_demo_case(gallery)
    window = MainWindow()
    window.resize(*size)
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
    session.mark(session.state.candidates[0].sha256, "possible", "similar jacket")
    wait_until(app, lambda: not session.busy and bool(window.interview_page.chart.series))
    for _ in range(20):  # let layouts and lazy thumbnails settle
        app.processEvents()
        time.sleep(0.02)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        print(f"screenshot: could not write {out}", file=sys.stderr)
        return 1
    print(out)
    window.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "out" / "screenshots" / "interview.png"))
    parser.add_argument("--size", default="1600x1000")
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
    cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {width + 40}x{height + 80}x24", sys.executable, __file__,
           "--inner", "--out", str(out), "--size", args.size]
    return subprocess.run(cmd, env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main())
