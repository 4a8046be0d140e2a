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
    "you are prepared to justify it. The case file and the report will record who showed which image, "
    "when, and the reason you give here. The image opens alone, full screen (on the second screen if "
    "there is one), without scores or other candidates; Esc closes it."
)


class NoteDialog(QDialog):
    """A question with a one-line note; ``note()`` after ``exec()``."""

    def __init__(self, title: str, text: str, ok_text: str, placeholder: str, parent: QWidget | None = None,
                 warning: bool = False, required: bool = False):
        super().__init__(parent)
        self.setWindowTitle(title)
        # a note of a sentence (some 80 characters) is seen whole while it is typed
        self.setMinimumWidth(max(560, self.fontMetrics().averageCharWidth() * 90))
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
        self.required = required
        if required:  # no reason, no showing: the OK button waits for one
            self.ok.setEnabled(False)
            self.edit.textChanged.connect(lambda t: self.ok.setEnabled(bool(t.strip())))

    def accept(self) -> None:
        if self.required and not self.note():
            self.edit.setFocus()
            return
        super().accept()

    def note(self) -> str:
        return self.edit.text().strip()


def mark_dialog(mark: str, parent: QWidget | None = None) -> NoteDialog:
    text = ("Remove the mark from this image?" if mark == "cleared"
            else f"{MARK_TITLES[mark]}. Add a note for the case file (optional):")
    return NoteDialog(MARK_TITLES[mark], text, MARK_TITLES[mark], "e.g. same bag and shoes as on cam03",
                      parent)


def witness_dialog(parent: QWidget | None = None) -> NoteDialog:
    return NoteDialog("Show to witness?", WITNESS_WARNING, "Show and record",
                      "Why it is shown (required; recorded in the case file and the report)", parent,
                      warning=True, required=True)


class LineupDialog(QDialog):
    """Choose the images of a line-up, set their order (the witness sees them numbered 1, 2, …), and
    give the reason. ``choices``: (sha256, label for the investigator, QImage thumbnail)."""

    def __init__(self, choices: list, parent: QWidget | None = None):
        from PySide6.QtCore import QSize, Qt
        from PySide6.QtGui import QIcon, QPixmap
        from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QPushButton

        super().__init__(parent)
        self.setWindowTitle("Show a line-up to the witness")
        self.setMinimumSize(560, 560)
        layout = QVBoxLayout(self)
        text = QLabel(WITNESS_WARNING.replace("The image opens alone", "The line-up opens")
                      + "<br><br>Tick the images to show and put them in the order the witness will see "
                        "them (drag, or Move up / Move down).")
        text.setWordWrap(True)
        text.setObjectName("warningText")
        layout.addWidget(text)
        self.list = QListWidget()
        self.list.setIconSize(QSize(32, 64))
        self.list.setDragDropMode(QListWidget.DragDropMode.InternalMove)
        for sha, label, thumb in choices:
            item = QListWidgetItem(QIcon(QPixmap.fromImage(thumb)) if thumb is not None else QIcon(), label)
            item.setData(Qt.ItemDataRole.UserRole, sha)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.list.addItem(item)
        layout.addWidget(self.list, 1)
        moves = QHBoxLayout()
        for caption, step in (("Move up", -1), ("Move down", 1)):
            b = QPushButton(caption)
            b.clicked.connect(lambda _c=False, d=step: self.move(d))
            moves.addWidget(b)
        moves.addStretch(1)
        layout.addLayout(moves)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Why the line-up is shown (required; recorded in the case file and the report)")
        layout.addWidget(self.edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.addButton("Show and record", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setAutoDefault(False)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.list.itemChanged.connect(lambda _i: self._update())
        self.edit.textChanged.connect(lambda _t: self._update())
        self._update()

    def move(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(target, item)
        self.list.setCurrentRow(target)

    def chosen(self) -> list[str]:
        """The ticked images, in the order shown in the list."""
        from PySide6.QtCore import Qt

        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def note(self) -> str:
        return self.edit.text().strip()

    def _update(self) -> None:
        self.ok.setEnabled(len(self.chosen()) >= 2 and bool(self.note()))

    def accept(self) -> None:
        if len(self.chosen()) >= 2 and self.note():
            super().accept()


def error_box(parent: QWidget | None, message: str) -> None:
    QMessageBox.warning(parent, "interreid", message)
