"""Asking for the workstation passphrase in the window (never on a terminal the app may not have).

Called before a case is opened or created: when the passphrase is already available (a key file
named by INTERREID_KEY_FILE, or asked earlier this session) nothing is shown.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QInputDialog, QLabel, QLineEdit, QWidget


def passphrase_needed(path: Path | None, new: bool) -> bool:
    from interreid.engine.storage import KeyMissingError, is_encrypted, open_database
    from interreid.engine.storage.keys import passphrase_available, set_passphrase

    if passphrase_available():
        if path is None or not is_encrypted(path):
            return False
        try:  # the passphrase known so far (typed earlier, or the key file) may not be this case's
            open_database(path, wal=False).close()
            return False
        except KeyMissingError:
            set_passphrase(None)
            return True
    if new or path is None:
        return new
    if is_encrypted(path):
        return True
    from interreid.engine.storage.keys import signing_key_locked

    if signing_key_locked():  # every record written to the case is signed with the (locked) key
        return True
    try:  # a plain case may search an encrypted gallery
        from interreid.engine.casefile import CaseFile

        with CaseFile.open(path) as case:
            folder = case.meta("gallery_path")
    except Exception:  # noqa: BLE001  (opening reports its own problem, in one sentence, just after)
        return False
    return bool(folder) and is_encrypted(Path(folder) / "gallery.db")


def ensure_passphrase(parent: QWidget, path: Path | None = None, new: bool = False, ask=None) -> bool:
    """True when the case can go ahead (passphrase known or not needed); False when the user cancelled.

    ``ask`` (tests) stands in for the dialog: a callable returning (text, ok).
    """
    from interreid.engine.storage.keys import passphrase_available, set_passphrase

    known = passphrase_available()  # a passphrase known, yet the file needs one: it may be no case at all
    if not passphrase_needed(path, new):
        return True
    name = path.name if path else ""
    if new:
        what = "New cases are encrypted on this computer. Choose the workstation passphrase:"
    elif known:
        what = (f"{name} does not open with the workstation passphrase: it is not an interreid case file, or it "
                "was encrypted with another passphrase. To open it, type that passphrase:")
    else:
        what = f"The case {name} is encrypted. Workstation passphrase:"
    text, ok = (ask or (lambda: _ask(parent, what)))()
    if not ok or not text:
        return False
    set_passphrase(text)
    return True


def _ask(parent: QWidget, what: str) -> tuple[str, bool]:
    """The passphrase typed in a dialog of a reading width: its sentence wraps (QInputDialog.getText sets it on one
    line, a dialog wider than a laptop's screen for the sentence after a wrong passphrase)."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle("Workstation passphrase")
    dialog.setInputMode(QInputDialog.InputMode.TextInput)
    dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
    dialog.setLabelText(what)
    for label in dialog.findChildren(QLabel):
        label.setWordWrap(True)
    dialog.setMinimumWidth(420)
    dialog.resize(520, dialog.sizeHint().height())
    ok = dialog.exec() == QInputDialog.DialogCode.Accepted
    return dialog.textValue(), ok
