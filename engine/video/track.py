"""Person tracking across sampled frames with ByteTrack from ``supervision`` 0.30.

Why this library: ByteTrack is a standard, well-tested multi-object tracker (Kalman motion model,
two-stage association of high- and low-score boxes) and supervision 0.30.x ships it with no
dependency on ``opencv-python`` (the ``trackers`` package pulls in opencv-python 5.x, which would
shadow our ``opencv-python-headless<5`` and its HOG detector). It is IoU-based, so the frames must
be sampled densely enough that a walking person's boxes overlap between samples (see the default
``--sample``). Tracking is sequential within a video; import parallelises by file.
"""

from __future__ import annotations

import numpy as np

from .detect import Detection


def score_to_confidence(score: float, detector: str) -> float:
    """ByteTrack wants a confidence in [0, 1]; HOG's SVM margin (about 0..4) is squashed by a logistic."""
    if detector == "opencv-hog":
        return float(1.0 / (1.0 + np.exp(-(score - 1.0) * 1.5)))
    return float(min(max(score, 0.0), 1.0))


class Tracker:
    """Wraps ``sv.ByteTrack``: detections of one sampled frame in, (local track id, detection) out."""

    def __init__(self, sample_fps: float, lost_after_s: float = 2.0, detector: str = "opencv-hog"):
        import supervision as sv

        self.sv = sv
        self.detector = detector
        # lost_track_buffer is counted in frames at frame_rate 30 (scaled inside ByteTrack)
        self.lost_frames = max(1, int(round(lost_after_s * sample_fps)))
        import warnings

        with warnings.catch_warnings():  # 0.30 warns that 0.31 moves ByteTrack out; we pin 0.30.x
            warnings.simplefilter("ignore", FutureWarning)
            self.byte = sv.ByteTrack(track_activation_threshold=0.35, lost_track_buffer=self.lost_frames,
                                     minimum_matching_threshold=0.8, frame_rate=30,
                                     minimum_consecutive_frames=2)

    def params(self) -> dict:
        return {"library": "supervision", "version": self.sv.__version__, "algorithm": "ByteTrack",
                "lost_track_buffer_samples": self.lost_frames, "track_activation_threshold": 0.35,
                "minimum_matching_threshold": 0.8, "minimum_consecutive_frames": 2}

    def update(self, detections: list[Detection]) -> list[tuple[int, Detection]]:
        sv = self.sv
        if detections:
            xyxy = np.array([[d.x, d.y, d.x + d.w, d.y + d.h] for d in detections], dtype=np.float32)
            conf = np.array([score_to_confidence(d.score, self.detector) for d in detections], dtype=np.float32)
        else:
            xyxy, conf = np.zeros((0, 4), np.float32), np.zeros((0,), np.float32)
        dets = sv.Detections(xyxy=xyxy, confidence=conf, class_id=np.zeros(len(conf), dtype=int),
                             data={"i": np.arange(len(conf))})
        out = self.byte.update_with_detections(dets)
        result = []
        for k in range(len(out)):
            tid = out.tracker_id[k]
            if tid is None or int(tid) < 0:
                continue
            result.append((int(tid), detections[int(out.data["i"][k])]))
        return result
