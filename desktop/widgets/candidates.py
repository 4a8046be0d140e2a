"""The c = 4 candidates of the round, large, each with rank, score, the retriever's reasons and actions."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QMenu, QPushButton, QSizePolicy,
                               QTextBrowser, QToolButton, QVBoxLayout, QWidget)

from ..models.ranking_model import MARK_COLOURS
from ..models.thumbnails import ThumbnailCache
from ..plain import plain_reasons

MARK_LABELS = {"match": "Match", "possible": "Possible", "excluded": "Excluded"}
SCORE_HELP = ("How closely the image fits everything the witness has said so far, as the search engine "
              "measures it: higher is closer. Only the order matters: the number is not a probability, and it "
              "can be negative. Help → What the numbers mean explains more.")


FIRST_NOTE = "The candidates appear here after the witness's description is searched."


class ReasonsBox(QTextBrowser):
    """The match reasons in a box of fixed height that scrolls when they are long: they are never cut
    short and never drawn over the picture, however small the card gets."""

    LINES = 4

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("reasons")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextBrowser#reasons { background: transparent; }")
        self.document().setDocumentMargin(1)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * self.LINES + 6)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel-like)
        self.setPlainText(text)


class CandidateCard(QFrame):
    open_row = Signal(int)
    mark_requested = Signal(int, str)
    witness_requested = Signal(int)
    similar_requested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("candidateCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # keyboard: Tab or Alt+1..4 reaches a card; Enter details, M/P/X mark, W show to witness, S similar
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.row: int | None = None
        self.sha = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(5)
        head = QHBoxLayout()
        self.rank = QLabel()
        self.rank.setObjectName("rankBadge")
        self.score = QLabel()
        self.score.setObjectName("muted")
        self.mark = QLabel()
        self.mark.setObjectName("markLabel")
        self.shown = QLabel()
        self.shown.setObjectName("shownBadge")
        self.shown.setToolTip("This image has been shown to the witness (recorded in the case file)")
        head.addWidget(self.rank)
        head.addWidget(self.score)
        head.addStretch(1)
        layout.addLayout(head)
        for badge in (self.mark, self.shown):  # one row each (hidden when empty): never clipped, even narrow
            row = QHBoxLayout()
            row.addWidget(badge)
            row.addStretch(1)
            layout.addLayout(row)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(60, 90)
        self.image.setWordWrap(True)  # the note of an empty card
        self.image.setObjectName("muted")
        # Ignored: the picture never asks for more room than the card has (it used to push the
        # match reasons under itself when a banner took height from the page)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.image.setCursor(Qt.CursorShape.PointingHandCursor)
        self.image.mouseDoubleClickEvent = lambda _e: self.row is not None and self.open_row.emit(self.row)
        layout.addWidget(self.image, 1)
        self.reasons = ReasonsBox()
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
        menu.addSeparator()
        menu.addAction("Find similar-looking images",
                       lambda: self.row is not None and self.similar_requested.emit(self.row))
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
        self.clear(FIRST_NOTE)

    def clear(self, note: str = "") -> None:
        """No candidate on this card; ``note`` says why in the picture's place (an empty frame says nothing)."""
        self.row = None
        self.rank.setText("—")
        self.score.setText("")
        self.reasons.setText("")
        self.sha = ""
        self.set_mark("")
        self.set_shown(False)
        self.image.clear()
        self.image.setText(note)
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
                              "this search (100%). It only compares images within this search: it is not a "
                              "probability that the image shows the person." if match else SCORE_HELP)
        self.reasons.setText(plain_reasons(candidate.reasons or ""))
        self.reasons.setToolTip(f"As the search engine measured it: {candidate.reasons}" if candidate.reasons
                                else "")
        self._pixmap = QPixmap.fromImage(thumbs.get(candidate.row))
        self._rescale()
        self.set_mark(mark)
        for w in (self.details_button, self.mark_button, self.witness_button):
            w.setEnabled(True)
        self._describe()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt)
        if self.row is None:
            super().keyPressEvent(event)
            return
        key = event.key()
        marks = {Qt.Key.Key_M: "match", Qt.Key.Key_P: "possible", Qt.Key.Key_X: "excluded"}
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            super().keyPressEvent(event)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.open_row.emit(self.row)
        elif key in marks:
            self.mark_requested.emit(self.row, marks[key])
        elif key == Qt.Key.Key_W:
            self.witness_requested.emit(self.row)
        elif key == Qt.Key.Key_S:
            self.similar_requested.emit(self.row)
        else:
            super().keyPressEvent(event)

    def _describe(self) -> None:
        """What a screen reader says for the card (and the tooltip of its picture)."""
        if self.row is None:
            self.setAccessibleName("Empty candidate")
            return
        parts = [f"Candidate ranked {self.rank.text().lstrip('#')}"]
        if self.mark.text():
            parts.append(f"marked {self.mark.text().lower()}")
        if self.shown.text():
            parts.append("shown to the witness")
        self.setAccessibleName(", ".join(parts))
        self.setAccessibleDescription(self.reasons.text())
        self.image.setToolTip(", ".join(parts) + ". Enter or double-click: details; M, P, X: mark; W: show to "
                              "the witness; S: find similar.")

    def set_shown(self, shown: bool) -> None:
        self.shown.setText("Shown to witness" if shown else "")
        self.shown.setVisible(shown)
        self._describe()
        self.shown.setStyleSheet("color: white; background: #8a5200; border-radius: 3px; padding: 1px 6px;"
                                 if shown else "")

    def set_mark(self, mark: str) -> None:
        self.mark.setText(MARK_LABELS.get(mark, ""))
        self.mark.setVisible(bool(mark))
        colour = MARK_COLOURS.get(mark)
        self.mark.setStyleSheet(f"color: white; background: {colour.name()}; border-radius: 3px; padding: 1px 6px;"
                                if colour else "")
        self._describe()

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
    similar_requested = Signal(int)

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
            card.similar_requested.connect(self.similar_requested)

    def show_candidates(self, candidates, thumbs: ThumbnailCache, marks: dict[str, dict],
                        shown: set[str] = frozenset()) -> None:
        for i, card in enumerate(self.cards):
            if i < len(candidates):
                c = candidates[i]
                card.show_candidate(c, thumbs, (marks.get(c.sha256) or {}).get("mark", ""))
                card.set_shown(c.sha256 in shown)
            else:
                card.clear(FIRST_NOTE if not candidates else "No further candidate.")

    def current_row(self) -> int | None:
        """The gallery row of the card that has (or last had) the keyboard focus."""
        for card in self.cards:
            if card.hasFocus() and card.row is not None:
                return card.row
        return None

    def focus_card(self, i: int) -> None:
        if 0 <= i < len(self.cards) and self.cards[i].row is not None:
            self.cards[i].setFocus(Qt.FocusReason.ShortcutFocusReason)

    def set_shown(self, shas: set[str]) -> None:
        for card in self.cards:
            card.set_shown(card.row is not None and card.sha in shas)

    def set_marks(self, marks: dict[str, dict]) -> None:
        for card in self.cards:
            if card.row is not None:
                card.set_mark((marks.get(card.sha) or {}).get("mark", ""))
