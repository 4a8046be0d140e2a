"""Everything known about one gallery image: the original, its provenance, its ranks and marks."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QDialog, QFormLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ..session import ImageDetails


class DetailView(QDialog):
    mark_requested = Signal(int, str)
    witness_requested = Signal(int)

    def __init__(self, details: ImageDetails, parent: QWidget | None = None):
        super().__init__(parent)
        self.details = details
        self.setWindowTitle(f"Image {details.image.sha256[:12]}…")
        self.resize(820, 620)
        layout = QHBoxLayout(self)
        layout.setSpacing(16)
        scroll = QScrollArea()
        scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pixmap = QPixmap()
        for src in details.image.sources:
            if pixmap.load(src):
                break
        if pixmap.isNull():
            self.image.setText("The original file cannot be read\n(moved or deleted).")
        else:
            if pixmap.height() < 400:  # small crops: enlarge for viewing, never smooth away detail
                pixmap = pixmap.scaledToHeight(min(512, pixmap.height() * 3), Qt.TransformationMode.FastTransformation)
            self.image.setPixmap(pixmap)
        scroll.setWidget(self.image)
        scroll.setMinimumWidth(260)
        layout.addWidget(scroll, 1)

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
        form.addRow("Time", QLabel(details.image.timestamp or "unknown"))
        mark = details.mark
        self.mark_label = QLabel(f"{mark['mark']}" + (f" — {html.escape(mark['note'])}" if mark and mark['note']
                                                     else "") if mark else "none")
        self.mark_label.setWordWrap(True)
        form.addRow("Mark", self.mark_label)
        if details.shown_to_witness:
            shown = QLabel("<b>Shown to the witness</b> " + ", ".join(v["at"][:19] for v in details.shown_to_witness))
            shown.setObjectName("warningText")
            shown.setWordWrap(True)
            form.addRow("Witness", shown)
        side.addLayout(form)
        self.source_frame = None
        if getattr(details, "video", None):  # a crop cut from video: show it in its scene
            from .source_frame import SourceFrameView

            self.source_frame = SourceFrameView(details.video)
            side.addWidget(self.source_frame)
            self.resize(1100, 760)
        side.addWidget(QLabel("Rank after each round"))
        self.history = QTableWidget(len(details.history), 3)
        self.history.setHorizontalHeaderLabels(["after round", "rank", "score"])
        self.history.verticalHeader().setVisible(False)
        self.history.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for i, (rnd, rank, score) in enumerate(details.history):
            for j, value in enumerate((str(rnd), str(rank), f"{score:.3f}")):
                item = QTableWidgetItem(value)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.history.setItem(i, j, item)
        self.history.horizontalHeader().setStretchLastSection(True)
        side.addWidget(self.history, 1)
        buttons = QHBoxLayout()
        for m, label in (("match", "Match…"), ("possible", "Possible…"), ("excluded", "Exclude…")):
            b = QPushButton(label)
            b.clicked.connect(lambda _c=False, m=m: self.mark_requested.emit(details.image.row, m))
            buttons.addWidget(b)
        buttons.addStretch(1)
        witness = QPushButton("Show to witness…")
        witness.clicked.connect(lambda: self.witness_requested.emit(details.image.row))
        buttons.addWidget(witness)
        side.addLayout(buttons)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)
        side.addLayout(row)
        holder = QWidget()
        holder.setLayout(side)
        layout.addWidget(holder, 1)
