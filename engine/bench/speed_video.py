"""Video import speed: our pipeline (PyAV decode, HOG on sampled frames, ByteTrack, crops, embedding,
commits) against a reference path in the same run: OpenCV VideoCapture + the same HOG detector on
every frame, no tracking, nothing stored. Figures are frames of footage per second."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def _ref_fps(video: Path, frames: int) -> float:
    import cv2

    from ..video.detect import HogDetector

    det = HogDetector()
    cap = cv2.VideoCapture(str(video))
    t0 = time.perf_counter()
    n = 0
    while n < frames:
        ok, frame = cap.read()
        if not ok:
            break
        det.detect(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        n += 1
    cap.release()
    return n / (time.perf_counter() - t0)


def video_rows(frames: int = 200) -> list[dict]:
    """Rows for ``bench speed``; empty when the demo video is not bundled."""
    from ..demo import demo_video
    from ..embedder import create_embedder
    from ..gallery.importer import import_sources
    from ..gallery.store import Gallery
    from .speed import _row

    src = demo_video()
    if not src.is_file():
        return []
    import av

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "cam01" / "clip.avi"
        clip.parent.mkdir()
        with av.open(str(src)) as inp, av.open(str(clip), "w") as out:  # the first frames, re-encoded
            stream = inp.streams.video[0]
            s = out.add_stream("mpeg4", rate=int(round(float(stream.average_rate or 10))))
            s.width, s.height, s.pix_fmt = stream.codec_context.width, stream.codec_context.height, "yuv420p"
            s.options = {"qscale": "3"}
            for i, f in enumerate(inp.decode(stream)):
                if i >= frames:
                    break
                for p in s.encode(f.reformat(format="yuv420p")):
                    out.mux(p)
            for p in s.encode():
                out.mux(p)
        ref = _ref_fps(clip, frames)
        embedder = create_embedder("lite")
        with Gallery.create(Path(tmp) / "gallery", embedder.identity) as gallery:
            t0 = time.perf_counter()
            report = import_sources(gallery, embedder, [clip])
            elapsed = time.perf_counter() - t0
    v = report.videos[0]
    n = v.get("frames_decoded") or frames
    ours = n / elapsed
    stages = v.get("stage_seconds", {})
    total = sum(stages.values()) or 1.0
    share = {k: round(val / total, 3) for k, val in stages.items()}
    return [_row("video", f"video import, {n} frames 768x576 (decode+detect+track+crop+embed, sample "
                 f"{v.get('sampled_frames')} frames)", ours, "frames/s", ours / ref,
                 reference=f"OpenCV VideoCapture + HOG on every frame: {ref:.2f} frames/s",
                 stage_share=share, tracks=v.get("tracks"), crops=v.get("crops"))]
