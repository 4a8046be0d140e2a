"""A whole interview driven through the window's widgets, on a lite-engine gallery of real crops."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog  # noqa: E402

from interreid.desktop.main_window import MainWindow  # noqa: E402

WAIT = 30000


@pytest.fixture
def lite_case(crops_dir, tmp_path):
    """A lite gallery imported from the 12 crops, and a new case on it."""
    from interreid.engine.casefile import CaseFile
    from interreid.engine.embedder import create_embedder
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.importer import import_sources
    from interreid.engine.gallery.store import Gallery

    embedder = create_embedder("lite")
    with Gallery.create(tmp_path / "gallery", embedder.identity) as g:
        import_sources(g, embedder, [crops_dir])
        CaseFile.create(tmp_path / "test.case", "Test case", "tester", g, build_engine(g).identity()).close()
    return tmp_path / "test.case"


def make_window(qtbot, tmp_path) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, detect_device=False)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    return window


def open_and_wait(qtbot, window, case_path) -> None:
    window.open_case(case_path)
    qtbot.waitUntil(lambda: window.session.is_open and not window.session.busy, timeout=WAIT)


def idle(window) -> bool:
    return not window.session.busy


def accept_next_dialog(note: str = "") -> None:
    """Fill the note of the next modal dialog and accept it (dialogs run their own event loop)."""

    def accept():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QDialog):
            QTimer.singleShot(20, accept)
            return
        if hasattr(dialog, "edit"):
            dialog.edit.setText(note)
        dialog.accept()

    QTimer.singleShot(20, accept)


def test_whole_interview_through_the_widgets(qtbot, lite_case, tmp_path, crops_dir):
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    page, q = window.interview_page, window.interview_page.questions
    assert window.stack.currentWidget() is page
    assert "lite engine" in window.engine_label.toolTip() and "Colour search" in window.engine_label.text()
    assert "12" in window.gallery_label.text() or "11" in window.gallery_label.text()

    # an empty description is the user's mistake: one sentence in the banner, no crash
    q.start_button.click()
    qtbot.waitUntil(lambda: window.banner.isVisible() and idle(window), timeout=WAIT)
    assert "description is empty" in window.banner.text()

    qtbot.keyClicks(q.description, "A person wearing a red top.")
    q.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    first = window.session.state
    assert first.round_index == 1
    assert q.question.text() == first.suggestion.text and q.question.text()
    cards = page.candidates.cards
    assert cards[0].rank.text() == "#1" and cards[0].reasons.text()
    assert page.model.rowCount() == len(first.rows)
    first_rows = np.array(first.rows)

    # the investigator edits the question, then types the answer and presses Enter
    q.question.setText("What colour were the trousers?")
    qtbot.keyClicks(q.answer, "The trousers were white.")
    qtbot.keyClick(q.answer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.state.round_index == 2 and idle(window), timeout=WAIT)
    second = window.session.state
    assert not np.array_equal(np.array(second.rows), first_rows), "the ranking did not change"
    assert "The trousers were white." in q.transcript.toPlainText()
    assert "What colour were the trousers?" in q.transcript.toPlainText()
    top = window.session.gallery.image(int(second.rows[0]))
    assert top.path.endswith("_p0.jpg"), top.path  # red top, white trousers
    records = window.session.interview.records.rounds()
    assert records[0]["asked"] == "What colour were the trousers?" and records[0]["suggested"] != records[0]["asked"]

    # mark the top candidate as a match, with a note; the chart follows it
    accept_next_dialog("same red top")
    cards[0].mark_requested.emit(cards[0].row, "match")
    sha = cards[0].sha
    qtbot.waitUntil(lambda: window.session.marks.get(sha, {}).get("mark") == "match" and idle(window),
                    timeout=WAIT)
    assert window.session.marks[sha]["note"] == "same red top"
    assert cards[0].mark.text() == "Match"
    qtbot.waitUntil(lambda: bool(page.chart.series), timeout=WAIT)
    assert [p[1] for p in page.chart.series[0][1]][-1] == 1

    # exclude an image from the grid: hidden while "Hide excluded" is on
    last_row = int(second.rows[-1])
    shown_before = page.model.rowCount()
    accept_next_dialog("different build")
    page.grid.mark_requested.emit(last_row, "excluded")
    qtbot.waitUntil(lambda: page.model.rowCount() == shown_before - 1 and idle(window), timeout=WAIT)
    page.grid.hide_excluded.setChecked(False)
    assert page.model.rowCount() == shown_before
    page.grid.hide_excluded.setChecked(True)

    # detail view: original, SHA-256, source path, rank history across rounds
    window.show_details(cards[0].row)
    qtbot.waitUntil(lambda: bool(window.detail_views), timeout=WAIT)
    view = window.detail_views[-1]
    assert view.details.image.sha256 == sha
    assert view.details.image.sources[0].startswith(str(crops_dir))
    assert [h[0] for h in view.details.history] == [0, 1] and view.details.history[-1][1] == 1
    # ranks read as match percentages against the best of each round (the engine's score only in a tooltip)
    assert view.history.horizontalHeaderItem(2).text() == "Match"
    assert view.history.item(1, 2).text() == "100%" and view.history.item(1, 1).text() == "#1"
    assert "Engine score" in view.history.item(1, 2).toolTip()
    assert view.image.pixmap() is not None and not view.image.pixmap().isNull()
    view.close()

    # show to witness: warned, then recorded
    accept_next_dialog("photo line-up approved by supervisor")
    cards[0].witness_requested.emit(cards[0].row)
    qtbot.waitUntil(lambda: "shown to the witness" in page.witness_note.text() and idle(window), timeout=WAIT)
    assert window.session.case.witness_views()[0]["sha256"] == sha

    # Ctrl+Z (the window's action) undoes the round: the first ranking and question come back
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: window.session.state.round_index == 1 and idle(window), timeout=WAIT)
    assert np.array_equal(np.array(window.session.state.rows), first_rows)
    assert "The trousers were white." not in q.transcript.toPlainText()
    assert not q.undo_button.isEnabled()

    # "doesn't know" is a valid answer and leaves the ranking as it was
    q.dont_know_button.click()
    qtbot.waitUntil(lambda: window.session.state.round_index == 2 and idle(window), timeout=WAIT)
    assert np.array_equal(np.array(window.session.state.rows), first_rows)
    window.close()


def test_reopened_case_resumes_and_is_in_recent_cases(qtbot, lite_case, tmp_path):
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    qtbot.keyClicks(window.interview_page.questions.description, "red top")
    window.interview_page.questions.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    window.interview_page.questions.answer.setText("white trousers")
    window.interview_page.questions.ask_button.click()
    qtbot.waitUntil(lambda: window.session.state.round_index == 2 and idle(window), timeout=WAIT)
    window.close()

    again = make_window(qtbot, tmp_path)
    assert again.start_page.recent.item(0).data(Qt.ItemDataRole.UserRole) == str(lite_case)
    open_and_wait(qtbot, again, lite_case)
    assert again.session.state.round_index == 2
    assert "white trousers" in again.interview_page.questions.transcript.toPlainText()
    assert again.interview_page.questions.description.isReadOnly()
    again.close()


def test_tampered_gallery_image_shows_a_warning(qtbot, lite_case, tmp_path, crops_dir):
    from imagemaker import write_person

    victim = sorted((crops_dir / "cam02").glob("*.jpg"))[0]
    write_person(victim, "green", "green", seed=42)  # the evidence changes on disk after the case was made
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    qtbot.waitUntil(lambda: window.last_verification is not None, timeout=WAIT)
    assert not window.last_verification.ok
    assert window.banner.isVisible() and window.banner.level == "warning"
    assert "ALTERED" in window.banner.label.text() and victim.name in window.banner.label.text()
    window.close()


def test_missing_case_file_is_one_sentence_in_the_window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.open_case(tmp_path / "nope.case")
    assert window.banner.level == "error" and "does not exist" in window.banner.text()
    (tmp_path / "junk.case").write_text("not a database")
    window.open_case(tmp_path / "junk.case")
    qtbot.waitUntil(lambda: idle(window) and "not an interreid case file" in window.banner.text(), timeout=WAIT)
    assert window.stack.currentWidget() is window.start_page
    window.close()


def test_history_matches_are_percentages_of_each_rounds_best():
    import numpy as np

    from interreid.desktop.session import history_matches

    class Retriever:
        temperature = 0.5

    rankings = [{"after_round": 0, "scores": np.array([-1.0, -1.5])},
                {"after_round": 1, "scores": np.array([-2.0, -2.2])}]
    history = [(0, 2, -1.5), (1, 1, -2.0), (2, 1, -3.0)]  # round 2 has no stored ranking
    m = history_matches(history, rankings, Retriever())
    assert m[1] == 100.0 and m[2] is None
    assert abs(m[0] - 100.0 * np.exp(-0.5 / 0.5)) < 1e-9
    assert history_matches(history, rankings, object()) == [None, None, None]  # no temperature: nothing said
