"""Short test videos: synthetic walkers written with PyAV, and clips cut from the bundled vtest.avi."""

from __future__ import annotations

from pathlib import Path

import numpy as np

VTEST = Path(__file__).resolve().parent.parent / "resources" / "demo" / "vtest.avi"
W, H = 320, 240
#: (colour RGB, row of the top edge, start x, pixels per frame)
WALKERS = [((220, 30, 30), 40, 10, 4), ((30, 60, 220), 150, 290, -4)]
PERSON = (22, 60)  # w, h


def background() -> np.ndarray:
    rng = np.random.default_rng(7)
    bg = np.full((H, W, 3), 120, np.uint8)
    bg += rng.integers(0, 20, size=(H, W, 1), dtype=np.uint8)  # grey texture
    return bg


def walker_boxes(index: int) -> list[tuple[int, int, int, int, tuple[int, int, int]]]:
    out = []
    for colour, y, x0, dx in WALKERS:
        x = x0 + dx * index
        if -PERSON[0] < x < W:
            out.append((x, y, *PERSON, colour))
    return out


def draw(index: int) -> np.ndarray:
    frame = background().copy()
    for x, y, w, h, colour in walker_boxes(index):
        xa, xb = max(0, x), min(W, x + w)
        if xb > xa:
            frame[y:y + h, xa:xb] = colour
            frame[y:y + 12, xa:xb] = (200, 160, 130)  # a head
    return frame


def write_walkers(path: Path, frames: int = 60, fps: int = 10, codec: str = "mpeg4", gop: int = 10) -> Path:
    """Two coloured 'people' crossing a textured background in opposite directions."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        s = out.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.gop_size = gop
        s.options = {"qscale": "2"} if codec == "mpeg4" else {}
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(draw(i), format="rgb24")
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def cut_vtest(path: Path, start: int, frames: int, size: tuple[int, int] = (768, 576), turns: int = 0) -> Path:
    """Frames [start, start + frames) of the bundled vtest.avi re-encoded (MPEG-4 part 2, high quality),
    scaled to ``size`` (width, height; the original's 768 x 576 by default) as a lower-resolution export.
    ``turns``: the picture stored turned ``turns`` quarter turns clockwise, with a display matrix that turns
    it back (as a phone held sideways records; an .mp4 path, whose container keeps the matrix)."""
    import av
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(VTEST)) as inp, av.open(str(path), "w") as out:
        s = out.add_stream("mpeg4", rate=10)
        s.width, s.height = (size[1], size[0]) if turns % 2 else size
        s.pix_fmt = "yuv420p"
        s.options = {"qscale": "3"}
        if turns:
            s.set_display_rotation(90 * turns)
        for i, f in enumerate(inp.decode(video=0)):
            if i < start:
                continue
            if i >= start + frames:
                break
            rgb = f.to_ndarray(format="rgb24")
            if rgb.shape[:2] != (size[1], size[0]):
                rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            if turns:
                rgb = np.ascontiguousarray(np.rot90(rgb, -turns))
            for p in s.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


class BlobDetector:
    """A user's own detector (the interface in engine.video.detect): saturated blobs are people."""

    name = "test-blobs"

    def describe(self) -> dict:
        return {"name": self.name, "version": "1", "params": {"saturation": 40}}

    def detect(self, rgb: np.ndarray):
        import cv2

        from interreid.engine.video.detect import Detection

        sat = rgb.max(axis=2).astype(int) - rgb.min(axis=2).astype(int)
        mask = (sat > 40).astype(np.uint8)
        _n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        return [Detection(int(x), int(y), int(w), int(h), 2.0) for x, y, w, h, area in stats[1:] if area > 100]
