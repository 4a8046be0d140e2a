#!/usr/bin/env python3
"""Peak memory of the app while it switches from one case to another case of the same gallery, for
docs/scale.md (issue 18's target: peak memory at most 1.3x the vector file).

    interreid gallery synthetic G --rows 1000000 --engine full --pack P --vectors int8
    QT_QPA_PLATFORM=offscreen python scripts/case_switch_memory.py G

Makes two plain cases A and B on the gallery in a temporary folder, each with a first round of an
interview (so each opens as a started case does; the first search builds the gallery's index if it has
none, which writes it into the gallery folder), then in one offscreen main window opens A, waits until it
is ready and its background work (verification, the mapping of the gallery's files) has finished, and
opens B the same way. It prints one JSON line: the vector file's size, the resident memory of the window with no case open and
with A open,
the peak while A is replaced by B (the kernel's high-water mark, reset once A is ready, and a 10 ms
sampler besides), the resident memory with B open, the most mappings of the vector file seen at once,
and the peak as a ratio to the vector file (also less the window's own memory: at 1M rows the window,
Qt and the model's runtime are as big as the vector file, at 10M a tenth of it).
Unless INTERREID_WORKSTATION is set, the workstation's keys and anchors go to the temporary folder too;
INTERREID_DATA must name the model packs' folder for a full-engine gallery.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
import time
from pathlib import Path

from measure_env import throwaway_workstation


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gallery")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds of event loop after each open (default 5)")
    args = ap.parse_args()
    tmp = throwaway_workstation("interreid-case-switch-")

    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview

    cases = []
    with Gallery.open(args.gallery) as g:
        engine = build_engine(g)
        vector_file = g.vector_file
        for name, said in (("A", "A person in a red top and blue trousers."),
                           ("B", "A woman in a black coat with a white bag.")):
            path = tmp / f"{name}.case"
            with CaseFile.create(path, f"switch {name}", "measurement", g, engine.identity(), encrypt=False) as case:
                interview = Interview(g, engine, case=case)
                interview.start(said)
                interview.release()  # as the app does when it closes a case
            cases.append(path)
    vector_mb = vector_file.stat().st_size / 2**20

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from interreid.desktop.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    window = MainWindow(settings=QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat),
                        detect_device=False)
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    sampler = Sampler(str(vector_file))
    no_case = status_mb("VmRSS")
    open_s = [open_and_settle(app, window, cases[0], args.settle)]
    with_a = status_mb("VmRSS")
    reset = reset_peak()
    sampler.start()
    open_s.append(open_and_settle(app, window, cases[1], args.settle))
    sampler.stop()
    peak = max(status_mb("VmHWM") if reset else 0, sampler.peak_mb)
    out = {"gallery_rows": window.session.opened_case.gallery_size, "vector_file_mb": round(vector_mb),
           "open_s": open_s, "resident_no_case_mb": no_case, "resident_with_a_mb": with_a, "peak_switch_mb": peak,
           "peak_high_water_mark_reset": reset, "sampled_peak_mb": sampler.peak_mb,
           "resident_with_b_mb": status_mb("VmRSS"), "most_vector_file_mappings": sampler.most_maps,
           "peak_ratio_to_vector_file": round(peak / vector_mb, 2),
           "peak_above_no_case_ratio": round((peak - no_case) / vector_mb, 2)}
    window.close()
    print(json.dumps(out))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def open_and_settle(app, window, case_path: Path, settle: float) -> float:
    """Open a case in the window; wait until it is ready, its background work is done and the background
    mapping of the gallery's files has finished; returns the seconds to ready."""
    import gc

    from interreid.engine.gallery import bits_index

    start = time.perf_counter()
    window.open_case(case_path)
    while not (window.session.is_open and window.session.opened_case.path == case_path and not window.session.busy):
        app.processEvents()
        time.sleep(0.002)
    ready = round(time.perf_counter() - start, 3)
    window.session.engine_queue.wait()
    window.session.side_pool.wait()
    for thread in list(bits_index._PREFAULTS):
        thread.join()
    end = time.perf_counter() + settle
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.05)
    gc.collect()
    return ready


class Sampler:
    """Resident memory and the mappings of one file, every 10 ms in a thread."""

    def __init__(self, path: str):
        self.path, self.peak_mb, self.most_maps = path, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, status_mb("VmRSS"))
            try:
                with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:  # one line at offset 0 a mapping
                    maps = sum(1 for line in f if line.rstrip().endswith(self.path) and int(line.split()[2], 16) == 0)
                self.most_maps = max(self.most_maps, maps)
            except OSError:
                pass
            self._stop.wait(0.01)


def reset_peak() -> bool:
    """Reset this process's peak resident memory (VmHWM) to its current value (Linux); False elsewhere."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def status_mb(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in MB (0 elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            return next(int(line.split()[1]) // 1024 for line in f if line.startswith(field + ":"))
    except (OSError, StopIteration, ValueError):
        return 0


if __name__ == "__main__":
    sys.exit(main())
