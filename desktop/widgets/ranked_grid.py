"""The full ranking as a lazily painted grid of thumbnails, with camera / time filters."""

from __future__ import annotations

from PySide6.QtCore import QDateTime, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateTimeEdit, QHBoxLayout, QLabel, QListView, QMenu,
                               QStyle, QStyledItemDelegate, QVBoxLayout, QWidget)

from ..models.ranking_model import (MARK_COLOURS, MARK_ROLE, RANK_ROLE, ROW_ROLE, SCORE_ROLE, SHA_ROLE,
                                    SHOWN_ROLE, RankingFilter, RankingModel)

MARK_TAGS = {"match": "MATCH", "possible": "POSSIBLE", "excluded": "EXCLUDED"}
SHOWN_COLOUR = QColor("#8a5200")

TIME_FORMAT = "yyyy-MM-dd HH:mm:ss"
ISO_FORMAT = "yyyy-MM-ddTHH:mm:ss"
THUMB = QSize(56, 112)


def parse_time(text: str) -> QDateTime | None:
    """A recorded ISO timestamp (date, minutes or seconds) as a QDateTime; None if it is not one."""
    if not text:
        return None
    for fmt in (Qt.DateFormat.ISODateWithMs, Qt.DateFormat.ISODate):
        value = QDateTime.fromString(text, fmt)
        if value.isValid():
            return value
    return None
CELL = QSize(84, 164)  # room for a second label line ("+3 more")


def label_lines(label: str, width_of, width: int) -> list[str]:
    """A cell's label on one line, or on two split where its parts meet ("#1  100%" / "+3 more")
    when one line is too narrow: the count of images folded under a person is never cut off."""
    if width_of(label) <= width or "  " not in label.strip():
        return [label]
    head, _, tail = label.strip().rpartition("  ")
    return [head, tail]


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints thumbnail, rank and score; a marked image gets a coloured frame and a word (MATCH,
    POSSIBLE, EXCLUDED), an image shown to the witness a SHOWN tag."""

    @staticmethod
    def _tag(painter: QPainter, font, text: str, colour: QColor, area: QRect, bottom: bool) -> None:
        painter.save()
        painter.setFont(font)
        fm = painter.fontMetrics()
        w, h = fm.horizontalAdvance(text) + 6, fm.height()
        y = area.bottom() - h + 1 if bottom else area.top()
        box = QRect(area.x() + (area.width() - w) // 2, y, w, h)
        painter.fillRect(box, colour)
        painter.setPen(QColor("white"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

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
        small = painter.font()
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.75))
        small.setBold(True)
        if mark in MARK_COLOURS:  # a coloured frame AND a word: colour is never the only sign
            painter.setPen(QPen(MARK_COLOURS[mark], 3))
            painter.drawRect(area.adjusted(-2, -2, 2, 2))
            self._tag(painter, small, MARK_TAGS[mark], MARK_COLOURS[mark], area, bottom=True)
        if index.data(SHOWN_ROLE):
            self._tag(painter, small, "SHOWN", SHOWN_COLOUR, area, bottom=False)
        painter.setPen(option.palette.highlightedText().color() if selected else option.palette.text().color())
        text = QRect(r.x(), area.bottom() + 4, r.width(), r.bottom() - area.bottom() - 4)
        model = index.model()
        label = (f"#{index.data(RANK_ROLE)}  {index.data(SCORE_ROLE):.2f}" if getattr(model, "ranked", True)
                 else index.data(Qt.ItemDataRole.DisplayRole) or "")
        fm = painter.fontMetrics()
        lines = label_lines(index.data(Qt.ItemDataRole.DisplayRole) or label, fm.horizontalAdvance, text.width())
        painter.drawText(text, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                         "\n".join(fm.elidedText(line, Qt.TextElideMode.ElideRight, text.width()) for line in lines))
        painter.restore()


class RankedGrid(QWidget):
    """Filter bar + grid. Emits the gallery row to open (double-click, Enter) or to mark."""

    open_row = Signal(int)
    mark_requested = Signal(int, str)  # gallery row, mark
    witness_requested = Signal(int)
    similar_requested = Signal(int)

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
        # a real date-time range over the gallery's own time span (off: every time, and untimed images)
        self.time_on = QCheckBox("Time")
        self.time_on.setToolTip("Show only images recorded in this time range (inclusive)")
        self.time_on.toggled.connect(self._time_toggled)
        self.time_from = QDateTimeEdit()
        self.time_to = QDateTimeEdit()
        self.time_and = QLabel("–")
        for edit in (self.time_from, self.time_to):
            edit.setDisplayFormat(TIME_FORMAT)
            edit.setCalendarPopup(True)
            edit.setEnabled(False)
            edit.setToolTip("Choose a date and time within the gallery's recordings (inclusive)")
            edit.dateTimeChanged.connect(lambda _t: self._apply_filter())
        self.time_message = QLabel()
        self.time_message.setObjectName("warningText")
        self.time_message.setWordWrap(True)
        self.time_message.hide()
        self.hide_excluded = QCheckBox("Hide excluded")
        self.hide_excluded.setChecked(True)
        self.hide_excluded.toggled.connect(self._apply_filter)
        self.count = QLabel()
        self.count.setObjectName("muted")
        self.one_per_person = QCheckBox("One image per person")
        self.one_per_person.setToolTip("Video: show only the best image of each person tracked in the footage; "
                                       "the others are counted as '+N more'. A track can now and then hold two "
                                       "people who walked close together, and one person who left the view and "
                                       "came back is two tracks: untick to see every image.")
        self.one_per_person.setChecked(True)
        self.one_per_person.toggled.connect(lambda on: self.model and self.model.set_collapse_tracks(on))
        self.one_per_person.hide()
        self.camera.currentIndexChanged.connect(self._apply_filter)
        bar.addWidget(self.title)
        bar.addStretch(1)
        bar.addWidget(self.hide_excluded)
        bar.addWidget(self.one_per_person)
        bar.addWidget(self.count)
        layout.addLayout(bar)
        filters = QHBoxLayout()  # a row of its own, so the grid's title and count are never squeezed
        for w in (self.camera, self.time_on, self.time_from, self.time_and, self.time_to):
            filters.addWidget(w)
        filters.addStretch(1)
        layout.addLayout(filters)
        layout.addWidget(self.time_message)
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
        self.view.installEventFilter(self)
        self.view.doubleClicked.connect(lambda idx: self.open_row.emit(idx.data(ROW_ROLE)))
        self.view.setToolTip("Double-click or Enter: details · right-click or the Menu key: mark, find similar, "
                             "show to witness")
        layout.addWidget(self.view, 1)
        if model is not None:
            self.set_model(model)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt)
        """Keys on the grid: M/P/X mark, W show to witness, S find similar, Menu the context menu."""
        from PySide6.QtCore import QEvent

        if obj is self.view and event.type() == QEvent.Type.KeyPress and not event.modifiers() & ~(
                Qt.KeyboardModifier.KeypadModifier):
            row = self.current_row()
            marks = {Qt.Key.Key_M: "match", Qt.Key.Key_P: "possible", Qt.Key.Key_X: "excluded"}
            if row is not None:
                if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                    self.open_row.emit(row)
                    return True
                if event.key() in marks:
                    self.mark_requested.emit(row, marks[event.key()])
                    return True
                if event.key() == Qt.Key.Key_W:
                    self.witness_requested.emit(row)
                    return True
                if event.key() == Qt.Key.Key_S:
                    self.similar_requested.emit(row)
                    return True
                if event.key() == Qt.Key.Key_Menu:
                    self._menu(self.view.visualRect(self.view.currentIndex()).center())
                    return True
        return super().eventFilter(obj, event)

    def set_model(self, model: RankingModel) -> None:
        self.model = model
        self.view.setModel(model)
        model.modelReset.connect(self._update_count)
        facets = getattr(model, "facets_changed", None)
        if facets is not None:  # the listed images' cameras and times change with the ranking
            facets.connect(lambda m=model: self._refresh_facets() if self.model is m else None)
        self.time_on.blockSignals(True)
        self.time_on.setChecked(False)
        self.time_on.blockSignals(False)
        self._refresh_facets()

    def _refresh_facets(self) -> None:
        """The filter's choices: the cameras and the time span of the images listed (a camera chosen before
        stays chosen while it is still listed)."""
        model = self.model
        chosen = self.camera.currentData()
        self.camera.blockSignals(True)
        self.camera.clear()
        self.camera.addItem("All cameras", "")
        for name in model.camera_names:
            self.camera.addItem(name, name)
        if chosen:
            if chosen not in model.camera_names:
                self.camera.addItem(chosen, chosen)  # still the filter's choice: kept, it simply matches none
            self.camera.setCurrentIndex(self.camera.findData(chosen))
        self.camera.blockSignals(False)
        has_cams = bool(model.camera_names) or bool(chosen)
        self.camera.setVisible(has_cams)
        for w in (self.time_on, self.time_from, self.time_and, self.time_to):
            w.setVisible(model.has_times or self.time_on.isChecked())
        first, last = (parse_time(t) for t in model.time_span)
        for edit in (self.time_from, self.time_to):
            edit.blockSignals(True)
            edit.setEnabled(self.time_on.isChecked())
            if first is not None and last is not None and not self.time_on.isChecked():
                edit.setDateTimeRange(first, last)
            edit.blockSignals(False)
        readable = first is not None and last is not None
        if readable and not self.time_on.isChecked():  # a range being used stays as chosen
            self.time_from.setDateTime(first)
            self.time_to.setDateTime(last)
        self.time_on.setEnabled(readable)
        self.time_on.setToolTip("Show only images recorded in this time range (inclusive)" if readable else
                                "The gallery's recorded times cannot be read as dates and times, so it cannot "
                                "be filtered by time")
        self.time_message.setText("" if readable or not model.has_times else
                                  f"The recorded times of this gallery (e.g. “{model.time_span[0]}”) cannot be "
                                  "read as dates and times, so the time filter is off.")
        self.time_message.setVisible(model.has_times and not readable)
        tracks = bool(getattr(model, "has_tracks", False))
        self.one_per_person.setVisible(tracks)
        if tracks:
            model.set_collapse_tracks(self.one_per_person.isChecked())
        self._update_count()

    def focus_filter(self) -> None:
        target = self.camera if self.camera.isVisible() else self.time_on
        if not target.isVisible():
            target = self.view
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def time_range(self) -> tuple[str, str]:
        """The chosen range as ISO strings ("", "" when off); says so when it cannot match anything."""
        if not (self.time_on.isChecked() and self.time_on.isVisible()):
            self.time_message.hide()
            return "", ""
        start, end = self.time_from.dateTime(), self.time_to.dateTime()
        problem = ""
        if start > end:
            problem = "The start of the time range is after its end, so no image can match: choose an earlier start."
        elif self.model is not None and self.model.untimed:
            problem = (f"{self.model.untimed:,} images have no recorded time; they are hidden while a time range "
                       "is set.")
        self.time_message.setText(problem)
        self.time_message.setVisible(bool(problem))
        return start.toString(ISO_FORMAT), end.toString(ISO_FORMAT)

    def _time_toggled(self, on: bool) -> None:
        for edit in (self.time_from, self.time_to):
            edit.setEnabled(on)
        self._apply_filter()

    def current_filter(self, excluded_rows: set[int] | None = None) -> RankingFilter:
        cam = self.camera.currentData()
        start, end = self.time_range()
        return RankingFilter({cam} if cam else set(), start, end,
                             set(excluded_rows or ()) if self.hide_excluded.isChecked() else set())

    def _apply_filter(self) -> None:
        if self.model is not None:
            keep = self.current_row()  # the keyboard stays on the same image across a re-filter
            self.model.set_filter(self.current_filter(self._excluded_rows()))
            at = self.model.view_row_of(keep) if keep is not None else None
            if at is not None:
                self.view.setCurrentIndex(self.model.index(at))

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
        whole = getattr(self.model, "total", total)
        if not self.model.ranked and whole > total:  # before the first search: the gallery's first images
            self.count.setText(f"first {shown:,} of {whole:,} images" if shown == total
                               else f"{shown:,} of the first {total:,} of {whole:,} images")
        self.title.setText("Ranked gallery" if self.model.ranked else "Gallery (not ranked yet: search to rank it)")

    def _menu(self, pos) -> None:
        idx = self.view.indexAt(pos)
        if not idx.isValid():
            return
        row = idx.data(ROW_ROLE)
        menu = QMenu(self)
        menu.addAction("Details…", lambda: self.open_row.emit(row))
        menu.addAction("Find similar-looking images", lambda: self.similar_requested.emit(row))
        menu.addSeparator()
        for mark, label in (("match", "Mark as match…"), ("possible", "Mark as possible…"),
                            ("excluded", "Mark as excluded…"), ("cleared", "Clear mark")):
            menu.addAction(label, lambda m=mark: self.mark_requested.emit(row, m))
        menu.addSeparator()
        menu.addAction("Show to witness…", lambda: self.witness_requested.emit(row))
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def current_row(self) -> int | None:
        """The gallery row of the grid's current item, if any."""
        idx = self.view.currentIndex()
        return idx.data(ROW_ROLE) if idx.isValid() else None

    def sha_at(self, view_row: int) -> str:
        return self.model.index(view_row).data(SHA_ROLE)
