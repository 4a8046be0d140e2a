"""A small chart of rank over rounds for the marked images (QPainter; rank 1 at the top, log scale).

A case keeps the top N rows of each ranking; a marked image's rank below them is counted over the whole
gallery and stored in the case: such points are drawn as open circles below a dashed line "top N kept"."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

STYLES = [Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine]
PALETTE = ["#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#c62828", "#00838f", "#5d4037", "#455a64"]


class RankChart(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.series: list[tuple[str, list[tuple[int, int]], QColor]] = []
        self.styles: list = []
        self.kept = 0  # rows each ranking keeps: ranks below it were counted (drawn open, under a dashed line)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(150)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt)
        return QSize(320, 170)

    def set_series(self, series: list[tuple], kept: int = 0) -> None:
        """[(label, [(after_round, rank), ...], mark?), ...]: a marked image's line has its mark's colour
        (the same as the card badges); several images with one mark differ by line style. ``kept``: the rows
        each ranking keeps; points ranked below it are drawn as open circles under a dashed line."""
        self.kept = int(kept or 0)
        below = any(rank > self.kept for _l, pts, *_r in series for _t, rank in pts) if self.kept else False
        self.setToolTip(f"Open circles: ranks below the {self.kept:,} best-ranked images the case keeps, counted "
                        "over the whole gallery and stored in the case." if below else "")
        from ..models.ranking_model import MARK_COLOURS

        out, used = [], {}
        for i, (label, pts, *rest) in enumerate(series):
            mark = rest[0] if rest else ""
            if mark in MARK_COLOURS:
                colour = QColor(MARK_COLOURS[mark])
                n = used.get(mark, 0)
                used[mark] = n + 1
                colour.setAlpha(255)
                style = STYLES[n % len(STYLES)]
            else:
                colour, style = QColor(PALETTE[i % len(PALETTE)]), Qt.PenStyle.SolidLine
            out.append((label, pts, colour, style))
        self.series = [(label, pts, colour) for label, pts, colour, _s in out]
        self.styles = [s for *_x, s in out]
        self.update()

    def kept_label(self) -> str:
        """The dashed line's words: below it, ranks were counted beyond the rows the case keeps."""
        return f"top {self.kept:,} kept in the case"

    def legend_texts(self) -> list[str]:
        """Each line's legend: its rank after the latest round first ("#3 · Possible: cam01 12:00:47"); the axis
        is labelled only at 1, 10, 100…, so a line's place between them cannot be read off it."""
        return [f"#{pts[-1][1]:,} · {label}" if pts else label for label, pts, _c in self.series]

    def beyond_points(self) -> list[tuple[str, int, int]]:
        """(label, round, rank) of every point drawn open (ranked below the kept top)."""
        if not self.kept:
            return []
        return [(label, rnd, rank) for label, pts, _c in self.series for rnd, rank in pts if rank > self.kept]

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        p.fillRect(self.rect(), pal.base())
        fm = p.fontMetrics()
        if not self.series or not any(pts for _l, pts, _c in self.series):
            p.setPen(pal.placeholderText().color())
            p.drawText(self.rect().adjusted(12, 0, -12, 0), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       "Mark an image as match or possible to follow its rank over the rounds.")
            return
        max_round = max(max(r for r, _ in pts) for _l, pts, _c in self.series if pts)
        max_rank = max(max(k for _, k in pts) for _l, pts, _c in self.series if pts)
        beyond = bool(self.kept) and max_rank > self.kept
        top_rank = 10 ** math.ceil(math.log10(max(max_rank, 10)))
        side_legend = self.width() >= 380  # narrow: legend below the plot, a few lines
        shown = self.series if side_legend else self.series[:3]
        legends = self.legend_texts()
        legend_w = min(230, max(fm.horizontalAdvance(label) for label in legends) + 26)
        left = max(fm.horizontalAdvance(str(top_rank)), fm.horizontalAdvance("round") + 8) + 14
        top = 10
        if side_legend:
            right, bottom = legend_w + 12, fm.height() + 14
        else:
            right, bottom = 12, fm.height() + 14 + len(shown) * (fm.height() + 2) + 6
            legend_w = self.width() - 8  # below the plot, the legend uses the whole width
        plot = QRectF(left, top, self.width() - left - right, self.height() - top - bottom)
        if plot.width() < 40 or plot.height() < 30:
            return

        def y_of(rank: int) -> float:
            return plot.top() + plot.height() * math.log10(rank) / math.log10(top_rank)

        def x_of(rnd: int) -> float:
            return plot.left() + (plot.width() * rnd / max_round if max_round else plot.width() / 2)

        grid = QPen(pal.mid().color(), 1, Qt.PenStyle.DotLine)
        text = pal.text().color()
        rank = 1
        while rank <= top_rank:
            p.setPen(grid)
            p.drawLine(QPointF(plot.left(), y_of(rank)), QPointF(plot.right(), y_of(rank)))
            p.setPen(text)
            p.drawText(QRectF(0, y_of(rank) - fm.height() / 2, left - 6, fm.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(rank))
            rank *= 10
        for rnd in range(max_round + 1):
            p.drawText(QRectF(x_of(rnd) - 20, plot.bottom() + 4, 40, fm.height()), Qt.AlignmentFlag.AlignHCenter,
                       str(rnd))
        if beyond:
            p.setPen(QPen(pal.text().color(), 1, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(plot.left(), y_of(self.kept)), QPointF(plot.right(), y_of(self.kept)))
            p.drawText(QRectF(plot.left() + 4, y_of(self.kept) - fm.height() - 1, plot.width() - 8, fm.height()),
                       Qt.AlignmentFlag.AlignLeft,
                       fm.elidedText(self.kept_label(), Qt.TextElideMode.ElideRight, int(plot.width() - 8)))
        for i, (label, pts, colour) in enumerate(self.series):
            style = self.styles[i] if i < len(self.styles) else Qt.PenStyle.SolidLine
            p.setPen(QPen(colour, 2, style))
            if pts:
                path = QPainterPath(QPointF(x_of(pts[0][0]), y_of(pts[0][1])))
                for rnd, rank in pts[1:]:
                    path.lineTo(x_of(rnd), y_of(rank))
                p.drawPath(path)
                for rnd, rank in pts:
                    below = beyond and rank > self.kept  # counted below the kept top: an open circle
                    p.setBrush(pal.base() if below else colour)
                    p.drawEllipse(QPointF(x_of(rnd), y_of(rank)), 4 if below else 3, 4 if below else 3)
                p.setBrush(Qt.BrushStyle.NoBrush)
            if i >= len(shown):
                continue
            if side_legend:
                ly, lx = top + i * (fm.height() + 2), plot.right() + 12
            else:
                ly, lx = plot.bottom() + fm.height() + 10 + i * (fm.height() + 2), 4
            p.setPen(QPen(colour, 3, style))
            p.drawLine(QPointF(lx, ly + fm.height() / 2), QPointF(lx + 12, ly + fm.height() / 2))
            p.setPen(text)
            p.drawText(QRectF(lx + 16, ly, legend_w - 16, fm.height()), Qt.AlignmentFlag.AlignLeft,
                       fm.elidedText(legends[i], Qt.TextElideMode.ElideRight, int(legend_w - 16)))
        p.setPen(pal.placeholderText().color())
        p.drawText(QRectF(0, plot.bottom() + 4, left - 14, fm.height()), Qt.AlignmentFlag.AlignRight, "round")
