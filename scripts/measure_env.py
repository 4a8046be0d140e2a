"""A throwaway workstation for the measuring scripts (app_open_time.py, case_switch_memory.py): a temporary
folder, and unless the caller set one, a workstation key and passphrase file in it, so that a measurement never
touches the user's own workstation or asks for a passphrase."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def throwaway_workstation(prefix: str) -> Path:
    """A new temporary folder (the caller removes it); the Qt platform offscreen unless set."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    if "INTERREID_WORKSTATION" not in os.environ:
        os.environ["INTERREID_WORKSTATION"] = str(tmp / "workstation")
        (tmp / "passphrase.txt").write_text("a throwaway passphrase for a measurement\n", encoding="utf-8")
        os.environ["INTERREID_KEY_FILE"] = str(tmp / "passphrase.txt")
        os.environ.setdefault("INTERREID_DATA", str(tmp / "data"))
    return tmp
