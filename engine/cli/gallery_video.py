"""The video parts of ``interreid gallery``: import options, progress per video, ``list``,
``tracks``, ``migrate`` and ``verify``."""

from __future__ import annotations

import os
import sys

from ..errors import UserError
from .output import ProgressBar, emit_json


def add_video_arguments(imp) -> None:
    imp.add_argument("--sample", type=float, default=None, metavar="FPS",
                     help="video frames examined per second of footage (default 5: a walking person moves "
                          "about 30 cm between samples, enough to follow everyone)")
    imp.add_argument("--detector", choices=("hog", "pack"), default="hog",
                     help="person detector for video: hog (OpenCV, no model needed; default) or pack "
                          "(the model pack's person detector, with --pack DIR)")
    imp.add_argument("--min-height", type=int, default=None, metavar="PX",
                     help="ignore people shorter than PX pixels in the video (default: a twelfth of the frame "
                          "height, between 24 and 48 pixels: 48 from 576-line video up, 24 at 288 lines)")


def video_options(args):
    from ..video.importer import DEFAULT_SAMPLE_FPS, VideoOptions

    sample = DEFAULT_SAMPLE_FPS if args.sample is None else args.sample
    if not 0.1 <= sample <= 120:
        raise UserError(f"--sample {sample} is out of range; give frames per second between 0.1 and 120.")
    min_height = args.min_height
    if min_height is not None and min_height < 8:
        raise UserError(f"--min-height {min_height} is too small; give at least 8 pixels.")
    if args.detector == "pack" and not getattr(args, "pack", None):
        raise UserError("--detector pack needs the model pack holding the detector; give --pack DIR.")
    return VideoOptions(sample_fps=sample, detector=args.detector, pack=getattr(args, "pack", None),
                        min_height=min_height)


class VideoBars:
    """One progress bar per video file: frames decoded, frames/s, ETA, tracks and crops so far."""

    def __init__(self):
        self.bar = None
        self.file = None

    def update(self, v: dict) -> None:
        if v.get("file") != self.file:
            self.close()
            self.file = v.get("file")
            total = v.get("frames_total") or 0
            label = f"video {v.get('file_number', 1)}/{v.get('files', 1)} {os.path.basename(self.file or '')}"
            self.bar = ProgressBar(label, total)
        if self.bar is not None:
            self.bar.update(v["frame"] + 1, f"{v.get('tracks', 0)} tracks {v.get('crops', 0)} crops")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class ImportBars:
    """An import's progress callback: a bar per video file (VideoBars) and one for the images."""

    def __init__(self, label: str, counts: bool = True):
        self.label, self.counts = label, counts
        self.videos = VideoBars()
        self.bar = None

    def __call__(self, p) -> None:
        if p.video is not None:
            self.videos.update(p.video)
            return
        if self.bar is None:
            self.bar = ProgressBar(self.label, p.total)
        self.bar.update(p.done, f"new {p.imported} dup {p.duplicates} skipped {p.skipped}" if self.counts else "")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.videos.close()


def print_videos(report) -> None:
    from ..report.words import noun
    from ..video.cameras import clock_words
    from ..video.importer import no_one_found, untimed_note

    for v in report.videos:
        name = v.get("path")
        status = v.get("status")
        if str(status).startswith("already"):
            print(f"video {name}: {status}.")
            continue
        resumed = f", resumed at frame {v['resumed_from_frame']}" if v.get("resumed_from_frame") else ""
        tracks, crops = int(v.get("tracks") or 0), int(v.get("crops") or 0)
        print(f"video {name}: {tracks} {noun(tracks, 'person', 'people')} tracked, {crops} {noun(crops, 'crop', 'crops')} kept "
              f"({v.get('frames_per_s')} frames/s{resumed}); camera {v.get('camera')} ({v.get('camera_from')}), "
              f"clock from {clock_words(v.get('time_from'))}.")
        nobody = no_one_found(v)
        if nobody:
            print(f"  {name}: {nobody} (see --min-height and --sample).")
        untimed = untimed_note(v)
        if untimed:
            print(f"  {name}: {untimed}.")


def register_video_commands(gsub) -> None:
    ls = gsub.add_parser("list", help="every image of a gallery with its source (and video frame, box, track)")
    ls.add_argument("gallery", metavar="DIR")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    tr = gsub.add_parser("tracks", help="every person track cut from video: camera, video, boxes, kept crops")
    tr.add_argument("gallery", metavar="DIR")
    tr.add_argument("--json", action="store_true")
    tr.add_argument("--montage", metavar="PNG", help="also draw every track as a row of crops to this PNG file")
    tr.set_defaults(func=cmd_tracks)
    mg = gsub.add_parser("migrate", help="bring a gallery made by an earlier interreid to the current format")
    mg.add_argument("gallery", metavar="DIR")
    mg.set_defaults(func=cmd_migrate)
    vf = gsub.add_parser("verify", help="re-hash a gallery's vector file block by block against the hashes recorded "
                                        "at import, and its image list against its manifest")
    vf.add_argument("gallery", metavar="DIR")
    vf.add_argument("--json", action="store_true")
    vf.set_defaults(func=cmd_verify)


def cmd_list(args) -> int:
    from ..gallery.store import Gallery
    from ..video.query import list_images

    with Gallery.open(args.gallery) as gallery:
        items = list_images(gallery)
    if args.json:
        emit_json(items)
        return 0
    for it in items:
        where = (f"{it['video']} frame {it['frame']} box {it['bbox']} track {it['track']}" if "video" in it
                 else it["source"])
        print(f"{it['row']:6d} {it['sha256'][:12]} {it['camera'] or '-':10s} {it['time'] or '-':29s} {where}")
    return 0


def cmd_tracks(args) -> int:
    from ..gallery.store import Gallery
    from ..video.query import list_tracks

    with Gallery.open(args.gallery) as gallery:
        tracks = list_tracks(gallery)
        if args.montage:
            from ..video.montage import track_montage

            n = track_montage(gallery, args.montage)
            print(f"wrote {n} tracks to {args.montage}", file=sys.stderr)
    if args.json:
        emit_json(tracks)
        return 0
    if not tracks:
        print("no person tracks: this gallery holds no video footage.")
    for t in tracks:
        print(f"track {t['track']:5d} {t['camera'] or '-':10s} frames {t['first_frame']}-{t['last_frame']} "
              f"({t['first_time']} .. {t['last_time']}) {len(t['boxes'])} boxes, crops at rows {t['rows']}")
    return 0


def cmd_migrate(args) -> int:
    from ..gallery import colour_cache, manifest, vector_store
    from ..gallery.store import Gallery
    from ..video.schema import migrate

    said_any = False
    with Gallery.open(args.gallery) as gallery:
        for step in (lambda: migrate(gallery),  # each step's sentence is printed as soon as it is done
                     lambda: vector_store.migrate_step(gallery) or vector_store.compact_step(gallery),
                     lambda: manifest.migrate_step(gallery), lambda: colour_cache.migrate_step(gallery)):
            said = step()
            for s in ([said] if isinstance(said, str) else said or []):
                print(f"Gallery {args.gallery}: {s}", flush=True)
                said_any = True
    if not said_any:
        print(f"Gallery {args.gallery} is already in the current format; nothing changed.")
    return 0


def cmd_verify(args) -> int:
    from ..gallery.store import Gallery
    from ..gallery.vector_store import verify_gallery

    with Gallery.open(args.gallery, read_only=True) as gallery:
        bar = ProgressBar("re-hashing vectors", len(gallery))
        result = verify_gallery(gallery, progress=lambda done, _n: bar.update(done))
        bar.close()
    if args.json:
        emit_json(result)
    else:
        for line in result["notes"]:
            print(line)
        for line in result["problems"]:
            print("PROBLEM: " + line)
        print("gallery verified: nothing altered" if result["ok"] else "GALLERY FAILED VERIFICATION")
    return 0 if result["ok"] else 1
