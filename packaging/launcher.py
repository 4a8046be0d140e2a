"""Entry script of the one-folder build (PyInstaller): the same program as the ``interreid`` command.

``--probe-window`` (packaging checks only, not a user command) opens the main window, lets Qt
paint it once and exits: the one-folder build's start time is the wall time of that run.
"""

from __future__ import annotations

import sys


def _probe_window() -> int:
    from interreid.desktop.app import create_application
    from interreid.desktop.main_window import MainWindow

    app = create_application()
    window = MainWindow()
    window.show()
    app.processEvents()
    print(f"window shown: {window.windowTitle()!r}, {window.width()}x{window.height()}")
    window.close()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe-window"]:
        raise SystemExit(_probe_window())
    from interreid.engine.cli.main import main

    raise SystemExit(main())
