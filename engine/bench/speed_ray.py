"""Ray Data ingest throughput (``bench speed --ray``): the same video clips imported by the
single-process import (the reference) and by the Ray Data pipeline on local workers, in one run.
Figures are frames of footage per second; the row also says whether both galleries hold the same
crops, tracks and provenance (they must)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def _cut(src: Path, out: Path, start: int, frames: int) -> int:
    """Frames [start, start + frames) of ``src`` re-encoded (MPEG-4 part 2); returns frames written."""
    import av

    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with av.open(str(src)) as inp, av.open(str(out), "w") as dst:
        stream = inp.streams.video[0]
        s = dst.add_stream("mpeg4", rate=int(round(float(stream.average_rate or 10))))
        s.width, s.height, s.pix_fmt = stream.codec_context.width, stream.codec_context.height, "yuv420p"
        s.options = {"qscale": "3"}
        for i, f in enumerate(inp.decode(stream)):
            if i < start:
                continue
            if i >= start + frames:
                break
            for p in s.encode(f.reformat(format="yuv420p")):
                dst.mux(p)
            n += 1
        for p in s.encode():
            dst.mux(p)
    return n


def _content(folder: Path) -> tuple:
    """What must be the same in both galleries: image hashes and vectors in row order, every crop's
    provenance, every track with its boxes."""
    from ..gallery.store import Gallery
    from ..video.query import crop_provenance, list_tracks

    with Gallery.open(folder) as g:
        shas = list(g.shas())
        provenance = [crop_provenance(g, sha) for sha in shas]
        return shas, g.vectors().tobytes(), provenance, list_tracks(g)


def ray_rows(clips: int = 4, frames_per_clip: int | None = None, workers: int = 2, progress=print) -> list[dict]:
    """Rows for ``bench speed --ray``: ``clips`` clips of the demo video (by default the whole video
    cut in ``clips`` parts), each under its own camera folder; empty when the video is not bundled or
    Ray is not installed."""
    from ..demo import demo_video
    from ..gallery.ray_ingest import RayOptions, ray_runtime
    from ..session import import_into
    from .speed import _row

    src = demo_video()
    if not src.is_file():
        return []
    try:
        import ray  # noqa: F401
    except ImportError:
        return []
    import av

    with av.open(str(src)) as inp:
        total = inp.streams.video[0].frames or 795
    per = frames_per_clip or total // clips
    with tempfile.TemporaryDirectory(prefix="interreid-bench-ray-") as tmp:
        footage = Path(tmp) / "footage"
        frames = sum(_cut(src, footage / f"cam{i + 1:02d}" / f"clip{i + 1}.avi", i * per, per) for i in range(clips))
        progress(f"bench: Ray ingest: single-process import of {clips} clips ({frames} frames)...")
        t0 = time.perf_counter()
        single = import_into(Path(tmp) / "single", [footage])
        t_single = time.perf_counter() - t0
        progress(f"bench: Ray ingest: starting Ray ({workers} local workers)...")
        t0 = time.perf_counter()
        options = RayOptions(workers=workers)
        with ray_runtime(options):
            t_start = time.perf_counter() - t0
            progress("bench: Ray ingest: the same clips through Ray Data...")
            t0 = time.perf_counter()
            ray = import_into(Path(tmp) / "ray", [footage], ray=options)
            t_ray = time.perf_counter() - t0
        a, b = _content(Path(tmp) / "single"), _content(Path(tmp) / "ray")
        differs = [name for name, x, y in zip(("image hashes", "vectors", "crop provenance", "tracks"), a, b)
                   if x != y]
        same = not differs
    busy = sum(v.get("worker_seconds") or 0.0 for v in ray.videos)  # the workers' own time on the videos
    alone = sum(v.get("seconds") or 0.0 for v in single.videos)  # the same videos' time in one process
    commit = sum(v.get("commit_seconds") or 0.0 for v in ray.videos)  # the serial part: this process's writes
    ref = frames / t_single
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    common = dict(reference=f"single-process import: {ref:.2f} frames/s ({t_single:.1f} s)",
                  same_gallery=same, differs=differs, crops=ray.imported, crops_single=single.imported, clips=clips,
                  frames=frames, workers=workers, cpus=os.cpu_count(),
                  load_average=None if load is None else round(load, 2),
                  ray_start_s=round(t_start, 1), ray_import_s=round(t_ray, 1), single_import_s=round(t_single, 1),
                  worker_busy_s=round(busy, 1), single_video_s=round(alone, 1), commit_s=round(commit, 2),
                  overlap=round(busy / t_ray, 2) if t_ray else None)  # > 1: the workers ran at the same time
    name = f"Ray Data ingest, {workers} local workers, {clips} clips x {per} frames"
    return [_row("ray", f"{name} (Ray running)", frames / t_ray, "frames/s", t_single / t_ray, **common),
            _row("ray", f"{name} (with Ray start-up)", frames / (t_ray + t_start), "frames/s",
                 t_single / (t_ray + t_start), **common)]
