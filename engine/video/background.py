"""Per-camera background: the per-pixel temporal median of frames spread over the footage.

The camera is fixed, so the median of frames far apart in time is the empty scene. A crop's
foreground mask is where the crop differs from the background (max channel difference above
``THRESHOLD``), cleaned by a morphological open/close. The mask is stored beside each crop and the
lite embedder weights pixels by it instead of guessing the background from the crop's borders.
It also rejects detections with almost no foreground (railings, signs, tripods).
"""

from __future__ import annotations

import numpy as np

SAMPLES = 25
THRESHOLD = 30


def median_background(path, duration_s: float | None, samples: int = SAMPLES) -> np.ndarray | None:
    """RGB background of a video from up to ``samples`` frames spread over it (seeking); None if the
    video yields fewer than 3 frames."""
    import av

    from .decode import _open, upright

    frames: list[np.ndarray] = []
    seen_pts: set = set()
    container = _open(path)
    try:
        stream = container.streams.video[0]
        if duration_s and duration_s > 0 and stream.time_base:
            for t in np.linspace(0, duration_s * 0.98, samples):
                try:
                    container.seek(int(t / float(stream.time_base)), stream=stream, backward=True)
                    frame = next(container.decode(stream))
                except (av.error.FFmpegError, StopIteration):
                    continue
                if frame.pts in seen_pts:
                    continue  # the seek did not move (no index): do not count one frame twice
                seen_pts.add(frame.pts)
                frames.append(upright(frame))
        if len(frames) < max(3, samples // 2):  # no index or no duration: one pass, evenly thinned
            frames = []
            container.close()
            container = _open(path)
            stream = container.streams.video[0]
            step = 1
            try:
                for i, frame in enumerate(container.decode(stream)):
                    if i % step == 0:
                        frames.append(upright(frame))
                    if len(frames) >= 2 * samples:
                        frames = frames[::2]
                        step *= 2
            except av.error.FFmpegError:
                pass
    finally:
        container.close()
    if len(frames) < 3:
        return None
    return np.median(np.stack(frames), axis=0).astype(np.uint8)


def foreground_mask(crop: np.ndarray, background_crop: np.ndarray) -> np.ndarray:
    """uint8 (h, w) mask, 255 = person (differs from the background), 0 = background."""
    import cv2

    diff = np.abs(crop.astype(np.int16) - background_crop.astype(np.int16)).max(axis=2)
    mask = (diff > THRESHOLD).astype(np.uint8) * 255
    kernel = np.ones((3, 3), np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel, iterations=2)
    return mask
