#!/usr/bin/env python3
"""How long the app takes to open a case on a gallery (offscreen window), for docs/scale.md.

    interreid gallery synthetic G --rows 1000000
    QT_QPA_PLATFORM=offscreen python scripts/app_open_time.py G [--started] [--repeat 3] [--one-window]

Makes a plain case on the gallery in a temporary folder (with ``--started``, a first round of an
interview too), then opens it in the main window ``--repeat`` times, each time from "File → Open" to
the window ready to use (the background verification that follows is not counted), and prints one
JSON line: the gallery's size, each open's seconds, the images the grid lists, and the peak memory.
``--one-window`` opens the case again and again in one window (as an investigator switching cases
does) and also gives the resident memory after each open, once its background work has finished, and
after the window has closed: a closed case must let go of its gallery's mapped files.
Unless INTERREID_WORKSTATION is set, the workstation's keys and anchors go to the temporary folder too.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time

from measure_env import throwaway_workstation


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gallery")
    ap.add_argument("--started", action="store_true", help="open a case whose interview has had a first round")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--one-window", action="store_true", help="re-open the case in one window; report the "
                    "resident memory after each open and after closing the window")
    args = ap.parse_args()
    tmp = throwaway_workstation("interreid-app-open-")

    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview

    case_path = tmp / "open-time.case"
    with Gallery.open(args.gallery) as g:
        engine = build_engine(g)
        with CaseFile.create(case_path, "open time", "measurement", g, engine.identity(), encrypt=False) as case:
            if args.started:
                interview = Interview(g, engine, case=case)
                interview.start("A person in a red top and blue trousers.")
                interview.release()  # as the app does when it closes a case: its mapped files go

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from interreid.desktop.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    times, listed, rows, resident = [], 0, 0, []
    window = None
    for i in range(args.repeat):
        if window is None or not args.one_window:
            window = MainWindow(settings=QSettings(str(tmp / f"settings{i}.ini"), QSettings.Format.IniFormat),
                                detect_device=False)
            window.resize(1400, 900)
            window.show()
            app.processEvents()
        start = time.perf_counter()
        window.open_case(case_path)
        while not (window.session.is_open and not window.session.busy):
            app.processEvents()
            time.sleep(0.002)
        times.append(round(time.perf_counter() - start, 3))
        listed, rows = window.interview_page.grid.model.rowCount(), window.session.opened_case.gallery_size
        window.session.engine_queue.wait()
        window.session.side_pool.wait()  # the verification started after opening
        if args.one_window:
            settle(app)
            resident.append(resident_mb())
        else:
            window.close()
    out = {"gallery_rows": rows, "interview_started": args.started, "open_s": times,
           "median_open_s": sorted(times)[len(times) // 2], "grid_lists": listed,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    if args.one_window:
        window.close()
        settle(app)
        out.update(resident_after_each_open_mb=resident, resident_after_close_mb=resident_mb())
    print(json.dumps(out))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def settle(app, seconds: float = 8.0) -> None:
    """Let the event loop run (deferred deletions) and the background mapping of a big gallery finish."""
    import gc

    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.05)
    gc.collect()


def resident_mb() -> int:
    """This process's resident memory now (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration, ValueError):
        return 0


if __name__ == "__main__":
    sys.exit(main())
