"""The full ranking as a lazily painted grid of thumbnails, with camera / time filters."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QListView, QMenu,
                               QStyle, QStyledItemDelegate, QVBoxLayout, QWidget)

from ..models.ranking_model import (MARK_COLOURS, MARK_ROLE, RANK_ROLE, ROW_ROLE, SCORE_ROLE, SHA_ROLE,
                                    RankingFilter, RankingModel)

THUMB = QSize(56, 112)
CELL = QSize(84, 148)


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints thumbnail, rank and score, with a coloured frame for marked images."""

    def sizeHint(self, option, index) -> QSize:  # noqa: N802 (Qt)
        return CELL

    def paint(self, painter: QPainter, option, index) -> None:
        painter.save()
        r = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.fillRect(r, option.palette.highlight() if selected else option.palette.base())
        image = index.model().thumbs.get(index.data(ROW_ROLE)) if hasattr(index.model(), "thumbs") else None
        area = QRect(r.x() + (r.width() - THUMB.width()) // 2, r.y() + 4, THUMB.width(), THUMB.height())
        if image is not None:
            scaled = image.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation)
            x = area.x() + (area.width() - scaled.width()) // 2
            painter.drawImage(x, area.y() + (area.height() - scaled.height()) // 2, scaled)
        mark = index.data(MARK_ROLE)
        if mark in MARK_COLOURS:
            painter.setPen(QPen(MARK_COLOURS[mark], 3))
            painter.drawRect(area.adjusted(-2, -2, 2, 2))
        painter.setPen(option.palette.highlightedText().color() if selected else option.palette.text().color())
        text = QRect(r.x(), area.bottom() + 4, r.width(), r.bottom() - area.bottom() - 4)
        painter.drawText(text, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                         index.data(Qt.ItemDataRole.DisplayRole)
                         or f"#{index.data(RANK_ROLE)}  {index.data(SCORE_ROLE):.2f}")
        painter.restore()


class RankedGrid(QWidget):
    """Filter bar + grid. Emits the gallery row to open (double-click, Enter) or to mark."""

    open_row = Signal(int)
    mark_requested = Signal(int, str)  # gallery row, mark
    witness_requested = Signal(int)

    def __init__(self, model: RankingModel | None = None, parent=None):
        super().__init__(parent)
        self.model: RankingModel | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.title = QLabel("Ranked gallery")
        self.title.setObjectName("sectionTitle")
        self.camera = QComboBox()
        self.camera.setToolTip("Show one camera only (Ctrl+F)")
        self.camera.setMinimumContentsLength(8)
        self.time_from = QLineEdit()
        self.time_from.setPlaceholderText("time from")
        self.time_to = QLineEdit()
        self.time_to.setPlaceholderText("time to")
        for edit in (self.time_from, self.time_to):
            edit.setClearButtonEnabled(True)
            edit.setToolTip("A time or its start, as recorded: 2024-05-01 or 2024-05-01T12:30 (inclusive)")
            edit.setFixedWidth(112)
            edit.editingFinished.connect(self._apply_filter)
        self.hide_excluded = QCheckBox("Hide excluded")
        self.hide_excluded.setChecked(True)
        self.hide_excluded.toggled.connect(self._apply_filter)
        self.count = QLabel()
        self.count.setObjectName("muted")
        self.camera.currentIndexChanged.connect(self._apply_filter)
        bar.addWidget(self.title)
        bar.addStretch(1)
        for w in (self.camera, self.time_from, self.time_to, self.hide_excluded, self.count):
            bar.addWidget(w)
        layout.addLayout(bar)
        self.view = QListView()
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setUniformItemSizes(True)
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(500)
        self.view.setGridSize(CELL)
        self.view.setSpacing(0)
        self.view.setWordWrap(False)
        self.view.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.view.setItemDelegate(ThumbnailDelegate(self.view))
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        self.view.doubleClicked.connect(lambda idx: self.open_row.emit(idx.data(ROW_ROLE)))
        self.view.activated.connect(lambda idx: self.open_row.emit(idx.data(ROW_ROLE)))
        layout.addWidget(self.view, 1)
        if model is not None:
            self.set_model(model)

    def set_model(self, model: RankingModel) -> None:
        self.model = model
        self.view.setModel(model)
        model.modelReset.connect(self._update_count)
        self.camera.blockSignals(True)
        self.camera.clear()
        self.camera.addItem("All cameras", "")
        for name in model.camera_names:
            self.camera.addItem(name, name)
        self.camera.blockSignals(False)
        has_cams = bool(model.camera_names)
        self.camera.setVisible(has_cams)
        for w in (self.time_from, self.time_to):
            w.setVisible(model.has_times)
        self._update_count()

    def focus_filter(self) -> None:
        target = self.camera if self.camera.isVisible() else self.time_from
        if not target.isVisible():
            target = self.view
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def current_filter(self, excluded_rows: set[int] | None = None) -> RankingFilter:
        cam = self.camera.currentData()
        return RankingFilter({cam} if cam else set(), self.time_from.text().strip(), self.time_to.text().strip(),
                             set(excluded_rows or ()) if self.hide_excluded.isChecked() else set())

    def _apply_filter(self) -> None:
        if self.model is not None:
            self.model.set_filter(self.current_filter(self._excluded_rows()))

    def _excluded_rows(self) -> set[int]:
        if self.model is None:
            return set()
        row_of = getattr(self.model, "row_of_sha", None)
        shas = [s for s, m in self.model.marks.items() if m == "excluded"]
        return {row_of(s) for s in shas if row_of and row_of(s) is not None}

    def refresh_filter(self) -> None:
        self._apply_filter()

    def _update_count(self) -> None:
        if self.model is None:
            return
        shown, total = self.model.rowCount(), len(self.model.rows)
        self.count.setText(f"{shown:,} of {total:,}" if shown != total else f"{total:,} images")

    def _menu(self, pos) -> None:
        idx = self.view.indexAt(pos)
        if not idx.isValid():
            return
        row = idx.data(ROW_ROLE)
        menu = QMenu(self)
        menu.addAction("Details…", lambda: self.open_row.emit(row))
        menu.addSeparator()
        for mark, label in (("match", "Mark as match…"), ("possible", "Mark as possible…"),
                            ("excluded", "Mark as excluded…"), ("cleared", "Clear mark")):
            menu.addAction(label, lambda m=mark: self.mark_requested.emit(row, m))
        menu.addSeparator()
        menu.addAction("Show to witness…", lambda: self.witness_requested.emit(row))
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def sha_at(self, view_row: int) -> str:
        return self.model.index(view_row).data(SHA_ROLE)
