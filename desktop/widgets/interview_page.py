"""The main screen: dialogue on the left; the 4 candidates, the ranked grid and the rank chart on the right."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from ..models.ranking_model import RankingModel
from ..models.thumbnails import ThumbnailCache, gallery_thumb_path
from .candidates import CandidateStrip
from .question_panel import QuestionPanel
from .rank_chart import RankChart
from .ranked_grid import RankedGrid
from .understood_panel import UnderstoodPanel


class InterviewPage(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(8)
        head = QHBoxLayout()
        self.case_title = QLabel()
        self.case_title.setObjectName("caseTitle")
        self.case_sub = QLabel()
        self.case_sub.setObjectName("muted")
        self.witness_note = QLabel()
        self.witness_note.setObjectName("warningText")
        head.addWidget(self.case_title)
        head.addWidget(self.case_sub)
        head.addStretch(1)
        head.addWidget(self.witness_note)
        layout.addLayout(head)

        self.questions = QuestionPanel()
        self.candidates = CandidateStrip()
        self.grid = RankedGrid()
        self.chart = RankChart()
        chart_box = QWidget()
        chart_layout = QVBoxLayout(chart_box)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_title = QLabel("Rank over rounds")
        chart_title.setObjectName("sectionTitle")
        chart_layout.addWidget(chart_title)
        chart_title.setToolTip("The rank of every image marked match or possible, after each round")
        chart_layout.addWidget(self.chart, 1)

        cand_box = QWidget()
        cand_layout = QVBoxLayout(cand_box)
        cand_layout.setContentsMargins(0, 0, 0, 0)
        self.cand_title = QLabel("Candidates to consider")
        self.cand_title.setObjectName("sectionTitle")
        cand_layout.addWidget(self.cand_title)
        cand_layout.addWidget(self.candidates, 1)

        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.grid)
        bottom.addWidget(chart_box)
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 1)
        bottom.setSizes([700, 300])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(cand_box)
        right.addWidget(bottom)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setSizes([380, 320])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.understood = UnderstoodPanel()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.questions, 1)
        left_layout.addWidget(self.understood)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([400, 1000])
        for s in (self.splitter, right, bottom):
            s.setChildrenCollapsible(False)
        layout.addWidget(self.splitter, 1)
        self.model: RankingModel | None = None
        self.thumbs: ThumbnailCache | None = None
        self.opened = None
        self.marks: dict[str, dict] = {}

    def show_case(self, opened) -> None:
        self.opened = opened
        self.case_title.setText(opened.title)
        self.case_sub.setText(f"   {opened.investigator} · {opened.path.name}")
        folder, shas = opened.gallery_folder, opened.shas
        self.thumbs = ThumbnailCache(lambda row: gallery_thumb_path(folder, shas[row]))
        self.model = RankingModel(self.thumbs, shas, opened.cameras, opened.timestamps, parent=self)
        self.grid.set_model(self.model)
        self.set_witness_views(opened.witness_views)
        self.show_state(opened.state)

    def show_state(self, state) -> None:
        initial = self.opened.initial_description if self.opened else ""
        self.questions.show_state(state, initial)
        self.understood.show_state(state)
        if state is None:
            self.candidates.show_candidates([], self.thumbs, self.marks)
            if self.model is not None:
                self.model.set_ranking([], [])
            self.cand_title.setText("Candidates to consider")
            return
        self.cand_title.setText(f"Candidates to consider — round {state.round_index}, "
                                f"chosen from the top {state.k}")
        self.candidates.show_candidates(state.candidates, self.thumbs, self.marks)
        self.model.set_ranking(state.rows, state.scores)
        self.model.matches = getattr(state, "matches", None)
        self.grid.refresh_filter()

    def set_marks(self, marks: dict[str, dict]) -> None:
        self.marks = marks
        self.candidates.set_marks(marks)
        if self.model is not None:
            self.model.set_marks({s: m["mark"] for s, m in marks.items()})
            self.grid.refresh_filter()

    def set_histories(self, histories: dict) -> None:
        if self.opened is None:
            return
        series = []
        for row, points in sorted(histories.items()):
            sha = self.opened.shas[row]
            mark = (self.marks.get(sha) or {}).get("mark", "")
            cam = self.opened.cameras[row] or ""
            series.append((f"{mark} {sha[:6]} {cam}".strip(), [(r, k) for r, k, _s in points]))
        self.chart.set_series(series)

    def set_witness_views(self, views: list[dict]) -> None:
        n = len({v["sha256"] for v in views})
        self.witness_note.setText(f"⚠ {n} image(s) shown to the witness" if n else "")
