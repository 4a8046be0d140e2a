"""Import video files into a gallery: decode, detect people, track them, keep a few best crops per
track as lossless PNGs with their provenance, commit in steps so an interrupted import resumes.

What is committed when (one SQLite transaction each):
  * when a video starts: its ``videos`` row (status ``importing``) and its background image;
  * every ``commit_every_s`` seconds of footage (and when cancelled or at the end): the tracks that
    ended, with their boxes and chosen crops (PNG files written first, content-addressed; then image
    rows, vectors, crop provenance), the boxes and candidate crops of tracks still open (``pending``),
    and the resume point: ``next_frame`` (first frame not yet processed) and the last keyframe before
    it (index and pts) to seek to;
  * at the end: every remaining track closed, the video marked ``complete`` (or ``stopped`` with the
    frame where decoding failed).
Resuming an interrupted video seeks to the recorded keyframe, decodes from there without processing
until ``next_frame``, and starts a new tracker. A new track whose first box overlaps (IoU >= 0.3)
the last box of a track left open, within ``lost_after_s`` of it, continues that track's id and
crop candidates; open tracks nobody continues are closed. Track ids are gallery-wide and never reused.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..hashing import sha256_bytes, sha256_file
from .decode import Reader, VideoError, VideoInfo, check_regular, probe, sample_times
from .detect import Detection

DEFAULT_SAMPLE_FPS = 5.0
DEFAULT_MIN_HEIGHT = 48
#: Without --min-height the smallest person kept is fitted to the frame: a twelfth of its height, between
#: MIN_HEIGHT_FLOOR and DEFAULT_MIN_HEIGHT pixels (48 from 576 lines up; 24 at 384x288 or CIF, where the
#: bundled footage's people are 40-75 pixels tall and a fixed 48 kept 5 of them against 7 people at 24).
MIN_HEIGHT_FLOOR = 24
CROPS_PER_TRACK = 4


def no_one_found(result: dict) -> str | None:
    """Why a video that imported completely gave no crop, in words for the investigator (None when it gave some)."""
    if result.get("status") != "complete" or int(result.get("tracks") or 0):
        return None
    return (f"no one was found in it: people less than {result.get('min_height')} pixels tall, or seen in fewer "
            f"than {result.get('min_track_samples')} sampled frames, are not kept")


def untimed_note(result: dict) -> str | None:
    """A video whose file gives its frames no times (a raw H.264/H.265 stream without a container), in words for
    the investigator; None when every frame was timed by the file."""
    if not result.get("untimed_frames"):
        return None
    fps = result.get("assumed_fps") or 0
    return (f"the file gives its frames no times (a raw video stream): they were counted at {fps:g} frames a "
            "second, which may not be the camera's rate, so the times of its images, and how often it was "
            "sampled, may be wrong; export it in a container (.mp4, .mkv, .avi) if the recorder can")


def min_height_for(frame_height: int) -> int:
    """The smallest person (pixels) kept from frames ``frame_height`` pixels tall when the user gives none."""
    return int(min(DEFAULT_MIN_HEIGHT, max(MIN_HEIGHT_FLOOR, round(frame_height / 12)))) if frame_height > 0 \
        else DEFAULT_MIN_HEIGHT


@dataclass
class VideoOptions:
    """``sample_fps``: frames processed per second of footage. 5 by default: a walking person moves
    about 30 cm between samples, so consecutive boxes overlap and IoU tracking holds, while a person
    crossing a view for 2 s is still seen 10 times. ``crops_per_track``: 4 (one per quarter of the
    track's time), the candidate grid's size: different poses and sides of the same person without
    flooding the gallery with near-identical frames."""

    sample_fps: float = DEFAULT_SAMPLE_FPS
    detector: object = "hog"        # "hog" | "pack" | any object with the Detector interface
    pack: str | None = None
    min_height: int | None = None   # None: fitted to each video's frame height (min_height_for)
    crops_per_track: int = CROPS_PER_TRACK
    min_track_samples: int = 3
    slot_s: float = 1.0             # at most one candidate crop per second of a track
    lost_after_s: float = 2.0
    commit_every_s: float = 10.0
    min_foreground: float = 0.12
    #: Bhattacharyya coefficient between a box's colours and its track's below which the track is
    #: split (the tracker jumped to another person); on vtest.avi clean tracks stay above 0.90
    appearance_gate: float = 0.8
    #: run the detector only on regions that differ from the background (padded, merged), not the
    #: whole frame: the same people (the foreground check drops static detections anyway), found
    #: several times faster on footage where most of the scene is still
    moving_regions_only: bool = True


@dataclass
class _Candidate:
    frame: int
    pts: float
    box: tuple[int, int, int, int]
    score: float
    quality: float
    crop: np.ndarray  # RGB
    mask: np.ndarray | None


@dataclass
class _Track:
    track_id: int
    boxes: list[tuple[int, float, int, int, int, int, float]] = field(default_factory=list)
    slots: dict[int, _Candidate] = field(default_factory=dict)
    first_pts: float = 0.0
    last_seen_pts: float = 0.0
    n_saved_boxes: int = 0  # boxes already in track_boxes
    hist: np.ndarray | None = None  # running colour histogram of the person (appearance gate)
    committed: bool = False  # a tracks row exists


def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG", optimize=False)
    return buf.getvalue()


def _write_once(folder: Path, rel: str, data: bytes, salt: bytes | None = None) -> None:
    """Write an image file of the gallery (0600) unless it is there: sealed with the gallery's key when
    ``salt`` is given (an encrypted gallery: crops, masks and backgrounds are images of people)."""
    from ..storage.blobs import write_sealed

    out = folder / rel
    if out.exists():
        return
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_sealed(out, data, salt)


def iou(a, b) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def crop_quality(crop: np.ndarray, box, frame_w: int, frame_h: int, fg_share: float,
                 overlap: float) -> float:
    """Higher is better: taller, sharper, not cut by the frame border, not overlapping another person,
    mostly foreground."""
    import cv2

    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    sharp = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    x, y, w, h = box
    touches = x <= 1 or y <= 1 or x + w >= frame_w - 1 or y + h >= frame_h - 1
    q = h * np.log1p(sharp)
    q *= 0.3 if touches else 1.0
    q *= 1.0 - min(overlap, 0.9)
    q *= min(1.0, 0.5 + fg_share)
    return float(q)


def choose_crops(slots: dict[int, _Candidate], k: int) -> list[_Candidate]:
    """Up to ``k`` crops spread over the track's time: the slots in time order split into ``k`` runs,
    the best crop of each run."""
    ordered = [slots[s] for s in sorted(slots)]
    if not ordered:
        return []
    groups = np.array_split(np.arange(len(ordered)), min(k, len(ordered)))
    return [max((ordered[i] for i in g), key=lambda c: c.quality) for g in groups if len(g)]


def moving_regions(rgb: np.ndarray, background: np.ndarray, min_height: int) -> list[tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) regions of the frame that differ from the background, each padded to hold
    a whole person and at least a detector window, overlapping regions merged."""
    import cv2

    small = 4  # work at quarter resolution
    a = cv2.resize(rgb, None, fx=1 / small, fy=1 / small, interpolation=cv2.INTER_AREA).astype(np.int16)
    b = cv2.resize(background, None, fx=1 / small, fy=1 / small, interpolation=cv2.INTER_AREA).astype(np.int16)
    mask = (np.abs(a - b).max(axis=2) > 30).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    fh, fw = rgb.shape[:2]
    pad = max(24, min_height // 2)
    boxes = []
    for x, y, w, h, area in stats[1:]:
        if area * small * small < min_height * min_height * 0.05:
            continue  # a few pixels of noise
        x0, y0 = x * small - pad, y * small - pad
        x1, y1 = (x + w) * small + pad, (y + h) * small + pad
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2  # at least 2 x min_height tall, 1 x wide
        hh, hw = max(y1 - y0, 2 * min_height) / 2, max(x1 - x0, min_height) / 2
        boxes.append([max(0, int(cx - hw)), max(0, int(cy - hh)), min(fw, int(cx + hw)), min(fh, int(cy + hh))])
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a0, b0 = boxes[i], boxes[j]
                if a0[0] < b0[2] and b0[0] < a0[2] and a0[1] < b0[3] and b0[1] < a0[3]:
                    boxes[i] = [min(a0[0], b0[0]), min(a0[1], b0[1]), max(a0[2], b0[2]), max(a0[3], b0[3])]
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return [tuple(b) for b in boxes]


def make_detector(options: VideoOptions):
    from .detect import HogDetector, pack_detector

    if not isinstance(options.detector, str):
        return options.detector  # a user's own detector (engine.video.detect.Detector)
    if options.detector == "pack":
        if not options.pack:
            raise VideoError("--detector pack needs a model pack (--pack DIR)")
        return pack_detector(options.pack)
    return HogDetector()


class VideoImport:
    """Imports one video into a gallery (see the module docstring for what is committed when)."""

    def __init__(self, gallery, embedder, root: Path, path: Path, options: VideoOptions, detector,
                 progress: Callable[[dict], None] | None = None, cancel: Callable[[], bool] | None = None):
        self.gallery = gallery
        self.salt = gallery.thumb_salt  # an encrypted gallery: every image file written is sealed
        self.embedder = embedder
        self.root = root
        self.path = path
        self.options = options
        self.detector = detector
        self.progress = progress
        self.cancel = cancel
        self.result: dict = {"path": str(path)}
        self.stage_s = {"decode": 0.0, "detect": 0.0, "track": 0.0, "crop": 0.0, "embed_commit": 0.0}

    # -- the whole video --------------------------------------------------------------------
    def run(self) -> dict:
        from .background import median_background
        from .cameras import clock_for

        st = os.stat(self.path)
        known = self.gallery.query_one("SELECT sha256, status FROM videos WHERE path = ? AND size_bytes = ? AND "
                                       "mtime_ns = ?", (str(self.path), st.st_size, st.st_mtime_ns))
        if known and known[1] != "importing":
            self.result.update(sha256=known[0], status="already imported")
            return self.result
        tick = time.perf_counter()
        sha = known[0] if known else sha256_file(self.path)
        self.stage_s["hash"] = time.perf_counter() - tick
        self.sha = sha
        row = self.gallery.query_one("SELECT status, next_frame, resume_key_frame, resume_key_pts, background, "
                                     "camera, start_time, clock_offset_s FROM videos WHERE sha256 = ?", (sha,))
        if row and row[0] != "importing":  # same footage under another name or path
            self.result.update(sha256=sha, status="already imported (same SHA-256 as an imported video)")
            return self.result
        info = probe(self.path)
        self.info = info
        if hasattr(self.detector, "for_frames"):  # e.g. HOG's upscale fitted to the frame height (detect.py)
            self.detector = self.detector.for_frames(info.width, info.height)
        self.min_height = self.options.min_height or min_height_for(info.height)
        clock = clock_for(self.path, self.root, info.creation_time, st.st_mtime_ns)
        self.clock = clock
        folder = self.gallery.folder
        resumed_from = 0
        if row is None:
            tick = time.perf_counter()
            bg = median_background(self.path, info.duration_s)
            self.stage_s["background"] = time.perf_counter() - tick
            bg_rel = None
            if bg is not None:
                bg_rel = f"backgrounds/{sha}.png"
                _write_once(folder, bg_rel, _png(bg), self.salt)
            with self.gallery.transaction():
                self.gallery.execute(
                    "INSERT INTO videos(sha256, path, root, rel_path, size_bytes, mtime_ns, camera, camera_from,"
                    " start_time, time_from, clock_offset_s, width, height, fps, frames_declared, duration_s,"
                    " codec, sample_fps, detector, min_height, status, next_frame, background, imported_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (sha, str(self.path), str(self.root), self._rel(), st.st_size, st.st_mtime_ns, clock.camera,
                     clock.camera_from, clock.start.isoformat(timespec="milliseconds") if clock.start else None, clock.time_from,
                     clock.offset_s, info.width, info.height, info.fps, info.frames_declared, info.duration_s,
                     info.codec, self.options.sample_fps, json.dumps(self.detector.describe()),
                     self.min_height, "importing", 0, bg_rel, _now()))
            key_frame, key_pts, next_frame = 0, None, 0
        else:
            _, next_frame, key_frame, key_pts, bg_rel, _, _, _ = row
            bg = None
            if bg_rel and (folder / bg_rel).is_file():
                from ..storage.blobs import open_image

                with open_image(folder / bg_rel) as im:
                    bg = np.asarray(im.convert("RGB"))
            resumed_from = next_frame
        self.background = bg
        self.result.update(sha256=sha, camera=clock.camera, camera_from=clock.camera_from,
                           start_time=clock.start.isoformat(timespec="milliseconds") if clock.start else None,
                           time_from=clock.time_from,
                           resumed_from_frame=resumed_from)
        try:
            self._process(key_frame or 0, key_pts, next_frame or 0)
        except VideoError:
            # nothing was taken from it: forget it, so a fixed file is imported afresh
            with self.gallery.transaction():
                if not self.gallery.query_one("SELECT 1 FROM tracks WHERE video_sha256 = ?", (sha,)):
                    self.gallery.execute("DELETE FROM videos WHERE sha256 = ?", (sha,))
            raise
        return self.result

    def _rel(self) -> str:
        try:
            return self.path.relative_to(self.root).as_posix()
        except ValueError:
            return self.path.name

    # -- frames ------------------------------------------------------------------------------
    def _process(self, key_frame: int, key_pts: int | None, next_frame: int) -> None:
        from .track import Tracker

        opts = self.options
        reader = Reader(self.path, key_frame, key_pts)
        tracker = Tracker(opts.sample_fps, opts.lost_after_s, getattr(self.detector, "name", "?"))
        take = sample_times(self.info.fps, opts.sample_fps)
        self.tracks: dict[int, _Track] = {}   # local ByteTrack id -> track
        self.orphans = self._load_open_tracks()
        self.next_id = self.gallery.query_one("SELECT COALESCE(MAX(track_id) + 1, 1) FROM tracks")[0]
        self.closed: list[_Track] = []
        self.n_tracks = 0
        self.n_crops = 0
        self.n_dropped = 0
        self.n_samples = 0
        self.n_splits = 0
        last_key = (key_frame, key_pts)
        resume_pts = None
        last_commit_pts = None
        start = time.perf_counter()
        last_report = None  # the first processed frame is reported at once: a short clip shows progress too
        index = next_frame - 1
        tick = time.perf_counter()
        cancelled = False
        fw, fh = self.info.width, self.info.height
        last_pts = 0.0
        for frame in reader.frames():
            index = frame.index
            last_pts = frame.pts
            if frame.key and frame.raw_pts is not None:
                last_key = (frame.index, frame.raw_pts)
            if index < next_frame or not take(frame.pts):
                continue
            if resume_pts is None:
                resume_pts = frame.pts
            if last_commit_pts is None:
                last_commit_pts = frame.pts
            rgb = frame.rgb()
            fh, fw = rgb.shape[:2]
            now = time.perf_counter()
            self.stage_s["decode"] += now - tick
            tick = now
            dets = self._detect(rgb)
            now = time.perf_counter()
            self.stage_s["detect"] += now - tick
            tick = now
            tracked = tracker.update(dets)
            now = time.perf_counter()
            self.stage_s["track"] += now - tick
            tick = now
            self.n_samples += 1
            for lid, det in tracked:
                t = self.tracks.get(lid)
                hist = self._hist(rgb, det.box)
                if t is not None and t.hist is not None and hist is not None and \
                        float(np.sqrt(hist * t.hist).sum()) < opts.appearance_gate:
                    self.closed.append(self.tracks.pop(lid))  # the box now shows someone else: split
                    self.n_splits += 1
                    t = None
                if t is None:
                    t = self._new_track(det, frame.pts)
                    self.tracks[lid] = t
                if hist is not None:
                    t.hist = hist if t.hist is None else 0.7 * t.hist + 0.3 * hist
                self._observe(t, frame, rgb, det, dets, fw, fh)
            self._end_lost(frame.pts)
            self.stage_s["crop"] += time.perf_counter() - tick
            if frame.pts - last_commit_pts >= opts.commit_every_s:
                self._commit(index + 1, last_key, frame.pts)
                last_commit_pts = frame.pts
                if self.cancel is not None and self.cancel():
                    cancelled = True
                    break
            elapsed = time.perf_counter() - start
            if last_report is None or elapsed - last_report >= 0.5:
                last_report = elapsed
                self._report(index, frame.pts, next_frame, elapsed)
            tick = time.perf_counter()
        if cancelled:
            self.result.update(status="interrupted", next_frame=index + 1)
        else:
            for t in list(self.tracks.values()) + list(self.orphans.values()):
                self.closed.append(t)
            self.tracks, self.orphans = {}, {}
            declared = self.info.frames_declared
            if reader.stopped is None and index < 0:
                raise VideoError("holds no decodable frames (zero frames); the export is empty or damaged")
            duration = self.info.duration_s
            step = 1.0 / self.info.fps if self.info.fps else 0.1
            if reader.stopped is None and declared and index + 1 < declared * 0.98 and not reader.seeked:
                reader.stopped = (f"the video ended at frame {index} ({last_pts:.2f} s) of the {declared} it "
                                  "declares: the file is truncated, the frames before that point were imported")
            elif reader.stopped is None and not declared and duration and last_pts < duration - max(1.0, 3 * step):
                reader.stopped = (f"the video ended at frame {index} ({last_pts:.2f} s) of the {duration:.1f} s it "
                                  "declares: the file is truncated, the frames before that point were imported")
            status = "stopped" if reader.stopped else "complete"
            self._commit(index + 1, last_key, None, final=status, note=reader.stopped, frames=index + 1)
            self.result.update(status=status, note=reader.stopped, frames_decoded=index + 1,
                               untimed_frames=reader.untimed, assumed_fps=reader.assumed_fps)
        elapsed = time.perf_counter() - start
        if last_report is not None:  # where it ended, with the final counts
            self._report(index, last_pts, next_frame, elapsed)
        self.result.update(tracks=self.n_tracks, crops=self.n_crops, short_tracks_dropped=self.n_dropped,
                           min_height=self.min_height, min_track_samples=self.options.min_track_samples,
                           sampled_frames=self.n_samples, appearance_splits=self.n_splits, seconds=round(elapsed, 2),
                           frames_per_s=round((index + 1 - next_frame) / elapsed, 1) if elapsed else None,
                           stage_seconds={k: round(v, 2) for k, v in self.stage_s.items()},
                           seeked=reader.seeked)

    def _report(self, index: int, pts: float, next_frame: int, elapsed: float) -> None:
        if self.progress is not None:
            self.progress({"file": str(self.path), "frame": index, "pts": pts,
                           "frames_total": self.info.frames_declared, "duration_s": self.info.duration_s,
                           "frames_per_s": (index + 1 - next_frame) / elapsed if elapsed else None,
                           "tracks": self.n_tracks + len(self.tracks), "crops": self.n_crops})

    def _detect(self, rgb: np.ndarray) -> list[Detection]:
        out = []
        if self.background is not None and self.options.moving_regions_only:
            found = []
            for x0, y0, x1, y1 in moving_regions(rgb, self.background, self.min_height):
                found += [Detection(d.x + x0, d.y + y0, d.w, d.h, d.score)
                          for d in self.detector.detect(np.ascontiguousarray(rgb[y0:y1, x0:x1]))]
        else:
            found = self.detector.detect(rgb)
        for d in found:
            if d.h < self.min_height:
                continue
            if self.background is not None and self._fg_share(rgb, d.box) < self.options.min_foreground:
                continue  # nothing moving inside: a sign, railing or tripod
            out.append(d)
        return out

    def _fg_share(self, rgb, box) -> float:
        x, y, w, h = box
        a = rgb[y:y + h, x:x + w].astype(np.int16)
        b = self.background[y:y + h, x:x + w].astype(np.int16)
        if a.size == 0:
            return 0.0
        return float((np.abs(a - b).max(axis=2) > 35).mean())

    def _hist(self, rgb: np.ndarray, box) -> np.ndarray | None:
        """64-bin colour histogram of the moving pixels in the middle 60 % of the box's width."""
        x, y, w, h = box
        x0, x1 = max(0, x + w // 5), min(rgb.shape[1], x + w - w // 5)
        y0, y1 = max(0, y), min(rgb.shape[0], y + h)
        c = rgb[y0:y1, x0:x1]
        if c.size == 0:
            return None
        if self.background is not None:
            m = np.abs(c.astype(np.int16) - self.background[y0:y1, x0:x1].astype(np.int16)).max(2) > 30
        else:
            m = np.ones(c.shape[:2], bool)
        if m.sum() < 20:
            return None
        q = (c[m] // 64).astype(np.int64)
        hist = np.bincount(q[:, 0] * 16 + q[:, 1] * 4 + q[:, 2], minlength=64).astype(np.float64)
        return hist / hist.sum()

    def _new_track(self, det: Detection, pts: float) -> _Track:
        best, best_iou = None, 0.3
        for tid, t in self.orphans.items():  # continue a track left open by an interrupted import
            if pts - t.last_seen_pts > self.options.lost_after_s or not t.boxes:
                continue
            v = iou(t.boxes[-1][2:6], det.box)
            if v >= best_iou:
                best, best_iou = tid, v
        if best is not None:
            return self.orphans.pop(best)
        t = _Track(self.next_id, first_pts=pts, last_seen_pts=pts)
        self.next_id += 1
        return t

    def _observe(self, t: _Track, frame, rgb, det: Detection, dets, fw: int, fh: int) -> None:
        x, y, w, h = det.box
        x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
        if x1 - x0 < 4 or y1 - y0 < 8:
            return
        box = (x0, y0, x1 - x0, y1 - y0)
        t.boxes.append((frame.index, frame.pts, *box, det.score))
        t.last_seen_pts = frame.pts
        crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
        mask = None
        fg = 1.0
        if self.background is not None:
            from .background import foreground_mask

            mask = foreground_mask(crop, self.background[y0:y1, x0:x1])
            fg = float((mask > 0).mean())
        overlap = max((iou(box, o.box) for o in dets if o is not det), default=0.0)
        q = crop_quality(crop, box, fw, fh, fg, overlap)
        slot = int((frame.pts - t.first_pts) // self.options.slot_s)
        old = t.slots.get(slot)
        if old is None or q > old.quality:
            t.slots[slot] = _Candidate(frame.index, frame.pts, box, det.score, q, crop, mask)

    def _end_lost(self, pts: float) -> None:
        lost = self.options.lost_after_s + 1.0 / self.options.sample_fps
        for lid in [lid for lid, t in self.tracks.items() if pts - t.last_seen_pts > lost]:
            self.closed.append(self.tracks.pop(lid))
        for tid in [tid for tid, t in self.orphans.items() if pts - t.last_seen_pts > lost]:
            self.closed.append(self.orphans.pop(tid))

    # -- resume ------------------------------------------------------------------------------
    def _load_open_tracks(self) -> dict[int, _Track]:
        out: dict[int, _Track] = {}
        for (tid,) in self.gallery.query("SELECT track_id FROM tracks WHERE video_sha256 = ? AND status = 'open'",
                                         (self.sha,)):
            boxes = [tuple(r) for r in self.gallery.query(
                "SELECT frame, pts, x, y, w, h, score FROM track_boxes WHERE track_id = ? ORDER BY frame", (tid,))]
            t = _Track(tid, boxes=boxes, first_pts=boxes[0][1] if boxes else 0.0,
                       last_seen_pts=boxes[-1][1] if boxes else 0.0, n_saved_boxes=len(boxes), committed=True)
            for frame, pts, x, y, w, h, score, q, slot, png, mask in self.gallery.query(
                    "SELECT frame, pts, x, y, w, h, score, quality, slot, png, mask FROM pending "
                    "WHERE track_id = ?", (tid,)):
                crop = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
                m = np.asarray(Image.open(io.BytesIO(mask)).convert("L")) if mask else None
                t.slots[slot] = _Candidate(frame, pts, (x, y, w, h), score, q, crop, m)
            out[tid] = t
        return out

    # -- committing ----------------------------------------------------------------------------
    def _commit(self, next_frame: int, last_key, pts, final: str | None = None, note: str | None = None,
                frames: int | None = None) -> None:
        tick = time.perf_counter()
        folder = self.gallery.folder
        finished = [t for t in self.closed if len(t.boxes) >= self.options.min_track_samples]
        self.n_dropped += len(self.closed) - len(finished)
        dropped = [t for t in self.closed if len(t.boxes) < self.options.min_track_samples]
        chosen: list[tuple[_Track, _Candidate, str, str, str | None, int]] = []
        images = []
        for t in finished:
            for c in choose_crops(t.slots, self.options.crops_per_track):
                png = _png(c.crop)
                sha = sha256_bytes(png)  # the crop's identity: its PNG, hashed before it is sealed
                rel = f"crops/{sha[:2]}/{sha}.png"
                _write_once(folder, rel, png, self.salt)
                mrel = None
                if c.mask is not None:
                    mrel = f"masks/{sha[:2]}/{sha}.png"
                    _write_once(folder, mrel, _png(c.mask), self.salt)
                chosen.append((t, c, sha, rel, mrel, len(png)))
                img = Image.fromarray(c.crop)
                if c.mask is not None and getattr(self.embedder, "uses_masks", False):
                    img = img.copy()
                    img.putalpha(Image.fromarray(c.mask))
                images.append(img)
        vectors = self.embedder.embed_images(images) if images else None
        from ..gallery.importer import _write_thumbnail
        from ..gallery.store import NewImage

        detector = json.dumps({**self.detector.describe(), "moving_regions_only": bool(
            self.background is not None and self.options.moving_regions_only)}, sort_keys=True)
        with self.gallery.transaction():
            for t in finished:
                self._save_track(t, "closed")
                self.n_tracks += 1
            for t in dropped:
                if t.committed:
                    self.gallery.execute("DELETE FROM pending WHERE track_id = ?", (t.track_id,))
                    self.gallery.execute("UPDATE tracks SET status = 'dropped' WHERE track_id = ?", (t.track_id,))
            new_images: list[NewImage] = []
            crop_rows = []
            taken: set[str] = set()
            for i, (t, c, sha, rel, mrel, png_size) in enumerate(chosen):
                if sha in taken or self.gallery.row_of(sha) is not None:
                    continue  # an identical crop (same pixels) is already in the gallery
                taken.add(sha)
                thumb = _write_thumbnail(folder, sha, Image.fromarray(c.crop), self.salt)
                when = self.clock.at(c.pts)
                st = (folder / rel).stat()  # the file as stored (sealed in an encrypted gallery)
                new_images.append(NewImage(
                    sha, png_size, c.box[2], c.box[3], "PNG", self.clock.camera, when, thumb,
                    vectors[i].astype("float32").tobytes(),
                    (str(folder / rel), sha, str(folder), rel, st.st_size, st.st_mtime_ns)))
                crop_rows.append((sha, self.sha, t.track_id, c.frame, c.pts, when, *c.box, c.score, c.quality,
                                  detector, rel, mrel))
            self.gallery.add_images(new_images)  # joins this transaction
            self.gallery.executemany(
                "INSERT INTO crops(sha256, video_sha256, track_id, frame, pts, time, x, y, w, h, score, quality,"
                " detector, png, mask) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", crop_rows)
            self.n_crops += len(new_images)
            for t in list(self.tracks.values()) + list(self.orphans.values()):
                if len(t.boxes):
                    self._save_track(t, "open")
                    self.gallery.execute("DELETE FROM pending WHERE track_id = ?", (t.track_id,))
                    for slot, c in t.slots.items():
                        self.gallery.execute(
                            "INSERT INTO pending VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                            (t.track_id, c.frame, c.pts, *c.box, c.score, c.quality, slot, _png(c.crop),
                             _png(c.mask) if c.mask is not None else None))
            key_frame, key_pts = last_key
            self.gallery.execute("UPDATE videos SET next_frame = ?, resume_key_frame = ?, resume_key_pts = ? "
                                 "WHERE sha256 = ?", (next_frame, key_frame, key_pts, self.sha))
            if final:
                self.gallery.execute("UPDATE videos SET status = ?, note = ?, frames_decoded = ?, completed_at = ? "
                                     "WHERE sha256 = ?", (final, note, frames, _now(), self.sha))
        self.closed = []
        self.gallery.invalidate()
        self.stage_s["embed_commit"] += time.perf_counter() - tick

    def _save_track(self, t: _Track, status: str) -> None:
        first, last = t.boxes[0], t.boxes[-1]
        self.gallery.execute(
            "INSERT INTO tracks(track_id, video_sha256, camera, first_frame, last_frame, first_time, last_time, status)"
            " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(track_id) DO UPDATE SET last_frame = excluded.last_frame,"
            " last_time = excluded.last_time, status = excluded.status",
            (t.track_id, self.sha, self.clock.camera, first[0], last[0], self.clock.at(first[1]),
             self.clock.at(last[1]), status))
        self.gallery.executemany("INSERT OR REPLACE INTO track_boxes VALUES (?,?,?,?,?,?,?,?)",
                                 [(t.track_id, *b) for b in t.boxes[t.n_saved_boxes:]])
        t.n_saved_boxes = len(t.boxes)
        t.committed = True
        if status == "closed":
            self.gallery.execute("DELETE FROM pending WHERE track_id = ?", (t.track_id,))


def _now() -> str:
    from ..clock import utc_now

    return utc_now()


def import_video_files(gallery, embedder, pairs: list[tuple[Path, Path]], report, options: VideoOptions | None = None,
                       progress: Callable[[dict], None] | None = None, cancel: Callable[[], bool] | None = None) -> None:
    """Import each (root, video) pair; a video that cannot be imported gets one sentence in
    ``report.skipped`` (and the gallery's skipped list) and the others go on."""
    from .cameras import CamerasCsvError
    from .schema import has_video_tables

    if not pairs:
        return
    options = options or VideoOptions()
    if not has_video_tables(gallery):
        from ..errors import GalleryError

        raise GalleryError(f"Gallery {gallery.folder} was made by an earlier interreid (format "
                           f"{gallery.meta('schema_version')}) and cannot hold video yet; run 'interreid gallery "
                           f"migrate {gallery.folder}' first (it says what it changes).")
    detector = None
    for number, (root, path) in enumerate(pairs, start=1):
        def file_progress(v: dict, number=number) -> None:
            if progress is not None:
                progress({**v, "file_number": number, "files": len(pairs)})

        if cancel is not None and cancel():
            report.cancelled = True
            break
        try:
            check_regular(path)
            if detector is None:
                detector = make_detector(options)
            job = VideoImport(gallery, embedder, root, path, options, detector, file_progress, cancel)
            result = job.run()
        except (VideoError, CamerasCsvError) as exc:
            reason = str(exc)
            report.skipped.append((str(path), reason))
            _record_skip(gallery, path, reason)
            continue
        report.videos.append(result)
        if result.get("status") == "already imported" or str(result.get("status", "")).startswith("already"):
            report.already += 1
        else:
            report.imported += result.get("crops", 0)
        if result.get("note"):
            report.skipped.append((str(path), result["note"]))
        if result.get("status") == "interrupted":
            report.cancelled = True
            break


def _record_skip(gallery, path: Path, reason: str) -> None:
    try:
        st = os.stat(path)
        size, mtime = st.st_size, st.st_mtime_ns
    except OSError:
        size = mtime = None
    gallery.record_skipped(str(path), reason, size, mtime)


def video_info_dict(info: VideoInfo) -> dict:
    return {"width": info.width, "height": info.height, "fps": info.fps, "frames": info.frames_declared,
            "duration_s": info.duration_s, "codec": info.codec}


def collect_videos(sources: list[str | Path]) -> list[tuple[Path, Path]]:
    """(root, file) pairs for every video under the given folders (or given as files), sorted."""
    from .. import video

    pairs: list[tuple[Path, Path]] = []
    for src in sources:
        root = Path(src).expanduser().absolute()
        if root.is_dir():
            from ..gallery.importer import walk_files

            pairs.extend((root, p) for p in walk_files(root) if video.is_video(p.name))
        elif video.is_video(root) and (root.exists() or root.is_symlink()):
            pairs.append((root.parent, root))
    return pairs
