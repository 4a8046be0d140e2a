"""What a new user's trial of the app on the bundled video found in its dialogs and messages (pytest-qt,
offscreen): each test would have failed before its fix."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")


def test_the_passphrase_prompt_wraps_its_sentence(qtbot, tmp_path, lite_gallery, monkeypatch):
    """Asked again after a wrong passphrase, the prompt's long sentence stood on one line: a dialog 1,129 pixels
    wide on a 1,366-pixel screen. It wraps, and the dialog stays of a reading width."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QInputDialog, QLabel, QWidget

    from interreid.desktop.passphrase import ensure_passphrase
    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.storage import keys

    case = tmp_path / "c.case"
    with Gallery.open(lite_gallery) as g:
        CaseFile.create(case, "t", "tester", g, build_engine(g).identity()).close()
    keys.set_passphrase("a passphrase that is not this case's")  # known, and wrong for the case
    parent = QWidget()
    qtbot.addWidget(parent)
    seen = {}

    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(20, answer)
            return
        label = next(w for w in dialog.findChildren(QLabel) if "another passphrase" in w.text())
        seen.update(width=dialog.width(), wraps=label.wordWrap(), text=label.text())
        dialog.reject()

    QTimer.singleShot(20, answer)
    assert not ensure_passphrase(parent, case)  # rejected: nothing opened
    assert seen["wraps"] and seen["width"] <= 640 and "does not open with the workstation passphrase" in seen["text"]
    keys.set_passphrase(None)


def test_a_wrong_passphrase_says_what_to_do_in_the_window(qtbot, tmp_path, lite_gallery, monkeypatch):
    """The window passed on the command line's '(give that one)', which an investigator at the window cannot do:
    it says to open the case again and type that passphrase."""
    from PySide6.QtCore import QSettings

    from interreid.desktop.main_window import MainWindow
    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.storage import keys

    case = tmp_path / "c.case"
    with Gallery.open(lite_gallery) as g:
        CaseFile.create(case, "t", "tester", g, build_engine(g).identity()).close()
    monkeypatch.delenv("INTERREID_KEY_FILE")
    monkeypatch.setattr("interreid.desktop.main_window.ensure_passphrase",  # typed in the prompt: a wrong one
                        lambda *a, **k: keys.set_passphrase("not the passphrase") or True)
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.open_case(case)
    qtbot.waitUntil(lambda: window.banner.isVisible() and not window.session.busy, timeout=30000)
    text = window.banner.text()
    assert not window.session.is_open and "another passphrase" in text
    assert "give that one" not in text and "open it again and type that passphrase" in text
    keys.set_passphrase(None)
