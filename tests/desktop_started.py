"""A main window with a new case on a gallery, opened and started on a description (pytest-qt)."""

from __future__ import annotations

WAIT = 30000


def started_window(qtbot, gallery, tmp_path, description: str):
    """The window (offscreen) with a new case on ``gallery`` open and its interview started on
    ``description``, typed into the description box; returns the window."""
    from PySide6.QtCore import QSettings

    from interreid.desktop.main_window import MainWindow
    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery

    with Gallery.open(gallery) as g:
        CaseFile.create(tmp_path / "d.case", "t", "tester", g, build_engine(g).identity()).close()
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.open_case(tmp_path / "d.case")
    qtbot.waitUntil(lambda: window.session.is_open and not window.session.busy, timeout=WAIT)
    page = window.interview_page
    qtbot.keyClicks(page.questions.description, description)
    page.questions.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and not window.session.busy, timeout=WAIT)
    return window


def chips_after_one_answer(qtbot, gallery, tmp_path, description: str, question: str, answer: str) -> list[str]:
    """The labels of the 'What the software understood' chips once the window's interview, started on
    ``description``, has taken ``answer`` to ``question``; the window is closed."""
    window = started_window(qtbot, gallery, tmp_path, description)
    window.session.ask(question, answer)
    qtbot.waitUntil(lambda: not window.session.busy and len(window.session.state.dialogue) == 1, timeout=WAIT)
    labels = [c.accessibleName() for c in window.interview_page.understood.chips]
    window.close()
    return labels
