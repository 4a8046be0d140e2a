"""Frames of a source video around a moment, for showing a crop in its scene (the app's details view)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def frames_around(video: str | Path, pts: float, seconds: float = 2.0, max_width: int = 640,
                  max_frames: int = 81) -> list[tuple[float, np.ndarray]]:
    """(pts, RGB frame scaled to at most ``max_width``) for the frames within ``seconds`` of ``pts``,
    in order. Raises VideoError (one sentence) when the video cannot be read."""
    import av

    from .decode import _open, upright

    container = _open(Path(video))
    out: list[tuple[float, np.ndarray]] = []
    try:
        stream = container.streams.video[0]
        tb = float(stream.time_base)
        start = max(0.0, pts - seconds)
        try:
            container.seek(int(start / tb), stream=stream, backward=True)
        except av.error.FFmpegError:
            container.seek(0, stream=stream)
        for frame in container.decode(stream):
            t = frame.pts * tb if frame.pts is not None else float(frame.time or 0.0)
            if t < start - 1e-6:
                continue
            if t > pts + seconds + 1e-6 or len(out) >= max_frames:
                break
            rgb = upright(frame)
            h, w = rgb.shape[:2]  # as shown
            if w > max_width:
                import cv2

                rgb = cv2.resize(rgb, (max_width, int(round(h * max_width / w))), interpolation=cv2.INTER_AREA)
            out.append((t, rgb))
    except av.error.FFmpegError:
        pass  # show what decoded
    finally:
        container.close()
    return out


def track_boxes(gallery, track: int) -> list[tuple[int, float, int, int, int, int]]:
    """[(frame, pts, x, y, w, h)] of a track, in order."""
    return [tuple(r) for r in gallery.query(
        "SELECT frame, pts, x, y, w, h FROM track_boxes WHERE track_id = ? ORDER BY frame", (int(track),))]
