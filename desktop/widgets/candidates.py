"""The c = 4 candidates of the round, large, each with rank, score, the retriever's reasons and actions."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QMenu, QPushButton, QSizePolicy,
                               QToolButton, QVBoxLayout, QWidget)

from ..models.ranking_model import MARK_COLOURS
from ..models.thumbnails import ThumbnailCache

MARK_LABELS = {"match": "Match", "possible": "Possible", "excluded": "Excluded"}


class CandidateCard(QFrame):
    open_row = Signal(int)
    mark_requested = Signal(int, str)
    witness_requested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("candidateCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.row: int | None = None
        self.sha = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(6)
        head = QHBoxLayout()
        self.rank = QLabel()
        self.rank.setObjectName("rankBadge")
        self.score = QLabel()
        self.score.setObjectName("muted")
        self.mark = QLabel()
        self.mark.setObjectName("markLabel")
        head.addWidget(self.rank)
        head.addWidget(self.score)
        head.addStretch(1)
        head.addWidget(self.mark)
        layout.addLayout(head)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(80, 160)
        self.image.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image.setCursor(Qt.CursorShape.PointingHandCursor)
        self.image.mouseDoubleClickEvent = lambda _e: self.row is not None and self.open_row.emit(self.row)
        layout.addWidget(self.image, 1)
        self.reasons = QLabel()
        self.reasons.setWordWrap(True)
        self.reasons.setObjectName("reasons")
        self.reasons.setMinimumHeight(34)
        self.reasons.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.reasons)
        actions = QHBoxLayout()
        self.details_button = QPushButton("Details")
        self.details_button.clicked.connect(lambda: self.row is not None and self.open_row.emit(self.row))
        self.mark_button = QToolButton()
        self.mark_button.setText("Mark")
        self.mark_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.mark_button.setMinimumHeight(28)
        self.mark_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.mark_button)
        for mark, label in (("match", "Match…"), ("possible", "Possible…"), ("excluded", "Excluded…"),
                            ("cleared", "Clear mark")):
            menu.addAction(label, lambda m=mark: self.row is not None and self.mark_requested.emit(self.row, m))
        self.mark_button.setMenu(menu)
        self.witness_button = QPushButton("Show to witness…")
        self.witness_button.setToolTip("Showing an image can contaminate the witness's memory; it is recorded.")
        self.witness_button.clicked.connect(lambda: self.row is not None and self.witness_requested.emit(self.row))
        actions.addWidget(self.details_button)
        actions.addWidget(self.mark_button)
        actions.addStretch(1)
        layout.addLayout(actions)
        layout.addWidget(self.witness_button)  # its own row: deliberate, and never clipped
        self._pixmap = QPixmap()
        self.clear()

    def clear(self) -> None:
        self.row = None
        self.rank.setText("—")
        self.score.setText("")
        self.reasons.setText("")
        self.mark.setText("")
        self.image.clear()
        self._pixmap = QPixmap()
        for w in (self.details_button, self.mark_button, self.witness_button):
            w.setEnabled(False)

    def show_candidate(self, candidate, thumbs: ThumbnailCache, mark: str = "") -> None:
        self.row = candidate.row
        self.sha = candidate.sha256
        self.rank.setText(f"#{candidate.rank}")
        match = getattr(candidate, "match", 0.0)
        self.score.setText(f"match {match:.0f}%" if match else f"score {candidate.score:.3f}")
        self.score.setToolTip("Match: how well the image fits what the witness said, relative to the best image of "
                              "this search (100%); not the chance that it shows the person")
        self.reasons.setText(candidate.reasons or "")
        self.reasons.setToolTip(candidate.reasons or "")
        self._pixmap = QPixmap.fromImage(thumbs.get(candidate.row))
        self._rescale()
        self.set_mark(mark)
        for w in (self.details_button, self.mark_button, self.witness_button):
            w.setEnabled(True)

    def set_mark(self, mark: str) -> None:
        self.mark.setText(MARK_LABELS.get(mark, ""))
        colour = MARK_COLOURS.get(mark)
        self.mark.setStyleSheet(f"color: white; background: {colour.name()}; border-radius: 3px; padding: 1px 6px;"
                                if colour else "")

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap.isNull():
            return
        size = self.image.size()
        self.image.setPixmap(self._pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))


class CandidateStrip(QWidget):
    """Four cards side by side."""

    open_row = Signal(int)
    mark_requested = Signal(int, str)
    witness_requested = Signal(int)

    def __init__(self, count: int = 4, parent=None):
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.cards = [CandidateCard() for _ in range(count)]
        for i, card in enumerate(self.cards):
            layout.addWidget(card, 0, i)
            layout.setColumnStretch(i, 1)
            card.open_row.connect(self.open_row)
            card.mark_requested.connect(self.mark_requested)
            card.witness_requested.connect(self.witness_requested)

    def show_candidates(self, candidates, thumbs: ThumbnailCache, marks: dict[str, dict]) -> None:
        for i, card in enumerate(self.cards):
            if i < len(candidates):
                c = candidates[i]
                card.show_candidate(c, thumbs, (marks.get(c.sha256) or {}).get("mark", ""))
            else:
                card.clear()

    def set_marks(self, marks: dict[str, dict]) -> None:
        for card in self.cards:
            if card.row is not None:
                card.set_mark((marks.get(card.sha) or {}).get("mark", ""))
