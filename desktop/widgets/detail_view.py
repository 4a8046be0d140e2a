"""Everything known about one gallery image: the original, its provenance, its ranks and marks."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..session import ImageDetails
from .folder_neighbours import FolderNeighbours
from .understood_panel import MATCH_LEGEND
from .zoom_view import ZoomImage


class _FactsScroll(QScrollArea):
    """The details' column of facts, laid out at the height the column needs at its width when the window is
    shorter (then it scrolls), else at the window's height, as it was without scrolling. (A resizable scroll area
    lays it out at its preferred height, and the frame picture, drawn at the size it is given, prefers more each
    time it is drawn.)"""

    def __init__(self):
        super().__init__()
        self.viewport().installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802  (Qt's name)
        if watched is self.viewport() and event.type() == QEvent.Type.Resize:
            self.fit()
        return super().eventFilter(watched, event)

    def fit(self) -> None:
        facts = self.widget()
        if facts is None:
            return
        width = self.viewport().width()
        layout = facts.layout()
        least = (layout.minimumHeightForWidth(width) if layout is not None and layout.hasHeightForWidth()
                 else facts.minimumSizeHint().height())
        facts.resize(width, max(self.viewport().height(), least))


class DetailView(QDialog):
    mark_requested = Signal(int, str)
    witness_requested = Signal(int)
    similar_requested = Signal(int)

    open_row = Signal(int)

    def __init__(self, details: ImageDetails, parent: QWidget | None = None, thumbs=None):
        super().__init__(parent)
        self.details = details
        where = " ".join(x for x in (details.image.camera or "", (details.image.timestamp or "").replace("T", " "))
                         if x)
        self.setWindowTitle(f"Image details — {where}" if where else f"Image details — {details.image.sha256[:12]}…")
        self.resize(900, 640)
        layout = QHBoxLayout(self)
        layout.setSpacing(16)
        from ..models.thumbnails import load_original

        pixmap = load_original(details.image.sources)  # a sealed video crop is unsealed
        self.zoom = ZoomImage(pixmap)  # its own part: zoom, scaling mode and true pixel size
        self.image = self.zoom.image
        self.zoom.setMinimumWidth(360)
        layout.addWidget(self.zoom, 1)

        side = QVBoxLayout()
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        sha = QLabel(f"<code>{details.image.sha256}</code>")
        sha.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        sha.setWordWrap(True)
        form.addRow("SHA-256", sha)
        sources = QLabel("<br>".join(html.escape(s) for s in details.image.sources))
        sources.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        sources.setWordWrap(True)
        form.addRow("Source" if len(details.image.sources) == 1 else "Sources", sources)
        form.addRow("Size", QLabel(f"{details.image.width} × {details.image.height} px, {details.image.size_bytes:,} bytes"))
        form.addRow("Camera", QLabel(details.image.camera or "unknown"))
        form.addRow("Time", QLabel((details.image.timestamp or "unknown").replace("T", " ")))
        mark = details.mark
        self.mark_label = QLabel(f"{mark['mark'].capitalize()}" + (f" — {html.escape(mark['note'])}"
                                                                   if mark and mark['note'] else "")
                                 if mark else "not marked")
        self.mark_label.setWordWrap(True)
        form.addRow("Mark", self.mark_label)
        if details.shown_to_witness:
            shown = QLabel("<b>Shown to the witness</b><br>" + "<br>".join(
                f"{html.escape(v['at'][:19].replace('T', ' '))} UTC — {html.escape(v['note'])}"
                for v in details.shown_to_witness))
            shown.setObjectName("warningText")
            shown.setWordWrap(True)
            form.addRow("Witness", shown)
        side.addLayout(form)
        self.neighbours = FolderNeighbours(*details.neighbours, thumbs)  # source context for plain images
        self.neighbours.open_row.connect(self.open_row)
        side.addWidget(self.neighbours)
        self.neighbours.setVisible(not getattr(details, "video", None))  # a video crop shows its scene below
        self.source_frame = None
        if getattr(details, "video", None):  # a crop cut from video: show it in its scene
            from .source_frame import SourceFrameView

            self.source_frame = SourceFrameView(details.video)
            side.addWidget(self.source_frame)
            self.resize(1100, min(760, int(self.screen().availableGeometry().height() * 0.9)))
        side.addWidget(QLabel("Rank after the description and after each answer"))
        self.history = QTableWidget(len(details.history), 3)
        self.history.setHorizontalHeaderLabels(["After answer", "Rank", "Match"])
        self.history.horizontalHeaderItem(2).setToolTip(MATCH_LEGEND)
        self.history.verticalHeader().setVisible(False)
        self.history.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        matches = details.matches or [None] * len(details.history)
        for i, ((rnd, rank, score), match) in enumerate(zip(details.history, matches)):
            shown = f"{match:.0f}%" if match is not None else "—"
            for j, value in enumerate((str(rnd) if rnd else "description", f"#{rank:,}", shown)):
                item = QTableWidgetItem(value)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if j == 2:  # the engine's own number, for a reader who asks how the percentage was made
                    item.setToolTip(f"{MATCH_LEGEND}\nEngine score: {score:.3f}")
                self.history.setItem(i, j, item)
        self.history.horizontalHeader().setStretchLastSection(True)
        rows_seen = min(max(len(details.history), 1), 4)  # a video crop's scene must not squeeze it to one row
        self.history.setMinimumHeight(self.history.horizontalHeader().sizeHint().height()
                                      + rows_seen * self.history.verticalHeader().defaultSectionSize() + 4)
        side.addWidget(self.history, 1)
        buttons = QHBoxLayout()
        for m, label in (("match", "Match…"), ("possible", "Possible…"), ("excluded", "Exclude…")):
            b = QPushButton(label)
            b.clicked.connect(lambda _c=False, m=m: self.mark_requested.emit(details.image.row, m))
            buttons.addWidget(b)
        buttons.addStretch(1)
        similar = QPushButton("Find similar")
        similar.setToolTip("Rank the gallery by how much each image looks like this one (a side search)")
        similar.clicked.connect(lambda: self.similar_requested.emit(details.image.row))
        buttons.addWidget(similar)
        witness = QPushButton("Show to witness…")
        witness.clicked.connect(lambda: self.witness_requested.emit(details.image.row))
        buttons.addWidget(witness)
        # the facts scroll when the screen is too short for them (a video crop shown to the witness, on a
        # 768-pixel laptop screen, needed 789 pixels); the buttons and Close stay in sight below them
        facts = QWidget()
        facts.setLayout(side)
        scroll = _FactsScroll()
        scroll.setWidget(facts)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # as wide as the facts need (a SHA-256 does not wrap), with room for the scroll bar: nothing cut off
        scroll.setMinimumWidth(facts.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(scroll, 1)
        column.addLayout(buttons)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)

        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)
        column.addLayout(row)
        holder = QWidget()
        holder.setLayout(column)
        layout.addWidget(holder, 1)
        for b in self.findChildren(QPushButton):  # Enter must never mark or show an image by accident
            b.setAutoDefault(False)
        close.setDefault(True)
