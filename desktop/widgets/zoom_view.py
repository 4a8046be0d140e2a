"""An image at a chosen zoom, with the original's true pixel size always in view.

Small CCTV crops are never silently blurred or blocked: the scaling is said on screen, smooth
(bilinear) by default or "Pixels" (nearest neighbour, each original pixel a visible square) when
the investigator chooses it. 100% shows the image at its true pixel size. Keys: + and - zoom,
0 is true size, F fits the window.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

ZOOMS = [0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0]
SMOOTH, PIXELS = "smooth", "pixels"


class ZoomImage(QWidget):
    def __init__(self, pixmap: QPixmap, parent=None):
        super().__init__(parent)
        self.original = pixmap
        self.factor = 1.0
        self.fitting = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.zoom_out = QToolButton()
        self.zoom_out.setText("−")
        self.zoom_out.setToolTip("Zoom out (-)")
        self.zoom_in = QToolButton()
        self.zoom_in.setText("+")
        self.zoom_in.setToolTip("Zoom in (+)")
        self.true_size = QToolButton()
        self.true_size.setText("100%")
        self.true_size.setToolTip("True pixel size: one image pixel per screen pixel (0)")
        self.fit = QToolButton()
        self.fit.setText("Fit")
        self.fit.setToolTip("Fit the window (F)")
        self.mode = QComboBox()
        self.mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.mode.addItem("Smooth scaling", SMOOTH)
        self.mode.addItem("Pixels (nearest neighbour)", PIXELS)
        self.mode.setToolTip("Smooth blends neighbouring pixels; Pixels shows each original pixel as a square, "
                             "adding nothing")
        self.caption = QLabel()
        self.caption.setObjectName("muted")
        self.caption.setWordWrap(True)
        for w in (self.zoom_out, self.zoom_in, self.true_size, self.fit, self.mode):
            bar.addWidget(w)
        bar.addStretch(1)
        layout.addLayout(bar)
        layout.addWidget(self.caption)  # its own line: the true size is never cut off
        self.scroll = QScrollArea()
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll.setWidget(self.image)
        self.scroll.setWidgetResizable(False)
        layout.addWidget(self.scroll, 1)
        self.zoom_in.clicked.connect(lambda: self.step(1))
        self.zoom_out.clicked.connect(lambda: self.step(-1))
        self.true_size.clicked.connect(lambda: self.set_zoom(1.0))
        self.fit.clicked.connect(self.fit_window)
        self.mode.currentIndexChanged.connect(lambda _i: self._render())
        for keys, slot in (("+", lambda: self.step(1)), ("=", lambda: self.step(1)), ("-", lambda: self.step(-1)),
                           ("0", lambda: self.set_zoom(1.0)), ("F", self.fit_window)):
            QShortcut(QKeySequence(keys), self, slot, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        if pixmap.isNull():
            self.image.setText("The original file cannot be read\n(moved or deleted).")
            for w in (self.zoom_in, self.zoom_out, self.true_size, self.fit, self.mode):
                w.setEnabled(False)
        else:
            # small crops start enlarged in whole steps, shown as pixels: nothing is invented
            start = 1.0 if pixmap.height() >= 400 else float(max(1, min(4, 512 // max(1, pixmap.height()))))
            if start > 1:
                self.mode.setCurrentIndex(1)
            self.set_zoom(start)

    # -- zooming --------------------------------------------------------------------------
    def set_zoom(self, factor: float) -> None:
        self.fitting = False
        self.factor = max(ZOOMS[0], min(ZOOMS[-1], float(factor)))
        self._render()

    def step(self, direction: int) -> None:
        if direction > 0:
            bigger = [z for z in ZOOMS if z > self.factor + 1e-6]
            self.set_zoom(bigger[0] if bigger else ZOOMS[-1])
        else:
            smaller = [z for z in ZOOMS if z < self.factor - 1e-6]
            self.set_zoom(smaller[-1] if smaller else ZOOMS[0])

    def fit_window(self) -> None:
        if self.original.isNull():
            return
        area = self.scroll.viewport().size()
        self.factor = max(0.05, min(area.width() / self.original.width(), area.height() / self.original.height()))
        self.fitting = True
        self._render()

    @property
    def smooth(self) -> bool:
        return self.mode.currentData() == SMOOTH

    def _render(self) -> None:
        if self.original.isNull():
            return
        w = max(1, round(self.original.width() * self.factor))
        h = max(1, round(self.original.height() * self.factor))
        how = (Qt.TransformationMode.SmoothTransformation if self.smooth
               else Qt.TransformationMode.FastTransformation)
        shown = self.original if (w, h) == (self.original.width(), self.original.height()) else \
            self.original.scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio, how)
        self.image.setPixmap(shown)
        self.image.resize(shown.size())
        scaling = ("true pixel size" if abs(self.factor - 1) < 1e-6 else
                   ("smooth" if self.smooth else "pixels, nearest neighbour"))
        self.caption.setText(f"Original {self.original.width()} × {self.original.height()} px · "
                             f"shown at {self.factor * 100:.0f}% ({scaling})")
