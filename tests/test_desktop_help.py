"""Help menu, shortcuts for every interview step, and a keyboard-only interview."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QDialog
from test_desktop_interview import WAIT, idle, lite_case, make_window, open_and_wait  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def test_docs_guide_is_the_guide_the_app_shows():
    assert (ROOT / "docs" / "desktop-guide.md").read_text(encoding="utf-8") == \
        (ROOT / "resources" / "help" / "desktop-guide.md").read_text(encoding="utf-8")


def test_help_menu_shows_guide_numbers_and_the_real_shortcuts(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.guide_action.shortcut().matches(QKeySequence(QKeySequence.StandardKey.HelpContents))
    window.shortcuts_action.trigger()
    dialog = window.help_dialog
    assert dialog.tabs.currentIndex() == 1
    table = dialog.pages["shortcuts"].toPlainText()
    for keys in ("Ctrl+Shift+M", "Ctrl+Shift+P", "Ctrl+Shift+X", "Ctrl+K", "Ctrl+E", "Ctrl+Shift+V", "Ctrl+Z"):
        assert keys in table
    guide = (ROOT / "docs" / "desktop-guide.md").read_text(encoding="utf-8")
    for keys, _what in window.shortcut_table():  # every key the window has is in the written guide
        for part in keys.split(" / "):
            assert part.split(" (")[0] in guide, part
    window.numbers_action.trigger()
    assert dialog.tabs.currentIndex() == 2 and "can be negative" in dialog.pages["numbers"].toPlainText()
    window.guide_action.trigger()
    assert "Enter searches" in dialog.pages["guide"].toPlainText()
    assert "What the numbers mean" not in dialog.pages["guide"].toPlainText()
    window.close()


def answer_dialog_with_keys(qtbot, text: str) -> None:
    def accept():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QDialog):
            QTimer.singleShot(20, accept)
            return
        qtbot.keyClicks(dialog.edit, text)
        dialog.accept()

    QTimer.singleShot(20, accept)


def test_a_whole_interview_from_the_keyboard(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    window.activateWindow()
    q, page = window.interview_page.questions, window.interview_page
    assert q.description.hasFocus()
    qtbot.keyClicks(q.description, "A person wearing a red top.")
    qtbot.keyClick(q.description, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    assert q.answer.hasFocus()
    qtbot.keyClicks(q.answer, "White trousers.")
    qtbot.keyClick(q.answer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.state.round_index == 2 and idle(window), timeout=WAIT)
    # skip with Ctrl+K: another question is suggested
    asked = q.question.text()
    qtbot.keyClick(q.answer, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: idle(window) and q.question.text() != asked, timeout=WAIT)
    # Alt+2 goes to the second candidate; M marks it (the note typed in the dialog)
    window.card_actions[1].trigger()
    card = page.candidates.cards[1]
    assert card.hasFocus()
    answer_dialog_with_keys(qtbot, "same build")
    qtbot.keyClick(card, Qt.Key.Key_M)
    qtbot.waitUntil(lambda: window.session.marks.get(card.sha, {}).get("mark") == "match" and idle(window),
                    timeout=WAIT)
    # Ctrl+Shift+X excludes the image the keyboard is on
    answer_dialog_with_keys(qtbot, "")
    window.excluded_action.trigger()
    qtbot.waitUntil(lambda: window.session.marks.get(card.sha, {}).get("mark") == "excluded" and idle(window),
                    timeout=WAIT)
    assert card.mark.text() == "Excluded"
    # the grid: arrow keys and P mark the current image
    page.grid.view.setFocus()
    qtbot.keyClick(page.grid.view, Qt.Key.Key_Home)
    row = page.grid.current_row()
    answer_dialog_with_keys(qtbot, "")
    qtbot.keyClick(page.grid.view, Qt.Key.Key_P)
    sha = window.session.opened_case.shas[row]
    qtbot.waitUntil(lambda: window.session.marks.get(sha, {}).get("mark") == "possible" and idle(window),
                    timeout=WAIT)
    # Enter on the grid opens the details
    qtbot.keyClick(page.grid.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(window.detail_views) and idle(window), timeout=WAIT)
    assert window.detail_views[-1].details.image.row == row
    window.detail_views[-1].close()
    window.close()
