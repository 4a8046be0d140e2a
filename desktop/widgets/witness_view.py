"""What the witness sees: one image alone, or a line-up of several in the investigator's order.

A clean full-screen window on a second screen where one exists (otherwise on the investigator's
screen): black background, the picture(s) large, a plain number under each picture of a line-up.
No scores, ranks, marks, file names or other candidates: nothing that could steer the witness.
Esc (or a click on "Close" in the corner, kept dim) ends the showing.
"""

from __future__ import annotations


from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)


def load_original(sources: list[str]) -> QPixmap:
    """The first readable original of an image (its recorded sources, in order; a sealed video crop of
    an encrypted gallery is unsealed)."""
    from ..models.thumbnails import load_original as load

    return load(sources)


def witness_screen():
    """The screen the witness faces: the second one where there is one, else the window's own."""
    screens = QGuiApplication.screens()
    primary = QGuiApplication.primaryScreen()
    others = [s for s in screens if s is not primary]
    return others[0] if others else primary


class _Picture(QLabel):
    """An image scaled to its box (smooth, aspect kept), re-scaled when the window changes size."""

    def __init__(self, pixmap: QPixmap, parent=None):
        super().__init__(parent)
        self.original = pixmap
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("background: black; color: #bbb;")
        if pixmap.isNull():
            self.setText("This image cannot be shown (its original file is missing).")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if not self.original.isNull():
            self.setPixmap(self.original.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.SmoothTransformation))


class WitnessView(QWidget):
    """``pixmaps`` in the order to show; one is shown alone, several as a numbered line-up."""

    closed = Signal()

    def __init__(self, pixmaps: list[QPixmap], parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Witness view")
        self.setObjectName("witnessView")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("QWidget#witnessView { background: black; }")
        self.pictures: list[_Picture] = []
        self.numbers: list[QLabel] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 12, 24, 24)
        top = QHBoxLayout()
        top.addStretch(1)
        self.close_button = QPushButton("Close (Esc)")
        self.close_button.setFlat(True)
        self.close_button.setStyleSheet("color: #555; border: none; background: black;")
        self.close_button.clicked.connect(self.close)
        top.addWidget(self.close_button)
        outer.addLayout(top)
        row = QHBoxLayout()
        row.setSpacing(32)
        for i, pixmap in enumerate(pixmaps, start=1):
            col = QVBoxLayout()
            picture = _Picture(pixmap)
            col.addWidget(picture, 1)
            self.pictures.append(picture)
            if len(pixmaps) > 1:
                number = QLabel(str(i))
                number.setAlignment(Qt.AlignmentFlag.AlignCenter)
                number.setStyleSheet("color: white; font-size: 28pt; font-weight: 600; background: black;")
                col.addWidget(number)
                self.numbers.append(number)
            row.addLayout(col, 1)
        outer.addLayout(row, 1)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)

    def present(self) -> None:
        """Full screen on the witness's screen."""
        screen = witness_screen()
        if screen is not None:
            self.setScreen(screen)
            self.setGeometry(screen.geometry())
        self.showFullScreen()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event) -> None:
        self.closed.emit()
        super().closeEvent(event)
