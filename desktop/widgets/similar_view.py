"""A side search: the gallery ranked by how much its images look like one image.

It changes nothing in the interview (the session records it in the case's audit log). The grid
is the same ranked grid as the interview's, so marks, details and "show to witness" work here too.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from ..models.ranking_model import RankingModel
from .ranked_grid import RankedGrid


class SimilarView(QDialog):
    open_row = Signal(int)
    mark_requested = Signal(int, str)
    witness_requested = Signal(int)
    similar_requested = Signal(int)

    def __init__(self, result, opened, thumbs, marks: dict[str, str], shown: set[str], parent=None):
        super().__init__(parent)
        self.result = result
        self.setWindowTitle("Similar-looking images")
        self.resize(900, 640)
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        picture = QLabel()
        picture.setPixmap(QPixmap.fromImage(thumbs.get(result.query_row)).scaledToHeight(
            96, Qt.TransformationMode.SmoothTransformation))
        head.addWidget(picture)
        where = " ".join(x for x in (opened.cameras[result.query_row] or "",
                                     (opened.timestamps[result.query_row] or "").replace("T", " ")) if x)
        self.heading = QLabel(
            f"<b>Images that look most like this one</b>{' (' + where + ')' if where else ''}<br>"
            f"Compared by {result.measure}; the percentage says how alike each image is to this one (100% "
            "would be the same), not the chance that it shows the same person. A side search: the "
            "interview's ranking is unchanged, and this search is recorded in the case file. Similar-looking "
            "is not the same person: check every image.")
        self.heading.setWordWrap(True)
        head.addWidget(self.heading, 1)
        layout.addLayout(head)
        self.model = RankingModel(thumbs, opened.shas, opened.cameras, opened.timestamps, parent=self)
        self.model.set_ranking(result.rows, result.scores)
        # the cosine as a percentage of likeness (a negative cosine reads 0%); the cosine stays in the tooltip
        self.model.matches = 100.0 * np.clip(np.asarray(result.scores, dtype=np.float64), 0.0, 1.0)
        self.model.set_marks(marks)
        self.model.set_shown(shown)
        self.grid = RankedGrid(self.model)
        self.grid.title.setText("Most similar first")
        self.grid.open_row.connect(self.open_row)
        self.grid.mark_requested.connect(self.mark_requested)
        self.grid.witness_requested.connect(self.witness_requested)
        self.grid.similar_requested.connect(self.similar_requested)
        layout.addWidget(self.grid, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        layout.addLayout(row)

    def set_marks(self, marks: dict[str, dict]) -> None:
        self.model.set_marks({s: m["mark"] for s, m in marks.items()})
        self.grid.refresh_filter()

    def set_witness_views(self, views: list[dict]) -> None:
        self.model.set_shown({v["sha256"] for v in views})
