"""What the software understood from the witness's words, as chips the investigator can correct.

One row per statement (the description, each answer, each correction): a chip per constraint the
engine took ("top: black (sure)"), with a menu to remove it or to say what is right instead, and the
words it could not use. A warning shows when nothing said so far constrains the search. The
corrections go to the session, which records them in the case (audited) and re-ranks.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QMenu,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .flow_layout import FlowLayout

CHIP_WIDTH = 290  # px: a label wider than this goes on two lines, what it says and how it was taken


def chip_text(label: str, width_of, width: int = CHIP_WIDTH) -> str:
    """A chip's text: ``label`` on one line, or, when wider than ``width``, what was said on the first line
    and how it was taken on the next ones, broken after its semicolons ("trousers/legs: brown" / "(said
    ‘beige’; not what was asked;" / "answer weighed 61%)"), so a narrow panel never cuts any of it off."""
    if width_of(label) <= width or " (" not in label:
        return label
    head, _, tail = label.partition(" (")
    lines, line = [head], ""
    for part in ("(" + tail).split("; "):
        joined = f"{line}; {part}" if line else part
        if line and width_of(joined + ";") > width:
            lines.append(line + ";")
            joined = part
        line = joined
    return "\n".join(lines + [line])


MATCH_LEGEND = ("Match %: how well an image fits what the witness said, relative to the best-fitting image "
                "(100%). It compares images of this search; it is not the chance that an image shows the person.")


class UnderstoodPanel(QWidget):
    """Chips of the constraints taken from each statement; emits ``correct_requested(key, replacement)``
    (an empty replacement removes the constraint)."""

    correct_requested = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        title = QLabel("What the software understood")
        title.setObjectName("sectionTitle")
        from interreid.engine.lite.parser import ANSWER_NOTE_LEGEND, STRENGTH_LEGEND

        title.setToolTip("Click a chip to remove it or correct it. " + STRENGTH_LEGEND + " " + MATCH_LEGEND + " "
                         + ANSWER_NOTE_LEGEND)
        outer.addWidget(title)
        self.warning = QLabel()
        self.warning.setObjectName("warningText")
        self.warning.setWordWrap(True)
        self.warning.hide()
        outer.addWidget(self.warning)
        self.body = QWidget()
        self.rows = QVBoxLayout(self.body)
        self.rows.setContentsMargins(0, 0, 0, 0)
        self.rows.setSpacing(2)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # chips wrap instead
        scroll.setWidget(self.body)
        scroll.setMinimumHeight(120)
        scroll.setMaximumHeight(220)
        outer.addWidget(scroll)
        # after an answer the panel shows its end: what was taken from the latest statement is what the
        # investigator checks (the description is still above, a scroll away, and in the description box)
        self._show_end = False
        scroll.verticalScrollBar().rangeChanged.connect(self._range_changed)
        self.chips: list[QToolButton] = []
        self.enabled = True

    def show_state(self, state) -> None:
        """Rebuild the chips from ``state.understood`` (hidden when the engine cannot say)."""
        while self.rows.count():
            item = self.rows.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.chips = []
        understood = getattr(state, "understood", None) or []
        self.setVisible(bool(understood))
        self.warning.setVisible(bool(state is not None and getattr(state, "constrains_nothing", False)))
        self.warning.setText("Nothing said so far names a colour or garment the software can search on: every "
                             "image matches equally and the order means nothing. Ask about the clothes' colours.")
        for u in understood:
            row = QWidget()
            lines = QVBoxLayout(row)
            lines.setContentsMargins(0, 0, 0, 4)
            lines.setSpacing(3)
            who = {0: "Description", "correction": "Your correction"}.get(u["round"], f"Answer {u['round']}")
            lines.addWidget(QLabel(f"<b>{who}</b>"))
            cells: list[QWidget] = [self._chip(key, label) for key, label in zip(u.get("keys", []), u["constraints"])]
            for label in u.get("removed", []):
                gone = QLabel(f"<s>{label}</s>")
                gone.setToolTip("removed by the investigator")
                cells.append(gone)
            if not cells:
                cells.append(QLabel("<i>nothing it can search on</i>"))
            chips = QWidget()
            flow = FlowLayout(chips)  # as many chips on a line as fit, the rest on the next: none cut off
            for cell in cells:
                flow.addWidget(cell)
            lines.addWidget(chips)
            if u["unused"]:
                unused = QLabel(f"<span style='color:#667'>not used: {', '.join(u['unused'])}</span>")
                unused.setToolTip("Words the software could not use for the search")
                unused.setWordWrap(True)
                lines.addWidget(unused)
            self.rows.addWidget(row)
        self.rows.addStretch(1)
        self._show_end = len(understood) > 1
        self._range_changed(0, self.scroll.verticalScrollBar().maximum())
        self.set_enabled(self.enabled)

    def _range_changed(self, _low: int, high: int) -> None:
        """Once the rebuilt rows are laid out, scroll to the latest statement."""
        if self._show_end:
            self.scroll.verticalScrollBar().setValue(high)

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        for chip in self.chips:
            chip.setEnabled(enabled)

    def _chip(self, key: str, label: str) -> QToolButton:
        chip = QToolButton()
        chip.setText(chip_text(label, chip.fontMetrics().horizontalAdvance, CHIP_WIDTH))
        chip.setAccessibleName(label)  # the label on one line, whatever the chip's line break
        chip.setObjectName("constraintChip")
        chip.setToolTip("Remove this, or say what is right instead")
        chip.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(chip)
        menu.addAction("Remove", lambda k=key: self.correct_requested.emit(k, ""))
        menu.addAction("Correct…", lambda k=key, lab=label: self._ask_correction(k, lab))
        chip.setMenu(menu)
        self.chips.append(chip)
        return chip

    def _ask_correction(self, key: str, label: str) -> None:
        text, ok = QInputDialog.getText(self, "Correct what was understood",
                                        f"The software understood “{label}”. What is right instead "
                                        "(e.g. “dark blue”)?")
        if ok and text.strip():
            self.correct_requested.emit(key, text.strip())
