"""The ranked gallery as a flat list model, filtered with numpy masks so 100k rows stay fast.

The model holds the current ranking (gallery rows best first, their scores) and, for the rows it
lists, their camera, timestamp and person track, read when the list is set (``cameras`` and
``timestamps`` are row-indexed sequences: plain lists, or the gallery's lazy views, which read only
the rows asked for; so a case on a gallery of millions opens without reading every row). The camera
and time filters therefore offer the cameras and the time span of the images listed. A filter
(cameras, time range, hidden rows) is applied as one boolean mask over the ranking; ``visible`` maps
view positions to ranking positions. Qt asks ``data()`` only for the items a view paints
(``uniformItemSizes``), and thumbnails come from a :class:`ThumbnailCache`, so nothing is done per
row that is not on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap

from interreid.engine.report.chart import MARK_COLOURS as REPORT_MARK_COLOURS

from .thumbnails import ThumbnailCache

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # gallery row (int)
RANK_ROLE = Qt.ItemDataRole.UserRole + 2  # 1-based rank in the full ranking
SCORE_ROLE = Qt.ItemDataRole.UserRole + 3
SHA_ROLE = Qt.ItemDataRole.UserRole + 4
MARK_ROLE = Qt.ItemDataRole.UserRole + 5  # "match" | "possible" | "excluded" | ""
SHOWN_ROLE = Qt.ItemDataRole.UserRole + 6  # shown to the witness (bool)

#: before the first search the grid lists the gallery in import order, up to this many images
UNRANKED_LIMIT = 10_000

MARK_COLOURS = {mark: QColor(colour) for mark, colour in REPORT_MARK_COLOURS.items()}  # as the report draws them


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
    #: the cameras, time span or person tracks of the listed images changed (the grid's filter controls follow)
    facets_changed = Signal()

    def __init__(self, thumbs: ThumbnailCache, shas: list[str] | None = None,
                 cameras=None, timestamps=None, icon_size: QSize = QSize(64, 128), parent=None):
        super().__init__(parent)
        self.thumbs = thumbs
        self.icon_size = icon_size
        self.shas = shas or []
        n = len(self.shas)
        #: camera and time by gallery row (a list, or a lazy view that reads the rows asked for)
        self.cameras = cameras if cameras is not None else [None] * n
        self.timestamps = timestamps if timestamps is not None else [None] * n
        self.rows = np.zeros(0, dtype=np.int64)
        self.scores = np.zeros(0, dtype=np.float32)
        self.visible = np.zeros(0, dtype=np.int64)
        self.filter = RankingFilter()
        self.marks: dict[str, str] = {}
        self.shown: set[str] = set()  # images shown to the witness
        self.ranked = True  # False: the gallery in import order, before the first search (no ranks)
        self.total = 0  # images in the unranked list's gallery (the list shows at most UNRANKED_LIMIT)
        # a plain list is indexed once; a gallery's lazy hash view (RowShas) answers by row lookups
        self._row_of_sha = {sha: i for i, sha in enumerate(self.shas)} if isinstance(self.shas, list) else None
        self.tracks = {}  # row -> person track (video crops): a dict, or the interview's lazy TrackLookup
        self.collapse_tracks = False
        self.more: dict[int, int] = {}  # ranking position -> other crops of its track folded into it
        self._set_facets(np.zeros(0, dtype=np.int64))

    def set_tracks(self, track_of) -> None:
        """Which rows are crops of one person track (cut from video): a dict row -> track, or a lookup with
        ``get`` (and ``prefetch``) that reads them by row."""
        self.tracks = track_of if track_of is not None else {}
        self.beginResetModel()
        self._set_facets(self.rows)
        self.visible = self._mask_positions()
        self.endResetModel()
        self._say_facets()

    @property
    def has_tracks(self) -> bool:
        return bool((self.track_of >= 0).any())

    def set_collapse_tracks(self, on: bool) -> None:
        """Show only the best-ranked crop of each track, with '+N more'."""
        self.beginResetModel()
        self.collapse_tracks = bool(on)
        self.visible = self._mask_positions()
        self.endResetModel()

    @staticmethod
    def _read(column, rows: np.ndarray) -> list:
        many = getattr(column, "many", None)
        return many(rows.tolist()) if many is not None else [column[int(r)] for r in rows]

    def _set_facets(self, rows: np.ndarray) -> None:
        """Camera, time and track of each listed position (read for these rows only), and the filter's
        choices: the cameras and the time span of the listed images."""
        before = (getattr(self, "camera_names", None), getattr(self, "time_span", None),
                  getattr(self, "has_times", None), self.has_tracks if hasattr(self, "track_of") else None)
        cams = self._read(self.cameras, rows) if len(rows) else []
        stamps = self._read(self.timestamps, rows) if len(rows) else []
        names = sorted({c for c in cams if c})
        self.camera_names = names
        code = {name: i for i, name in enumerate(names)}
        self.camera_codes = np.array([code.get(c, -1) if c else -1 for c in cams], dtype=np.int32)  # by position
        self.stamps = np.array([t or "" for t in stamps], dtype=object)  # by position
        self.has_times = any(stamps)
        known = sorted(t for t in stamps if t)
        self.time_span = (known[0], known[-1]) if known else ("", "")  # earliest, latest (ISO strings)
        self.untimed = sum(1 for t in stamps if not t)
        prefetch = getattr(self.tracks, "prefetch", None)
        if prefetch is not None and len(rows):
            prefetch(rows.tolist())
        self.track_of = np.array([(-1 if (t := self.tracks.get(int(r))) is None else int(t)) for r in rows],
                                 dtype=np.int64)  # by position
        if (self.camera_names, self.time_span, self.has_times, self.has_tracks) != before:
            self._facets_dirty = True  # said once the model's reset is complete (_say_facets)

    def _say_facets(self) -> None:
        if getattr(self, "_facets_dirty", False):
            self._facets_dirty = False
            self.facets_changed.emit()

    # -- feeding ----------------------------------------------------------------------------
    def show_unranked(self, limit: int | None = None) -> None:
        """The gallery in import order (its first ``limit`` images, default UNRANKED_LIMIT), to browse before
        the first search (no rank, no score)."""
        total = len(self.shas)
        n = min(total, int(UNRANKED_LIMIT if limit is None else limit))
        self.set_ranking(np.arange(n, dtype=np.int64), np.zeros(n, dtype=np.float32), ranked=False, total=total)

    def set_ranking(self, rows: np.ndarray, scores: np.ndarray, ranked: bool = True, total: int | None = None) -> None:
        self.beginResetModel()
        self.ranked = ranked
        self.rows = np.asarray(rows, dtype=np.int64)
        self.scores = np.asarray(scores, dtype=np.float32)
        self.total = len(self.rows) if total is None else int(total)
        self._set_facets(self.rows)
        self.matches = None  # match percentages aligned with the ranking, when the engine gives them
        self.visible = self._mask_positions()
        self.endResetModel()
        self._say_facets()

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
        tracks = self.track_of[positions]
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
            mask &= np.isin(self.camera_codes, wanted)
        if f.time_from or f.time_to:
            stamps = self.stamps
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
                return self.camera_label(pos)
            more = self.more.get(pos)
            tail = f"  +{more} more" if more else ""
            if self.matches is not None and pos < len(self.matches):
                return f"#{pos + 1}  {self.matches[pos]:.0f}%" + tail
            return f"#{pos + 1}  {self.scores[pos]:.2f}" + tail
        if role == Qt.ItemDataRole.DecorationRole:
            return QIcon(QPixmap.fromImage(self.thumbs.get(row)))
        if role == Qt.ItemDataRole.ToolTipRole:
            cam = self.camera_label(pos) or "no camera"
            stamp = self.stamps[pos] or "no time"
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

    def camera_label(self, pos: int) -> str:
        """The camera of the image at ranking position ``pos``."""
        code = self.camera_codes[pos] if pos < len(self.camera_codes) else -1
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
