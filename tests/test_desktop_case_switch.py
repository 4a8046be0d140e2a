"""Nothing of one case leaks into another, and a case that cannot be opened changes nothing.

Both were data-loss defects: a new case opened holding the previous witness's description, and a
failed opening closed the case underneath the window so that the next answer was lost.
"""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt
from test_desktop_interview import (  # noqa: F401
    WAIT,
    accept_next_dialog,
    idle,
    lite_case,
    make_window,
    open_and_wait,
)

from interreid.desktop.widgets.new_case_dialog import NewCaseRequest


def second_case(tmp_path, title="Witness B"):
    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery

    with Gallery.open(tmp_path / "gallery") as g:
        CaseFile.create(tmp_path / "b.case", title, "tester", g, build_engine(g).identity()).close()
    return tmp_path / "b.case"


def start_and_mark(qtbot, window, description="A man in a red top."):
    q, page = window.interview_page.questions, window.interview_page
    qtbot.keyClicks(q.description, description)
    q.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    card = page.candidates.cards[0]
    accept_next_dialog("same top")
    card.mark_requested.emit(card.row, "match")
    qtbot.waitUntil(lambda: bool(window.session.marks) and idle(window), timeout=WAIT)
    assert card.mark.text()


def test_a_new_case_starts_empty(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    start_and_mark(qtbot, window)
    b = second_case(tmp_path)
    window.open_case(b)
    qtbot.waitUntil(lambda: window.session.opened_case.path == b and idle(window), timeout=WAIT)
    q, page = window.interview_page.questions, window.interview_page
    assert q.description.toPlainText() == ""
    assert not q.description.isReadOnly()
    assert q.transcript.toPlainText() == "" and q.answer.text() == ""
    for card in page.candidates.cards:
        assert card.row is None and card.mark.text() == "" and card.mark.styleSheet() == ""
    assert page.marks == {} and not page.chart.series
    assert "Witness B" in window.windowTitle()
    window.close()


def test_typed_but_unsearched_description_does_not_follow_into_the_next_case(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    qtbot.keyClicks(window.interview_page.questions.description, "witness A's words")
    b = second_case(tmp_path)
    window.open_case(b)
    qtbot.waitUntil(lambda: window.session.opened_case.path == b and idle(window), timeout=WAIT)
    assert window.interview_page.questions.description.toPlainText() == ""
    window.close()


def test_a_failed_opening_keeps_the_open_case_working(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    q = window.interview_page.questions
    qtbot.keyClicks(q.description, "A man in a red top.")
    q.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    (tmp_path / "junk.case").write_text("not a database")
    window.open_case(tmp_path / "junk.case")
    qtbot.waitUntil(lambda: idle(window) and window.banner.level == "error" and window.banner.isVisible(),
                    timeout=WAIT)
    message = window.banner.text()
    assert "junk.case could not be opened" in message and "Test case" in message and "still open" in message
    assert "'interreid" not in message and "'case" not in message and "--" not in message
    # the window shows the case that is open, and it is really open underneath
    assert window.stack.currentWidget() is window.interview_page
    assert window.session.is_open and window.session.opened_case.path == lite_case
    # the next answer is recorded, not lost
    qtbot.keyClicks(q.answer, "white trousers")
    qtbot.keyClick(q.answer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.state.round_index == 2 and idle(window), timeout=WAIT)
    assert "white trousers" in q.transcript.toPlainText()
    assert "Internal error" not in window.banner.text()
    window.close()


def test_an_answer_with_no_case_open_is_kept_and_explained(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    q = window.interview_page.questions
    q.answer.setText("white trousers")
    window.session.ask("What colour?", "white trousers")
    assert window.banner.level == "error" and "No case is open" in window.banner.text()
    assert "Internal error" not in window.banner.text()
    assert q.answer.text() == "white trousers"
    window.close()


def test_a_new_case_that_cannot_open_leaves_no_case_file(qtbot, lite_case, tmp_path, monkeypatch):  # noqa: F811
    import interreid.desktop.session as session_module
    from interreid.engine.errors import GalleryError

    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)

    def broken(_gallery):
        raise GalleryError("The gallery's image list cannot be read.")

    monkeypatch.setattr(session_module, "load_row_metadata", broken)
    target = tmp_path / "cases" / "new.case"
    window._create_case(NewCaseRequest("Witness C", "tester", target, tmp_path / "gallery"))
    qtbot.waitUntil(lambda: idle(window) and window.banner.level == "error" and window.banner.isVisible(),
                    timeout=WAIT)
    assert "new case could not be created" in window.banner.text()
    assert not target.exists() and not list((tmp_path / "cases").glob("new.case*"))
    assert window.session.opened_case.path == lite_case
    window.close()


def test_a_new_case_over_a_missing_gallery_speaks_the_apps_language(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    target = tmp_path / "cases" / "new.case"
    window._create_case(NewCaseRequest("Witness C", "tester", target, tmp_path / "no-gallery"))
    qtbot.waitUntil(lambda: idle(window) and window.banner.isVisible(), timeout=WAIT)
    assert "File → Import gallery" in window.banner.text() and "interreid gallery" not in window.banner.text()
    assert not target.exists()
    assert window.stack.currentWidget() is window.start_page
    window.close()


def test_a_closed_case_lets_go_of_its_gallery(qtbot, lite_case, tmp_path):  # noqa: F811
    """Opening one case after another in a window keeps no earlier case's gallery, interview or grid
    model alive. They were kept for the window's life (each job's callbacks held through Qt's signal
    connections, the grid's model owned by the page), with the gallery's mapped files: at 10M rows
    each case opened added 5.8 GB to the app's resident memory."""
    import gc
    import weakref

    from PySide6.QtWidgets import QApplication

    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    start_and_mark(qtbot, window)  # rounds, a mark and the rank history: jobs of every kind
    gone = [weakref.ref(window.session.gallery), weakref.ref(window.session.interview),
            weakref.ref(window.interview_page.model)]
    open_and_wait(qtbot, window, second_case(tmp_path))
    for _ in range(5):  # the previous grid model is deleted on the event loop
        QApplication.processEvents()
        gc.collect()
    assert [ref() is None for ref in gone] == [True, True, True]
    assert window.session.gallery is not None and window.interview_page.model is not None


def test_a_job_lets_go_of_its_work_and_callbacks_once_it_has_reported(qtbot):
    import gc
    import weakref

    from interreid.desktop.workers import JobRunner

    class Payload:
        pass

    runner = JobRunner(1)
    payload, results = Payload(), []
    ref = weakref.ref(payload)
    job = runner.start(lambda _job, p=payload: p, lambda value: results.append(type(value).__name__))
    del payload
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT)
    gc.collect()
    assert results == ["Payload"] and ref() is None and job.fn is None and not runner.busy
    failed = []
    runner.start(lambda _job: 1 / 0, None, lambda message, _exc: failed.append(message))
    qtbot.waitUntil(lambda: bool(failed), timeout=WAIT)
    assert not runner.busy



def test_a_job_that_reports_after_its_case_was_closed_shows_nothing(qtbot, lite_case, tmp_path):  # noqa: F811
    """Closing a case waits 30 s at most for its jobs (a first search may build an index for minutes): one that
    fails or finishes after its case was closed is logged, not shown as an error or a result; a job started
    with no case open still reports its error."""
    import threading

    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    session, release, seen = window.session, threading.Event(), []
    session.error.connect(seen.append)

    def slow_failure(_job):
        release.wait(20)
        raise RuntimeError("the gallery was closed under the search")

    session._run(slow_failure, lambda _r: seen.append("result"), "Searching…", blocking=False, quiet=True)
    session._run(lambda _job: release.wait(20) and "late", seen.append, "Searching…", blocking=False, quiet=True)
    threading.Timer(0.5, release.set).start()
    window.close_case()  # waits for the jobs; their reports arrive once the case is closed
    qtbot.waitUntil(lambda: not session.engine_queue.busy, timeout=WAIT)
    qtbot.wait(50)
    assert seen == [] and not session.is_open
    session._run(lambda _job: 1 / 0, None, "Checking…", blocking=False, quiet=True)
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT)
    assert "internal error" in seen[0].lower()
