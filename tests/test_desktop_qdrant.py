"""The app on a gallery searched through Qdrant (embedded store): the window opens the case, a round
ranks through the Qdrant index (in the app's worker thread), the grid shows that ranking and the
case file records it."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("qdrant_client")

from PySide6.QtCore import QSettings  # noqa: E402

from fixtures_full import tiny_pack  # noqa: E402,F401
from interreid.desktop.main_window import MainWindow  # noqa: E402

WAIT = 60000


def test_window_interview_on_a_qdrant_gallery_records_every_ranking(qtbot, crops_dir, tmp_path, tiny_pack):  # noqa: F811
    from interreid.engine.casefile.case import CaseFile, InterviewRecords
    from interreid.engine.cli.main import main
    from interreid.engine.search import _INDEXES

    assert main(["pack", "install", str(tiny_pack)]) == 0  # the app finds the gallery's pack among the installed
    assert main(["gallery", "import", str(crops_dir), "--gallery", str(tmp_path / "g"), "--engine", "full",
                 "--pack", str(tiny_pack), "--index", "qdrant", "--plain"]) == 0
    case_path = tmp_path / "q.case"
    assert main(["case", "new", str(case_path), "--title", "Regional", "--gallery", str(tmp_path / "g"),
                 "--plain"]) == 0

    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.open_case(case_path)
    qtbot.waitUntil(lambda: window.session.is_open and not window.session.busy, timeout=WAIT)
    window.session.start("a man in a red jacket")
    qtbot.waitUntil(lambda: window.session.state is not None and not window.session.busy, timeout=WAIT)
    window.session.ask(window.session.state.suggestion.text, "Blue jeans.")
    qtbot.waitUntil(lambda: window.session.state.round_index == 2 and not window.session.busy, timeout=WAIT)
    state = window.session.state
    gallery = window.session.gallery
    assert _INDEXES[gallery][1].backend == "qdrant"  # the round was ranked by the Qdrant index
    model = window.interview_page.grid.model
    assert np.array_equal(model.rows[:len(state.rows)], state.rows)
    window.close()

    with CaseFile.open(case_path) as case:
        stored = InterviewRecords(case).rankings()
        events = [e.event for e in case.audit_entries()]
    assert [r["after_round"] for r in stored] == [0, 1]
    assert np.array_equal(stored[-1]["rows"], state.rows)
    assert events.count("index.opened") == 2  # when the case was made, and when the app opened it

    # the gallery now names a server that does not answer: one sentence in the window, the case untouched
    from interreid.engine.gallery.store import Gallery

    with Gallery.open(tmp_path / "g") as g:
        g.save_meta("qdrant_url", "http://127.0.0.1:9")
    before = case_path.read_bytes()
    again = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(again)
    again.show()
    again.open_case(case_path)
    qtbot.waitUntil(lambda: not again.session.busy and "cannot be reached" in again.banner.text(), timeout=WAIT)
    assert again.banner.level == "error" and "Traceback" not in again.banner.text()
    assert again.stack.currentWidget() is again.start_page and case_path.read_bytes() == before
    again.close()
