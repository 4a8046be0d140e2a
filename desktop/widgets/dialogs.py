"""Small confirmation dialogs: a mark with its note, and the witness-contamination warning."""

from __future__ import annotations

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QLineEdit, QMessageBox, QVBoxLayout,
                               QWidget)

MARK_TITLES = {"match": "Mark as match", "possible": "Mark as possible", "excluded": "Mark as excluded",
               "cleared": "Clear mark"}

WITNESS_WARNING = (
    "<b>Showing an image to the witness can contaminate their memory.</b><br><br>"
    "Once a witness has seen a candidate, later descriptions and any identification may be shaped by "
    "that image rather than by what they saw. Show an image only when the investigation needs it and "
    "you are prepared to justify it; this will be recorded in the case file with the time and your note."
)


class NoteDialog(QDialog):
    """A question with a one-line note; ``note()`` after ``exec()``."""

    def __init__(self, title: str, text: str, ok_text: str, placeholder: str, parent: QWidget | None = None,
                 warning: bool = False):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        label = QLabel(text)
        label.setWordWrap(True)
        if warning:
            label.setObjectName("warningText")
        layout.addWidget(label)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        layout.addWidget(self.edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        if warning:
            self.ok.setAutoDefault(False)
            buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)

    def note(self) -> str:
        return self.edit.text().strip()


def mark_dialog(mark: str, parent: QWidget | None = None) -> NoteDialog:
    text = ("Remove the mark from this image?" if mark == "cleared"
            else f"{MARK_TITLES[mark]}. Add a note for the case file (optional):")
    return NoteDialog(MARK_TITLES[mark], text, MARK_TITLES[mark], "e.g. same bag and shoes as on cam03",
                      parent)


def witness_dialog(parent: QWidget | None = None) -> NoteDialog:
    return NoteDialog("Show to witness?", WITNESS_WARNING, "Show and record", "Why it is shown (recorded)",
                      parent, warning=True)


def error_box(parent: QWidget | None, message: str) -> None:
    QMessageBox.warning(parent, "interreid", message)
