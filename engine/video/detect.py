"""Person detectors: an interface a user's own detector can implement, OpenCV HOG by default, and
an ONNX person detector shipped as a model-pack component.

A detector takes an RGB frame (H, W, 3 uint8) and returns person boxes in frame pixels as
(x, y, w, h) with a score (higher is surer; the scale is the detector's own). ``describe()`` is
recorded with every crop (name, version, parameters), so a crop says what found it.

ONNX person-detector contract (pack component ``detector``, key ``onnx``):
  input   one float32 tensor [1, 3, H, W], RGB scaled to [0, 1], the frame resized to H x W
          (H, W read from the model's input shape; dynamic axes fall back to 480 x 640);
  output  the first output, float32 [N, 5] or [1, N, 5]: x0, y0, x1, y1 as fractions of the
          frame's width/height, then a score in [0, 1]. Rows below ``min_score`` are dropped and
          the rest go through non-max suppression here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Detection:
    x: int
    y: int
    w: int
    h: int
    score: float

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)


class Detector(Protocol):
    name: str

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Person boxes in frame pixels, best first."""
        ...

    def describe(self) -> dict:
        """Name, version and parameters, stored with each crop."""
        ...


def nms(boxes: list[tuple[int, int, int, int]], scores: list[float], min_score: float, iou: float) -> list[int]:
    import cv2

    if not boxes:
        return []
    keep = cv2.dnn.NMSBoxes([list(map(int, b)) for b in boxes], [float(s) for s in scores], min_score, iou)
    return sorted(np.asarray(keep).ravel().tolist(), key=lambda i: -scores[i])


#: The frame height HOG looks at: a video's frames are scaled by REFERENCE_HEIGHT / their height (576-line
#: PAL footage by 1.5, as before), at least 1 (HD frames are not shrunk: their far-away people stay) and at most
#: MAX_UPSCALE. A person spans about the same share of the frame's height at any recording resolution, and the
#: 64x128 window finds people about 100 pixels tall: at a fixed 1.5 a 384x288 or CIF export of the bundled
#: footage gave no person at all (people 40-75 pixels tall), and HD footage was enlarged for nothing.
REFERENCE_HEIGHT = 864
HOG_WINDOW = (64, 128)  # OpenCV's default people detector's window (width, height)
HOG_PADDING = 8
MAX_UPSCALE = 4.0
DEFAULT_UPSCALE = 1.5  # a detector not fitted to a video's frames (``for_frames``)


def upscale_for(height: int) -> float:
    """How much HOG enlarges frames ``height`` pixels tall (see REFERENCE_HEIGHT)."""
    return round(min(MAX_UPSCALE, max(1.0, REFERENCE_HEIGHT / height)), 3) if height > 0 else DEFAULT_UPSCALE


class HogDetector:
    """OpenCV's weight-free HOG people detector (64x128 window).

    People in CCTV are often smaller than the window, so the frame is upscaled first (``upscale``: by
    default fitted to each video's frame height, ``for_frames``), and HOG's loose boxes (the window has a
    margin round the body) are tightened toward the body.
    """

    name = "opencv-hog"
    version = "1"  # on the grey image

    def __init__(self, upscale: float | None = None, win_stride: int = 8, scale: float = 1.05, min_score: float = 1.0,
                 nms_iou: float = 0.4, tighten: tuple[float, float] = (0.74, 0.90)):
        self.upscale_given = upscale is not None  # False: for_frames fits it to a video's frame height
        self.upscale = DEFAULT_UPSCALE if upscale is None else upscale
        self.win_stride = win_stride
        self.scale = scale
        self.min_score = min_score
        self.nms_iou = nms_iou
        self.tighten = tighten
        self._hog = None

    def describe(self) -> dict:
        import cv2

        return {"name": self.name, "version": self.version, "opencv": cv2.__version__,
                "params": {"upscale": self.upscale, "win_stride": self.win_stride, "scale": self.scale,
                           "min_score": self.min_score, "nms_iou": self.nms_iou,
                           "tighten_w_h": list(self.tighten)},
                **({} if self.upscale_given else {"upscale_rule": f"frame height scaled to {REFERENCE_HEIGHT} px, "
                                                          f"by 1 to {MAX_UPSCALE:g}"})}

    def for_frames(self, width: int, height: int) -> "HogDetector":
        """This detector for one video's frames: its upscale fitted to their height (unless it was given)."""
        if self.upscale_given:
            return self
        fitted = HogDetector(upscale_for(height), self.win_stride, self.scale, self.min_score, self.nms_iou,
                             self.tighten)
        fitted.upscale_given = False  # from the rule: described with it, and fitted again for other frames
        return fitted

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        import cv2

        if self._hog is None:
            self._hog = cv2.HOGDescriptor()
            self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        fh, fw = rgb.shape[:2]
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)  # same detections as on colour here, ~1.5x faster
        img = gray if self.upscale == 1 else cv2.resize(gray, None, fx=self.upscale, fy=self.upscale,
                                                       interpolation=cv2.INTER_LINEAR)
        if img.shape[0] + 2 * HOG_PADDING < HOG_WINDOW[1] or img.shape[1] + 2 * HOG_PADDING < HOG_WINDOW[0]:
            return []  # no window fits, so no one to find; and OpenCV crashed the process on some such images
        rects, weights = self._hog.detectMultiScale(img, winStride=(self.win_stride, self.win_stride),
                                                    padding=(HOG_PADDING, HOG_PADDING), scale=self.scale)
        if len(rects) == 0:
            return []
        boxes = [tuple(int(round(v / self.upscale)) for v in r) for r in rects]
        scores = [float(s) for s in np.asarray(weights).ravel()]
        out = []
        for i in nms(boxes, scores, self.min_score, self.nms_iou):
            box = tighten(boxes[i], fw, fh, *self.tighten)
            if box is not None:
                out.append(Detection(*box, scores[i]))
        return out


def tighten(box, frame_w: int, frame_h: int, fw: float, fh: float) -> tuple[int, int, int, int] | None:
    """Clip a box to the frame and shrink it about its centre to fw x fh of its size."""
    x, y, w, h = box
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(frame_w, x + w), min(frame_h, y + h)
    w, h = x1 - x0, y1 - y0
    if w < 4 or h < 8:
        return None
    tw, th = max(2, int(round(w * fw))), max(4, int(round(h * fh)))
    nx = int(round(x0 + w / 2 - tw / 2))
    ny = int(round(y0 + h / 2 - th / 2))
    return nx, ny, tw, th


class OnnxPersonDetector:
    """A person detector exported to ONNX (see the module's contract), run by onnxruntime on CPU."""

    name = "onnx-person"
    version = "1"

    def __init__(self, model: str | Path, min_score: float = 0.5, nms_iou: float = 0.45):
        import onnxruntime as ort

        from ..hashing import sha256_file

        self.model = Path(model)
        self.model_sha256 = sha256_file(self.model)
        self.min_score = min_score
        self.nms_iou = nms_iou
        try:
            self.session = ort.InferenceSession(str(self.model), providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001  (onnxruntime raises its own untyped errors)
            from .decode import VideoError

            raise VideoError(f"the person detector {self.model.name} cannot be loaded ({exc})") from None
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        shape = inp.shape
        self.size = (shape[2] if isinstance(shape[2], int) else 480,
                     shape[3] if isinstance(shape[3], int) else 640)

    def describe(self) -> dict:
        return {"name": self.name, "version": self.version, "model": self.model.name,
                "model_sha256": self.model_sha256,
                "params": {"input_hw": list(self.size), "min_score": self.min_score, "nms_iou": self.nms_iou}}

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        import cv2

        fh, fw = rgb.shape[:2]
        h, w = self.size
        x = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
        x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        out = np.asarray(self.session.run(None, {self.input_name: x})[0], dtype=np.float32)
        out = out.reshape(-1, 5) if out.size else np.zeros((0, 5), np.float32)
        boxes, scores = [], []
        for x0, y0, x1, y1, s in out:
            if not np.isfinite([x0, y0, x1, y1, s]).all():
                continue
            bx0, by0 = int(round(min(x0, x1) * fw)), int(round(min(y0, y1) * fh))
            bx1, by1 = int(round(max(x0, x1) * fw)), int(round(max(y0, y1) * fh))
            bx0, by0, bx1, by1 = max(0, bx0), max(0, by0), min(fw, bx1), min(fh, by1)
            if bx1 - bx0 >= 2 and by1 - by0 >= 4:
                boxes.append((bx0, by0, bx1 - bx0, by1 - by0))
                scores.append(float(s))
        return [Detection(*boxes[i], scores[i]) for i in nms(boxes, scores, self.min_score, self.nms_iou)]


def pack_detector(pack: str | Path) -> OnnxPersonDetector:
    """The ``detector`` component of a model pack, its file checked against the manifest's SHA-256.

    Manifest entry: ``"detector": {"onnx": "detector/person.onnx", "files": {"detector/person.onnx":
    {"sha256": ..., "size": ...}}}``. VideoError (one sentence) when the pack has none or it was altered.
    """
    from ..full.pack import read_manifest, resolve_pack
    from ..hashing import sha256_file
    from .decode import VideoError

    folder = resolve_pack(pack)
    manifest = read_manifest(folder)
    entry = manifest.components.get("detector")
    rel = entry.get("onnx") if isinstance(entry, dict) else None
    if not rel or not (folder / rel).is_file():
        raise VideoError(f"the model pack {folder} has no person detector (component 'detector'); "
                         "use --detector hog")
    expected = entry.get("files", {}).get(rel)
    expected = expected.get("sha256") if isinstance(expected, dict) else expected
    if expected and sha256_file(folder / rel) != expected:
        raise VideoError(f"the person detector {rel} in the model pack {folder} does not match its manifest "
                         "(altered or damaged); re-copy the pack")
    return OnnxPersonDetector(folder / rel)
