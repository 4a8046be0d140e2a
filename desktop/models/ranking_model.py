"""The ranked gallery as a flat list model, filtered with numpy masks so 100k rows stay fast.

The model holds the current ranking (gallery rows best first, their scores) and, per gallery
row, its camera and timestamp. A filter (cameras, time range, hidden rows) is applied as one
boolean mask over the ranking; ``visible`` maps view positions to ranking positions. Qt asks
``data()`` only for the items a view paints (``uniformItemSizes``), and thumbnails come from a
:class:`ThumbnailCache`, so nothing is done per row that is not on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPixmap

from .thumbnails import ThumbnailCache

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # gallery row (int)
RANK_ROLE = Qt.ItemDataRole.UserRole + 2  # 1-based rank in the full ranking
SCORE_ROLE = Qt.ItemDataRole.UserRole + 3
SHA_ROLE = Qt.ItemDataRole.UserRole + 4
MARK_ROLE = Qt.ItemDataRole.UserRole + 5  # "match" | "possible" | "excluded" | ""
SHOWN_ROLE = Qt.ItemDataRole.UserRole + 6  # shown to the witness (bool)

MARK_COLOURS = {"match": QColor("#2e7d32"), "possible": QColor("#ef8f00"), "excluded": QColor("#9e9e9e")}


@dataclass
class RankingFilter:
    """What to show. Empty ``cameras`` means every camera; times are ISO strings (inclusive)."""

    cameras: set[str] = field(default_factory=set)
    time_from: str = ""
    time_to: str = ""
    hidden_rows: set[int] = field(default_factory=set)

    def is_empty(self) -> bool:
        return not (self.cameras or self.time_from or self.time_to or self.hidden_rows)


class RankingModel(QAbstractListModel):
    def __init__(self, thumbs: ThumbnailCache, shas: list[str] | None = None,
                 cameras: list[str | None] | None = None, timestamps: list[str | None] | None = None,
                 icon_size: QSize = QSize(64, 128), parent=None):
        super().__init__(parent)
        self.thumbs = thumbs
        self.icon_size = icon_size
        self.shas = shas or []
        self._set_metadata(cameras, timestamps, len(self.shas))
        self.rows = np.zeros(0, dtype=np.int64)
        self.scores = np.zeros(0, dtype=np.float32)
        self.visible = np.zeros(0, dtype=np.int64)
        self.filter = RankingFilter()
        self.marks: dict[str, str] = {}
        self.shown: set[str] = set()  # images shown to the witness
        self.ranked = True  # False: the gallery in import order, before the first search (no ranks)
        # a plain list is indexed once; a gallery's lazy hash view (RowShas) answers by row lookups
        self._row_of_sha = {sha: i for i, sha in enumerate(self.shas)} if isinstance(self.shas, list) else None
        self.track_of = np.full(len(self.shas), -1, dtype=np.int64)  # row -> person track (video crops)
        self.collapse_tracks = False
        self.more: dict[int, int] = {}  # ranking position -> other crops of its track folded into it

    def set_tracks(self, track_of: dict[int, int]) -> None:
        """Which rows are crops of one person track (cut from video); -1 for the others."""
        for row, track in track_of.items():
            if 0 <= row < len(self.track_of):
                self.track_of[row] = track

    @property
    def has_tracks(self) -> bool:
        return bool((self.track_of >= 0).any())

    def set_collapse_tracks(self, on: bool) -> None:
        """Show only the best-ranked crop of each track, with '+N more'."""
        self.beginResetModel()
        self.collapse_tracks = bool(on)
        self.visible = self._mask_positions()
        self.endResetModel()

    def _set_metadata(self, cameras, timestamps, n: int) -> None:
        cams = list(cameras) if cameras is not None else [None] * n
        names = sorted({c for c in cams if c})
        self.camera_names = names
        code = {name: i for i, name in enumerate(names)}
        self.camera_codes = np.array([code.get(c, -1) if c else -1 for c in cams], dtype=np.int32)
        stamps = list(timestamps) if timestamps is not None else [None] * n
        self.timestamps = np.array([t or "" for t in stamps], dtype=object)
        self.has_times = any(stamps)
        known = sorted(t for t in stamps if t)
        self.time_span = (known[0], known[-1]) if known else ("", "")  # earliest, latest (ISO strings)
        self.untimed = sum(1 for t in stamps if not t)

    # -- feeding ----------------------------------------------------------------------------
    def show_unranked(self) -> None:
        """The whole gallery in import order, to browse before the first search (no rank, no score)."""
        n = len(self.shas)
        self.set_ranking(np.arange(n, dtype=np.int64), np.zeros(n, dtype=np.float32), ranked=False)

    def set_ranking(self, rows: np.ndarray, scores: np.ndarray, ranked: bool = True) -> None:
        self.beginResetModel()
        self.ranked = ranked
        self.rows = np.asarray(rows, dtype=np.int64)
        self.scores = np.asarray(scores, dtype=np.float32)
        self.matches = None  # match percentages aligned with the ranking, when the engine gives them
        self.visible = self._mask_positions()
        self.endResetModel()

    def set_filter(self, flt: RankingFilter) -> None:
        self.beginResetModel()
        self.filter = flt
        self.visible = self._mask_positions()
        self.endResetModel()

    def set_marks(self, marks: dict[str, str]) -> None:
        """sha -> mark; repaints (and re-filters when excluded rows are hidden)."""
        self.marks = dict(marks)
        if self.rowCount():
            self.dataChanged.emit(self.index(0), self.index(self.rowCount() - 1), [MARK_ROLE])

    def set_shown(self, shas: set[str]) -> None:
        self.shown = set(shas)
        if self.rowCount():
            self.dataChanged.emit(self.index(0), self.index(self.rowCount() - 1), [SHOWN_ROLE])

    def _mask_positions(self) -> np.ndarray:
        positions = self._filter_positions()
        self.more = {}
        if not self.collapse_tracks or not len(positions):
            return positions
        tracks = self.track_of[self.rows[positions]]
        keep = np.ones(len(positions), dtype=bool)
        seen: dict[int, int] = {}
        for i, t in enumerate(tracks.tolist()):
            if t < 0:
                continue
            if t in seen:
                keep[i] = False
                first = int(positions[seen[t]])
                self.more[first] = self.more.get(first, 0) + 1
            else:
                seen[t] = i
        return positions[keep]

    def _filter_positions(self) -> np.ndarray:
        rows, f = self.rows, self.filter
        if f.is_empty() or not len(rows):
            return np.arange(len(rows), dtype=np.int64)
        mask = np.ones(len(rows), dtype=bool)
        if f.cameras:
            wanted = np.array([self.camera_names.index(c) for c in f.cameras if c in self.camera_names],
                              dtype=np.int32)
            mask &= np.isin(self.camera_codes[rows], wanted)
        if f.time_from or f.time_to:
            stamps = self.timestamps[rows]
            has = stamps != ""
            if f.time_from:
                has &= stamps >= f.time_from
            if f.time_to:
                has &= stamps <= f.time_to + "\uffff"  # inclusive of the whole "to" prefix
            mask &= has.astype(bool)
        if f.hidden_rows:
            mask &= ~np.isin(rows, np.fromiter(f.hidden_rows, dtype=np.int64))
        return np.flatnonzero(mask).astype(np.int64)

    # -- Qt ---------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self.visible)

    def position(self, view_row: int) -> int:
        """0-based position in the full ranking of the item at ``view_row``."""
        return int(self.visible[view_row])

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.visible):
            return None
        pos = int(self.visible[index.row()])
        row = int(self.rows[pos])
        if role == Qt.ItemDataRole.DisplayRole:
            if not self.ranked:
                return self.camera_label(row)
            more = self.more.get(pos)
            tail = f"  +{more} more" if more else ""
            if self.matches is not None and pos < len(self.matches):
                return f"#{pos + 1}  {self.matches[pos]:.0f}%" + tail
            return f"#{pos + 1}  {self.scores[pos]:.2f}" + tail
        if role == Qt.ItemDataRole.DecorationRole:
            return QIcon(QPixmap.fromImage(self.thumbs.get(row)))
        if role == Qt.ItemDataRole.ToolTipRole:
            cam = self.camera_names[self.camera_codes[row]] if self.camera_codes[row] >= 0 else "no camera"
            stamp = self.timestamps[row] or "no time"
            head = f"rank {pos + 1}, score {self.scores[pos]:.3f}" if self.ranked else "not ranked yet"
            return f"{head}\n{cam}, {stamp}"
        if role == ROW_ROLE:
            return row
        if role == RANK_ROLE:
            return pos + 1
        if role == SCORE_ROLE:
            return float(self.scores[pos])
        if role == SHA_ROLE:
            return self.shas[row] if row < len(self.shas) else ""
        if role == SHOWN_ROLE:
            return row < len(self.shas) and self.shas[row] in self.shown
        if role == MARK_ROLE:
            return self.marks.get(self.shas[row], "") if row < len(self.shas) else ""
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(self.icon_size.width() + 24, self.icon_size.height() + 28)
        return None

    def camera_label(self, row: int) -> str:
        code = self.camera_codes[row] if row < len(self.camera_codes) else -1
        return self.camera_names[code] if code >= 0 else ""

    def row_of_sha(self, sha256: str) -> int | None:
        if self._row_of_sha is not None:
            return self._row_of_sha.get(sha256)
        try:
            return self.shas.index(sha256)
        except ValueError:
            return None

    def view_row_of(self, gallery_row: int) -> int | None:
        hits = np.flatnonzero(self.rows[self.visible] == gallery_row)
        return int(hits[0]) if len(hits) else None
