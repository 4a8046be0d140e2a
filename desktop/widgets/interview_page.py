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
        self.shown: set[str] = set()  # images shown to the witness
        self._last_place = None  # the candidate card or the grid the keyboard was last on
        from PySide6.QtWidgets import QApplication

        QApplication.instance().focusChanged.connect(self._focus_changed)

    def _focus_changed(self, _old, new) -> None:
        """Remember the last image place the keyboard was on (a dialog taking the focus does not count)."""
        if new in self.candidates.cards:
            self._last_place = new
        elif new is self.grid.view:
            self._last_place = self.grid

    def current_row(self) -> int | None:
        """The image the keyboard is (or last was) on: a candidate card or the grid's current item; else
        the first candidate."""
        place = self._last_place
        row = place.current_row() if place is self.grid else getattr(place, "row", None)
        return row if row is not None else self.candidates.cards[0].row

    def show_case(self, opened) -> None:
        """Show a newly opened case; nothing of the case shown before may remain on screen."""
        self.opened = opened
        self.marks = dict(opened.marks)
        self.shown = set()
        self.chart.set_series([])
        self.case_title.setText(opened.title)
        self.case_sub.setText(f"   {opened.investigator} · {opened.path.name}")
        folder, shas = opened.gallery_folder, opened.shas
        previous = self.model
        self.thumbs = ThumbnailCache(lambda row: gallery_thumb_path(folder, shas[row]))
        self.model = RankingModel(self.thumbs, shas, opened.cameras, opened.timestamps, parent=self)
        self.model.set_tracks(getattr(opened, "tracks", {}))
        self.grid.set_model(self.model)
        if previous is not None:  # the page owned it (Qt parent): it held the closed case's gallery and its
            previous.setParent(None)  # mapped files (5.8 GB at 10M rows) for as long as the window stayed open
            previous.deleteLater()
        self.set_witness_views(opened.witness_views)
        self.show_state(opened.state)

    def show_state(self, state) -> None:
        initial = self.opened.initial_description if self.opened else ""
        self.questions.show_state(state, initial)
        self.understood.show_state(state)
        if state is None:
            self.candidates.show_candidates([], self.thumbs, self.marks, self.shown)
            if self.model is not None:
                self.model.show_unranked()  # browse the gallery before the first search
                self.grid.refresh_filter()
            self.cand_title.setText("Candidates to consider")
            return
        self.cand_title.setText(f"Candidates to consider — round {state.round_index}")
        self.cand_title.setToolTip(f"Four images picked from the {state.k} best-ranked so that they differ from "
                                   "each other; ask the witness about what separates them.")
        self.candidates.show_candidates(state.candidates, self.thumbs, self.marks, self.shown)
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
            where = " ".join(x for x in (self.opened.cameras[row] or "", (self.opened.timestamps[row] or "")[11:19])
                             if x) or f"image {row + 1}"
            label = f"{mark.capitalize()}: {where}" if mark else where
            series.append((label, [(r, k) for r, k, _s in points], mark))
        self.chart.set_series(series, kept=getattr(self.opened, "kept_top", 0))

    def set_witness_views(self, views: list[dict]) -> None:
        self.shown = {v["sha256"] for v in views}
        n = len(self.shown)
        self.witness_note.setText(("⚠ 1 image shown to the witness" if n == 1 else
                                   f"⚠ {n} images shown to the witness") if n else "")
        self.candidates.set_shown(self.shown)
        if self.model is not None:
            self.model.set_shown(self.shown)
