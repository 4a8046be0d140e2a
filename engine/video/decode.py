"""Decode a video with PyAV: every frame once, in order, each with its index and pts.

Contract: a frame's *index* is its position among all decoded frames of the source video, from 0
(not among the sampled frames); its *pts* is its presentation time in seconds from the stream's
start, read from the container (variable frame rate is timed frame by frame). Resuming seeks to a
keyframe whose index and pts were recorded during an earlier pass, and checks it landed there.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

MAX_PIXELS = 36_000_000  # above 8K UHD (33 MP): refuse rather than exhaust memory


class VideoError(Exception):
    """A video that cannot be imported; the message is one sentence for the import report."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float | None            # declared average rate (informative; timing uses pts)
    frames_declared: int | None  # from the container, may be 0/absent or wrong
    duration_s: float | None
    codec: str
    creation_time: str | None    # container metadata, ISO 8601, when present


@dataclass
class Frame:
    index: int
    pts: float  # seconds
    raw_pts: int | None
    key: bool
    _frame: object

    def rgb(self) -> np.ndarray:
        return upright(self._frame)


def quarter_turns(frame) -> int:
    """Counter-clockwise quarter turns the file asks for to show ``frame`` upright (its display matrix: a
    phone held sideways records the picture on its side and says so); 0 when it asks for none or for an
    angle that is not a quarter turn."""
    angle = getattr(frame, "rotation", 0) or 0
    turns = round(angle / 90)
    return turns % 4 if abs(angle - 90 * turns) < 1 else 0


def upright(frame) -> np.ndarray:
    """A decoded frame as RGB (H, W, 3) the way a player shows it: turned as the file's display matrix says.
    Every box and crop of a video is in this picture."""
    rgb = frame.to_ndarray(format="rgb24")
    turns = quarter_turns(frame)
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def check_regular(path: Path) -> None:
    """Refuse FIFOs, devices and sockets without opening them."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise VideoError(f"cannot read the file ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise VideoError("not a regular file (a pipe, device or socket); skipped without opening it")


def _open(path: Path):
    import av

    check_regular(path)
    if os.path.getsize(path) == 0:
        raise VideoError("empty file (0 bytes)")
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise VideoError(f"cannot be opened as a video ({_short(exc)}); check that it is a complete "
                         "video export") from None
    if not container.streams.video:
        container.close()
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
        raise VideoError(f"holds no video stream ({kinds}); export the camera's video, not only its audio "
                         "or metadata")
    return container


def probe(path: Path) -> VideoInfo:
    container = _open(path)
    try:
        s = container.streams.video[0]
        w, h = int(s.codec_context.width or 0), int(s.codec_context.height or 0)
        if w * h == 0:
            raise VideoError("its video stream declares no picture size; the file is damaged")
        if w * h > MAX_PIXELS:
            raise VideoError(f"resolution {w}x{h} ({w * h / 1e6:.0f} megapixels) is above the "
                             f"{MAX_PIXELS // 1_000_000}-megapixel limit; export it at a lower resolution")
        fps = float(s.average_rate) if s.average_rate else None
        duration = None
        if s.duration is not None and s.time_base is not None:
            duration = float(s.duration * s.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        created = container.metadata.get("creation_time") or s.metadata.get("creation_time")
        if _first_turns(container) % 2:  # shown on its side: the picture's width and height as a player shows it
            w, h = h, w
        return VideoInfo(w, h, fps, int(s.frames or 0) or None, duration, s.codec_context.name,
                         _iso(created))
    finally:
        container.close()


def _first_turns(container) -> int:
    """The display rotation of the first frame (quarter turns), 0 when none decodes."""
    import av

    try:
        return quarter_turns(next(container.decode(container.streams.video[0])))
    except (av.error.FFmpegError, StopIteration):
        return 0


class Reader:
    """Iterate the frames of a video from frame 0, or from a recorded keyframe.

    After iteration, ``stopped`` is None when the stream ended normally, otherwise one sentence
    saying where and why decoding stopped (truncated or damaged data).
    """

    def __init__(self, path: Path, key_frame: int = 0, key_pts: int | None = None):
        self.path = path
        self.key_frame = key_frame
        self.key_pts = key_pts
        self.stopped: str | None = None
        self.seeked = False
        self.last_index = -1
        self.untimed = 0  # frames the file gave no time for (a raw stream): timed at the declared or assumed rate
        self.assumed_fps: float | None = None

    def frames(self) -> Iterator[Frame]:
        import av

        container = _open(self.path)
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            tb = float(stream.time_base) if stream.time_base else None
            index = 0
            if self.key_frame > 0 and self.key_pts is not None:
                if self._seek(container, stream):
                    index = self.key_frame
                    self.seeked = True
                else:  # the seek did not land on the recorded keyframe: decode from the start
                    container.close()
                    container = _open(self.path)
                    stream = container.streams.video[0]
            step = 1.0 / float(stream.average_rate) if stream.average_rate else 0.04
            prev_pts = -step
            frames = container.decode(stream)
            while True:
                try:
                    f = next(frames)
                except StopIteration:
                    break
                except av.error.FFmpegError as exc:
                    self.stopped = (f"decoding stopped after frame {index - 1} "
                                    f"({max(prev_pts, 0):.2f} s): {_short(exc)}; the file is truncated or "
                                    "damaged, the frames before it were imported")
                    break
                if f.pts is not None and tb is not None:
                    pts = f.pts * tb
                elif f.time is not None:
                    pts = float(f.time)
                else:
                    pts = prev_pts + step
                    self.untimed += 1
                    self.assumed_fps = 1.0 / step
                prev_pts = pts
                self.last_index = index
                yield Frame(index, pts, f.pts, bool(f.key_frame), f)
                index += 1
        finally:
            container.close()

    def _seek(self, container, stream) -> bool:
        import av

        try:
            container.seek(int(self.key_pts), stream=stream, backward=True, any_frame=False)
            first = next(container.decode(stream))
        except (av.error.FFmpegError, StopIteration):
            return False
        if first.pts != self.key_pts:
            return False
        container.seek(int(self.key_pts), stream=stream, backward=True, any_frame=False)
        return True


def sample_times(info_fps: float | None, sample_fps: float):
    """A predicate choosing frames by pts so that about ``sample_fps`` frames a second are processed."""
    state = {"next": None}
    period = 1.0 / sample_fps if sample_fps > 0 else 0.0

    def take(pts: float) -> bool:
        if state["next"] is None or pts >= state["next"] - 1e-6:
            base = pts if state["next"] is None or pts - state["next"] > period else state["next"]
            state["next"] = base + period
            return True
        return False

    return take


def _short(exc: Exception) -> str:
    strerror = getattr(exc, "strerror", None)  # FFmpeg's own words, without errno and path
    if strerror:
        return str(strerror)[:100]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:100]


def _iso(value: str | None) -> str | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.isoformat(timespec="seconds")
