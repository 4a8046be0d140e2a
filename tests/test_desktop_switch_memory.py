"""Switching cases maps a gallery's files once (issue 18: 10.1 GB while one case of a 10M-row gallery
replaced another, its 4.9 GB vector file mapped by both), and an opening that fails after the open case
let go of its files gives them back (or closes that case, its records saved).

The peak itself is measured by scripts/case_switch_memory.py (docs/scale.md); these tests check the
mechanism on a small gallery: which mappings of the vector file exist when the next case's interview
has mapped its own, and what the window and the case files hold after a failure.
"""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt
from test_desktop_case_switch import second_case, start_and_mark  # noqa: F401
from test_desktop_interview import WAIT, idle, lite_case, make_window, open_and_wait  # noqa: F401


def mappings_of(path) -> int:
    """How many separate mappings of ``path`` this process holds: each maps the file from its start (offset
    0); the kernel may split one into several ranges, but the later ones start further into the file."""
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
        return sum(1 for line in f if line.rstrip().endswith(str(path)) and int(line.split()[2], 16) == 0)


@pytest.fixture
def maps_when_interviews_open(monkeypatch):
    """Record, each time an interview has been created (its gallery's vectors mapped), how many mappings of
    its vector file the process holds then."""
    from interreid.engine.interview import loop

    seen: list[int] = []
    init = loop.Interview.__init__

    def counting(self, gallery, *args, **kwargs):
        init(self, gallery, *args, **kwargs)
        seen.append(mappings_of(gallery.vector_file))

    monkeypatch.setattr(loop.Interview, "__init__", counting)
    return seen


def test_switching_cases_maps_the_gallery_once(qtbot, lite_case, tmp_path, maps_when_interviews_open):  # noqa: F811
    import gc
    import weakref

    from PySide6.QtWidgets import QApplication

    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    start_and_mark(qtbot, window)  # a round searched: the vectors are mapped and read
    first_gallery, first_interview = window.session.gallery, window.session.interview
    vector_file = first_gallery.vector_file
    assert mappings_of(vector_file) == 1
    gone = [weakref.ref(first_gallery), weakref.ref(first_interview)]
    del first_gallery, first_interview
    open_and_wait(qtbot, window, second_case(tmp_path))
    # the second case's interview mapped the file while the first case was still open: one mapping, not two
    assert maps_when_interviews_open == [1, 1]
    for _ in range(5):  # the previous grid model (which reads the first gallery's rows) is deleted on the event loop
        QApplication.processEvents()
        gc.collect()
    assert [ref() is None for ref in gone] == [True, True]
    assert mappings_of(vector_file) == 1  # the open case's own
    # the second case searches as any case does
    q = window.interview_page.questions
    qtbot.keyClicks(q.description, "A woman in a blue top.")
    q.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    assert len(window.session.state.rows) > 0
    window.close()
    for _ in range(5):
        QApplication.processEvents()
        gc.collect()
    assert mappings_of(vector_file) == 0


def cut_short_gallery_case(tmp_path):
    """A case on a copy of the gallery whose vector file was cut short after the case was made (as a
    damaged or tampered copy): opening its gallery refuses it, before anything is mapped."""
    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery

    shutil.copytree(tmp_path / "gallery", tmp_path / "gallery-copy")
    with Gallery.open(tmp_path / "gallery-copy") as g:
        CaseFile.create(tmp_path / "c.case", "Witness C", "tester", g, build_engine(g).identity()).close()
        vector_file = g.vector_file
    with open(vector_file, "r+b") as f:
        f.truncate(vector_file.stat().st_size // 2)
    return tmp_path / "c.case"


@pytest.fixture
def lets_go(monkeypatch):
    """The open case's interview's ``release`` and ``reattach`` calls, in order."""
    from interreid.engine.interview import loop

    calls = []
    for name in ("release", "reattach"):
        method = getattr(loop.Interview, name)
        monkeypatch.setattr(loop.Interview, name,
                            lambda self, _m=method, _n=name: (calls.append(_n), _m(self))[1])
    return calls


def refused(qtbot, window, case) -> str:
    """Open ``case`` while another is open; the error the window shows once it has failed."""
    window.open_case(case)
    qtbot.waitUntil(lambda: idle(window) and window.banner.level == "error" and window.banner.isVisible(),
                    timeout=WAIT)
    return window.banner.text()


def answer_is_recorded(qtbot, window) -> None:
    q, session = window.interview_page.questions, window.session
    qtbot.keyClicks(q.answer, "white trousers")
    qtbot.keyClick(q.answer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: session.state.round_index == 2 and idle(window), timeout=WAIT)
    assert "white trousers" in q.transcript.toPlainText()


def test_a_case_refused_before_it_maps_anything_leaves_the_open_case_untouched(  # noqa: F811
        qtbot, lite_case, tmp_path, lets_go):
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    start_and_mark(qtbot, window)
    interview = window.session.interview
    message = refused(qtbot, window, cut_short_gallery_case(tmp_path))
    assert "c.case could not be opened" in message and "cut short" in message
    assert "“Test case” is still open" in message and "Internal error" not in message
    assert lets_go == []  # the gallery was refused on opening: the open case never let go of its files
    assert window.session.interview is interview and window.session.opened_case.path == lite_case
    answer_is_recorded(qtbot, window)
    window.close()


def test_a_failed_opening_gives_the_open_case_its_files_back(qtbot, lite_case, tmp_path, lets_go,  # noqa: F811
                                                             monkeypatch):
    import interreid.desktop.session as session_module
    from interreid.engine.errors import GalleryError

    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    start_and_mark(qtbot, window)
    session = window.session
    interview, vector_file = session.interview, session.gallery.vector_file

    def unreadable(_gallery):  # fails after the new case's interview has mapped the gallery
        raise GalleryError("The gallery's image list cannot be read.")

    monkeypatch.setattr(session_module, "load_row_metadata", unreadable)
    message = refused(qtbot, window, second_case(tmp_path))
    assert lets_go == ["release", "reattach"]  # it let go of its files, then took them back
    assert "b.case could not be opened" in message and "“Test case” is still open" in message
    assert "Internal error" not in message
    # the same case, the same interview, on screen as it was, and really usable
    assert session.opened_case.path == lite_case and session.interview is interview
    assert window.stack.currentWidget() is window.interview_page
    assert mappings_of(vector_file) == 1
    answer_is_recorded(qtbot, window)
    assert window.session.state.ranking is not None and window.session.state.ranking.rank_of(0) >= 1
    window.close()


def test_an_open_case_that_cannot_take_its_files_back_is_closed_with_its_work_saved(  # noqa: F811
        qtbot, lite_case, tmp_path, monkeypatch):
    from interreid.engine.casefile import CaseFile
    from interreid.engine.casefile.case import InterviewRecords
    from interreid.engine.errors import GalleryError
    import interreid.desktop.session as session_module
    from interreid.engine.interview import loop

    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    start_and_mark(qtbot, window)
    marked = dict(window.session.marks)

    def unreadable(*_args):
        raise GalleryError("The gallery's vector file cannot be read.")

    monkeypatch.setattr(session_module, "load_row_metadata", unreadable)
    monkeypatch.setattr(loop.Interview, "reattach", unreadable)  # the open case's gallery went too
    message = refused(qtbot, window, second_case(tmp_path))
    assert "b.case could not be opened" in message and "“Test case” was closed too" in message
    assert "saved" in message and "Internal error" not in message
    assert not window.session.is_open and window.stack.currentWidget() is window.start_page
    assert window.windowTitle() == "interreid"
    with CaseFile.open(lite_case) as case:  # what was recorded before is all there
        assert case.meta("initial_description") == "A man in a red top."
        assert set(case.current_marks()) == set(marked)
        assert InterviewRecords(case).rankings()
        assert case.verify().ok
    window.close()


def test_a_job_lets_go_of_its_work_as_soon_as_it_has_run(qtbot):
    """The work (and what it refers to: an interview and its mapped files) is let go of on the worker thread
    when it has run, not when the window's thread gets to the job's report: the next job on the queue may
    be opening another case."""
    import gc
    import weakref

    from interreid.desktop.workers import JobRunner

    class Payload:
        pass

    runner, results = JobRunner(1), []
    payload = Payload()
    ref = weakref.ref(payload)
    job = runner.start(lambda _job, p=payload: type(p).__name__, results.append)
    del payload
    assert job.done.wait(WAIT / 1000)  # run, its report not delivered yet (no event processed here)
    gc.collect()
    assert ref() is None and job.fn is None and results == []
    qtbot.waitUntil(lambda: results == ["Payload"] and not runner.busy, timeout=WAIT)
