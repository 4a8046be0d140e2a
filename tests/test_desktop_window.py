"""The main window's frame: fast start-up, shortcuts, remembered geometry, drops, the report action."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from interreid.desktop.main_window import MainWindow  # noqa: E402
from test_desktop_interview import WAIT, lite_case, make_window, open_and_wait  # noqa: E402,F401

ROOT = Path(__file__).resolve().parent.parent


def test_window_starts_without_heavy_imports(tmp_path):
    code = ("import sys\nfrom interreid.desktop.app import create_application\n"
            "from interreid.desktop.main_window import MainWindow\n"
            "app = create_application(['t'])\nw = MainWindow(detect_device=False)\nw.show()\napp.processEvents()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'onnxruntime', 'cv2', "
            "'transformers')))\nw.close()\n")
    env = {"QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path), "INTERREID_DATA": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_shortcuts_geometry_and_drop_to_open(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    assert window.undo_action.shortcut().matches(Qt.Modifier.CTRL | Qt.Key.Key_Z)
    assert window.filter_action.shortcut().matches(Qt.Modifier.CTRL | Qt.Key.Key_F)
    assert window.open_action.shortcut().matches(Qt.Modifier.CTRL | Qt.Key.Key_O)
    assert window.quit_action.shortcut().matches(Qt.Modifier.CTRL | Qt.Key.Key_Q)
    window.handle_dropped([lite_case])  # what a drop of the case file does
    qtbot.waitUntil(lambda: window.session.is_open and not window.session.busy, timeout=WAIT)
    window.activateWindow()
    window.filter_action.trigger()
    grid = window.interview_page.grid
    assert grid.camera.hasFocus() or grid.time_from.hasFocus() or grid.view.hasFocus()
    window.close()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert settings.value("window/geometry") is not None and settings.value("window/state") is not None
    again = MainWindow(settings=settings, detect_device=False)
    qtbot.addWidget(again)
    assert again.saveGeometry() is not None  # restored (the offscreen screen clamps sizes, so not compared)


def test_report_action_follows_the_report_writer(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    qtbot.waitUntil(lambda: window.report_available is not None, timeout=WAIT)
    try:
        from interreid.engine.report import write_report  # noqa: F401
    except ImportError:
        assert not window.report_action.isEnabled()
        assert "not available" in window.report_action.toolTip()
    else:
        assert window.report_action.isEnabled()
    window.close()


def _window_with_fake_gpu_probe(qtbot, tmp_path, monkeypatch, delay: int = 0) -> MainWindow:
    """A window whose device probe runs a fake `nvidia-smi` naming "Test GPU" after ``delay`` seconds."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "nvidia-smi"
    fake.write_text(f"#!/bin/sh\nsleep {delay}\necho 'GPU 0: Test GPU (UUID: GPU-0)'\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    return window


def test_closing_the_window_stops_the_gpu_probe(qtbot, tmp_path, monkeypatch):
    """Closing right after opening must not leave `nvidia-smi` running to call back into a closed window."""
    window = _window_with_fake_gpu_probe(qtbot, tmp_path, monkeypatch, delay=3)
    qtbot.waitUntil(lambda: getattr(window, "_smi", None) is not None and window._smi.processId() > 0, timeout=WAIT)
    label = window.device_label.text()
    window.close()
    assert window._smi.state() == window._smi.ProcessState.NotRunning
    qtbot.wait(200)
    assert window.device_label.text() == label  # the killed probe reported nothing


def test_gpu_probe_names_the_gpu(qtbot, tmp_path, monkeypatch):
    window = _window_with_fake_gpu_probe(qtbot, tmp_path, monkeypatch)
    qtbot.waitUntil(lambda: window.device_label.text() == "device: GPU: Test GPU", timeout=WAIT)


def test_a_file_that_is_no_case_is_not_called_an_encrypted_case(qtbot, lite_case, tmp_path, monkeypatch):  # noqa: F811
    """Opening notes or a video by mistake, with the workstation passphrase known: the question and the message
    say it may not be a case file at all (they said "The case notes.txt is encrypted"), and the open case stays."""
    asked = []

    def ask(_parent, label):
        asked.append(label)
        return "", False

    monkeypatch.setattr("interreid.desktop.passphrase._ask", ask)
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    notes = tmp_path / "witness notes (copy) #1.txt"
    notes.write_text("Seen at 14:05 by the bus stop, red jacket.\n" * 20, encoding="utf-8")
    window.open_case(notes)
    assert len(asked) == 1 and "is not an interreid case file" in asked[0] and "is encrypted" not in asked[0]
    assert window.banner.isVisible() and notes.name in window.banner.text()
    assert "not an interreid case file" in window.banner.text()
    assert window.session.is_open and window.session.opened_case.path == lite_case
    window.close()
