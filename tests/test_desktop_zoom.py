"""Zoom in the details view: the scaling is said on screen, nearest neighbour really is, and 100% is
the image's true pixel size."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QColor, QImage, QPixmap

from interreid.desktop.widgets.zoom_view import ZoomImage


def checker(w=20, h=40) -> QPixmap:
    img = QImage(w, h, QImage.Format.Format_RGB32)
    for y in range(h):
        for x in range(w):
            img.setPixelColor(x, y, QColor("black") if (x + y) % 2 else QColor("white"))
    return QPixmap.fromImage(img)


def test_small_crop_starts_enlarged_as_pixels_with_its_true_size_shown(qtbot):
    zoom = ZoomImage(checker())
    qtbot.addWidget(zoom)
    assert zoom.factor == 4.0 and not zoom.smooth
    assert "Original 20 × 40 px" in zoom.caption.text() and "400%" in zoom.caption.text()
    assert "nearest neighbour" in zoom.caption.text()
    shown = zoom.image.pixmap().toImage()
    assert (shown.width(), shown.height()) == (80, 160)
    # nearest neighbour: every 4×4 block is one original pixel, only black and white, nothing invented
    colours = {shown.pixelColor(x, y).name() for x in range(0, 80, 3) for y in range(0, 160, 5)}
    assert colours == {"#000000", "#ffffff"}
    assert shown.pixelColor(0, 0) == shown.pixelColor(3, 3) and shown.pixelColor(4, 0) != shown.pixelColor(0, 0)


def test_smooth_scaling_is_a_labelled_choice_and_100_percent_is_true_size(qtbot):
    zoom = ZoomImage(checker())
    qtbot.addWidget(zoom)
    zoom.mode.setCurrentIndex(0)
    assert zoom.smooth and "(smooth)" in zoom.caption.text()
    shown = zoom.image.pixmap().toImage()
    greys = {shown.pixelColor(x, 2).name() for x in range(80)}
    assert len(greys) > 2  # smooth blends neighbours
    zoom.set_zoom(1.0)
    assert zoom.image.pixmap().size().width() == 20 and "true pixel size" in zoom.caption.text()
    zoom.step(1)
    assert zoom.factor == 1.5
    zoom.step(-1)
    zoom.step(-1)
    assert zoom.factor == 0.5


def test_unreadable_original_says_so(qtbot):
    zoom = ZoomImage(QPixmap())
    qtbot.addWidget(zoom)
    assert "cannot be read" in zoom.image.text() and not zoom.zoom_in.isEnabled()
