"""The moment in the footage a video crop was cut from: the source frame with the person's box,
the track's path, a scrub of a few seconds around it, and the provenance fields."""

from __future__ import annotations

import html

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QFormLayout, QLabel, QSizePolicy, QSlider, QVBoxLayout, QWidget

SCRUB_SECONDS = 2.0


DETECTORS = {"opencv-hog": "the built-in people detector", "onnx-person": "the model pack's person detector"}


def detector_words(detector: dict) -> str:
    """Which person detector found the person, in words, its technical name after it in brackets."""
    name = str(detector.get("name") or "")
    if not name:
        return "not recorded"
    words = DETECTORS.get(name)
    return f"{words[0].upper()}{words[1:]} ({name})" if words else name


class SourceFrameView(QWidget):
    """Built from ``ImageDetails.video`` (engine.video.query.crop_provenance + track boxes)."""

    def __init__(self, video: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self.video = video
        self.frames: list[tuple[float, object]] = []
        self.scale = 1.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("<b>Where this image comes from in the footage</b>")
        layout.addWidget(title)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumHeight(150)
        # the frame is drawn to fit the space it is given, never cropped or pushed over the slider below
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self._pixmap: QPixmap | None = None
        self.frame: QImage | None = None
        layout.addWidget(self.picture)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip(f"Move through the {SCRUB_SECONDS:g} seconds before and after this moment")
        self.slider.valueChanged.connect(self._show)
        layout.addWidget(self.slider)
        self.when = QLabel()
        self.when.setObjectName("muted")
        layout.addWidget(self.when)
        form = QFormLayout()
        from interreid.engine.video.cameras import clock_words

        x, y, w, h = video["bbox"]
        rows = [("Video", html.escape(video["video_path"])),
                ("Video SHA-256", f"<code>{video['video_sha256']}</code>"),
                ("Frame", f"{video['frame']} (at {video['pts']:.3f} s into the video)"),
                ("Time", html.escape(str(video.get("time") or "unknown").replace("T", " ")) +  # as above it
                 (f" <span style='color:gray'>(clock from {html.escape(clock_words(video['time_from']))})</span>"
                  if video.get("time_from") else "")),
                ("Box", f"x {x}, y {y}, {w} × {h} px"),
                ("Person track", f"{video['track']} ({len(video.get('track_boxes', []))} positions)"),
                ("Found by", html.escape(detector_words(video.get("detector") or {})))]
        for label, text in rows:
            value = QLabel(text)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(label, value)
        layout.addLayout(form)
        self._load()

    def _load(self) -> None:
        from interreid.engine.video.decode import VideoError
        from interreid.engine.video.frames import frames_around

        try:
            self.frames = frames_around(self.video["video_path"], self.video["pts"], SCRUB_SECONDS)
        except VideoError as exc:
            self.picture.setText(f"The source video cannot be read now ({exc}).")
            self.slider.hide()
            return
        if not self.frames:
            self.picture.setText("The source video holds no frame at this moment any more.")
            self.slider.hide()
            return
        width = self.video.get("video_size", [0, 0])[0] or self.frames[0][1].shape[1]
        self.scale = self.frames[0][1].shape[1] / width
        centre = min(range(len(self.frames)), key=lambda i: abs(self.frames[i][0] - self.video["pts"]))
        self.slider.setRange(0, len(self.frames) - 1)
        self.slider.setValue(centre)
        self._show(centre)

    def current_pts(self) -> float:
        return self.frames[self.slider.value()][0] if self.frames else 0.0

    def _fit(self) -> None:
        if self._pixmap is not None and self.picture.width() > 0 and self.picture.height() > 0:
            self.picture.setPixmap(self._pixmap.scaled(self.picture.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                       Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event) -> None:  # noqa: N802  (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def _show(self, i: int) -> None:
        if not self.frames:
            return
        t, rgb = self.frames[i]
        h, w = rgb.shape[:2]
        image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        p = QPainter(image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = self.scale
        boxes = self.video.get("track_boxes", [])
        # the track's path: bottom centre of the box at each sampled frame
        p.setPen(QPen(QColor(255, 200, 0), 2))
        pts = [QPointF((bx + bw / 2) * s, (by + bh) * s) for _f, _t, bx, by, bw, bh in boxes]
        for a, b in zip(pts, pts[1:]):
            p.drawLine(a, b)
        near = min(boxes, key=lambda b: abs(b[1] - t)) if boxes else None
        if near is not None and abs(near[1] - t) <= 0.5:
            _f, bt, bx, by, bw, bh = near
            exact = abs(bt - self.video["pts"]) < 1e-6 and abs(t - self.video["pts"]) < 0.05
            p.setPen(QPen(QColor(230, 30, 30) if exact else QColor(255, 255, 255), 3 if exact else 2))
            p.drawRect(int(bx * s), int(by * s), int(bw * s), int(bh * s))
        p.end()
        self.frame = image  # the drawn frame at its own scale; the label shows it fitted to its size
        self._pixmap = QPixmap.fromImage(image)
        self._fit()
        delta = t - self.video["pts"]
        self.when.setText("The moment this image was taken" if abs(delta) < 0.05
                          else f"{abs(delta):.1f} s {'after' if delta > 0 else 'before'} this image")
