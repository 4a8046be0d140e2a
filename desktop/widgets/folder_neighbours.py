"""The images beside this one in its source folder (before and after, by file name): a strip of
thumbnails in the details view; a click opens that image's details."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget


class FolderNeighbours(QWidget):
    open_row = Signal(int)

    def __init__(self, before: list[int], after: list[int], thumbs, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Beside it in its folder (before ← this image → after)")
        title.setToolTip("The gallery images whose files are next to this one's in the same folder, by file name: "
                         "often the moments just before and after")
        layout.addWidget(title)
        row = QHBoxLayout()
        self.buttons: list[QToolButton] = []
        for r in reversed(before):
            row.addWidget(self._button(r, thumbs))
        here = QLabel("●")
        here.setToolTip("this image")
        here.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row.addWidget(here)
        for r in after:
            row.addWidget(self._button(r, thumbs))
        row.addStretch(1)
        if not before and not after:
            row.insertWidget(0, QLabel("No other gallery image in this folder."))
            here.hide()
        layout.addLayout(row)

    def _button(self, row: int, thumbs) -> QToolButton:
        b = QToolButton()
        b.setIconSize(QSize(28, 56))
        if thumbs is not None:
            b.setIcon(QIcon(QPixmap.fromImage(thumbs.get(row))))
        b.setToolTip("Open this image's details")
        b.setAutoRaise(True)
        b.clicked.connect(lambda _c=False, r=row: self.open_row.emit(r))
        self.buttons.append(b)
        return b
