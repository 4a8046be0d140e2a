"""A dismissable message strip at the top of a page: errors, warnings and notices in one sentence.

A long message (a verification that lists many files) scrolls inside the strip, which is never taller than
``MAX_LINES`` lines: the window keeps its size on a laptop's screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QToolButton, QWidget

LEVELS = ("info", "warning", "error")
MAX_LINES = 7  # the strip's most lines of text; more scroll


class Banner(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("bannerScroll")
        self.scroll.setWidget(self.label)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setStyleSheet("QScrollArea#bannerScroll, QScrollArea#bannerScroll > QWidget > QWidget "
                                  "{ background: transparent; }")  # the strip's colour shows through
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.level = "info"
        self.hide()

    def show_message(self, text: str, level: str = "info") -> None:
        self.level = level if level in LEVELS else "info"
        self.setProperty("level", self.level)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        self.label.setToolTip("")  # a message's details are its own (set after it is shown)
        self.scroll.verticalScrollBar().setValue(0)
        self.show()
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802  (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        """As tall as the text at the strip's width, up to MAX_LINES lines; beyond that the text scrolls."""
        width = self.scroll.viewport().width()
        if width <= 0:
            return
        needed = self.label.heightForWidth(width)
        most = self.label.fontMetrics().lineSpacing() * MAX_LINES
        if needed > most:  # the scroll bar takes some of the width: measured again without it
            needed = self.label.heightForWidth(max(1, width - self.scroll.verticalScrollBar().sizeHint().width()))
        height = max(self.label.fontMetrics().lineSpacing(), min(needed, most))
        if self.scroll.height() != height:
            self.scroll.setFixedHeight(height)

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
