"""Entry point of the desktop app: ``run_app(case_path=None, gallery=None) -> exit code``.

``interreid demo`` finds it through the ``interreid.gui`` entry point. Nothing heavy
(torch, onnxruntime, OpenCV) is imported before the window shows; engine work runs in workers.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

log = logging.getLogger("interreid.desktop")


def style_sheet() -> str:
    from interreid.engine.paths import resources_dir

    path = resources_dir() / "styles" / "desktop.qss"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def create_application(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("interreid")
    app.setOrganizationName("interreid")
    app.setStyle("Fusion")
    app.setStyleSheet(style_sheet())
    return app


def _log_uncaught(exc_type, exc, tb) -> None:
    """An internal error in a slot: logged with its traceback and shown, never a silent crash."""
    log.error("uncaught error", exc_info=(exc_type, exc, tb))
    from PySide6.QtWidgets import QApplication, QMessageBox

    from .errors import describe_error

    if QApplication.instance() is not None:
        QMessageBox.critical(None, "interreid", describe_error(exc))


def run_app(case_path: str | None = None, gallery: str | None = None, demo: bool = False) -> int:
    """Show the main window, open ``case_path`` if given (or start a new case on ``gallery``, or the
    demo: ``desktop/demo_start.py``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_application()
    from interreid.engine.storage.keys import set_prompting

    from .main_window import MainWindow

    set_prompting(False)  # the window asks for the passphrase itself, never a terminal it may not have

    sys.excepthook = _log_uncaught
    window = MainWindow()
    window.show()
    if demo:
        from PySide6.QtCore import QTimer

        from .demo_start import start_demo

        QTimer.singleShot(0, lambda: start_demo(window))
    elif case_path:
        window.open_case(Path(case_path))
    elif gallery:
        from PySide6.QtCore import QTimer

        def ask():
            from .widgets.new_case_dialog import NewCaseDialog

            dialog = NewCaseDialog(window, gallery=gallery)
            if dialog.exec() == NewCaseDialog.DialogCode.Accepted and dialog.request() is not None:
                window._create_case(dialog.request())

        QTimer.singleShot(0, ask)
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(run_app(*(sys.argv[1:2] or [None])))
