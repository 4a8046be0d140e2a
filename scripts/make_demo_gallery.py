#!/usr/bin/env python3
"""Cut the bundled demo gallery (``resources/demo/crops/``) from OpenCV's sample video ``vtest.avi``.

Usage (from the repository root)::

    python scripts/make_demo_gallery.py --video PATH/TO/vtest.avi

How a crop is made:

1. A background image is the per-pixel median of frames spread over the whole clip (the camera is
   fixed), so a detection can be checked for a moving person inside it.
2. Every ``--step``-th frame is upscaled by ``--upscale`` (people in this clip are ~90 px tall and
   OpenCV's HOG people detector has a 64x128 window) and scanned with
   ``cv2.HOGDescriptor_getDefaultPeopleDetector``.
3. Detections below ``--min-score`` are dropped, the rest go through non-max suppression.
4. A detection is kept only if enough of its pixels differ from the background (this removes the
   static false positives HOG finds on railings, signs and tripods).
5. HOG boxes are loose (the window has a margin around the body), so each box is tightened, but
   never below the minimum crop size of 40x80 px; boxes that are smaller than that are discarded.
6. A crop that is near-identical to a crop kept at the same place in one of the previous sampled
   frames (someone standing still) is skipped.

Crops are written as ``cam01/2024-05-01T12-00-SS_fNNNN_dK.jpg``: ``cam01`` is the camera id, the time
is synthetic (frame index / fps added to a fixed clock time, ``--start``), ``NNNN`` is the frame index
and ``K`` the detection number in that frame. ``provenance.csv`` beside the crops folder records the
frame, box and detector score of every crop. Output is deterministic for a given video and options.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "resources" / "demo"
CAMERA = "cam01"
MIN_W, MIN_H = 40, 80


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--video", required=True, help="path to vtest.avi (OpenCV's sample data; Debian's opencv-doc has it)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="demo folder (crops/ and provenance.csv go here)")
    p.add_argument("--step", type=int, default=14, help="scan every N-th frame (default 14)")
    p.add_argument("--upscale", type=float, default=1.5, help="upscale factor before detection (default 1.5)")
    p.add_argument("--min-score", type=float, default=1.0, help="minimum HOG SVM score (default 1.0)")
    p.add_argument("--nms-iou", type=float, default=0.4, help="non-max suppression IoU (default 0.4)")
    p.add_argument("--min-foreground", type=float, default=0.18,
                   help="share of box pixels that must differ from the background (default 0.18)")
    p.add_argument("--quality", type=int, default=88, help="JPEG quality (default 88)")
    p.add_argument("--start", default="2024-05-01T12:00:00", help="synthetic clock time of frame 0")
    p.add_argument("--contact-sheet", help="also write a PNG contact sheet of all crops here")
    return p.parse_args(argv)


def median_background(cap: cv2.VideoCapture, n_frames: int, samples: int = 60) -> np.ndarray:
    frames = []
    for idx in np.linspace(0, n_frames - 1, samples).astype(int):
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(idx))
        ok, frame = cap.read()
        if ok:
            frames.append(frame)
    return np.median(np.stack(frames), axis=0).astype(np.uint8)


def detect(hog: cv2.HOGDescriptor, frame: np.ndarray, upscale: float, min_score: float,
           nms_iou: float) -> list[tuple[tuple[int, int, int, int], float]]:
    """(x, y, w, h) boxes in frame coordinates with SVM scores, after NMS, best first."""
    big = cv2.resize(frame, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_LINEAR)
    rects, weights = hog.detectMultiScale(big, winStride=(8, 8), padding=(8, 8), scale=1.05)
    if len(rects) == 0:
        return []
    boxes = [[int(round(v / upscale)) for v in r] for r in rects]
    scores = [float(w) for w in np.asarray(weights).ravel()]
    keep = cv2.dnn.NMSBoxes(boxes, scores, min_score, nms_iou)
    keep = sorted(np.asarray(keep).ravel().tolist(), key=lambda i: -scores[i])
    return [(tuple(boxes[i]), scores[i]) for i in keep]


def tighten(box: tuple[int, int, int, int], frame_w: int, frame_h: int) -> tuple[int, int, int, int] | None:
    """Shrink a loose HOG box toward the body (not below 40x80); None if the box is too small."""
    x, y, w, h = box
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(frame_w, x + w), min(frame_h, y + h)
    w, h = x1 - x0, y1 - y0
    if w < MIN_W or h < MIN_H:
        return None
    # The default detector's 64x128 window holds a ~40x100 body: trim 13 % a side, 5 % top/bottom.
    tw = max(MIN_W, int(round(w * 0.74)))
    th = max(MIN_H, int(round(h * 0.90)))
    cx, cy = x0 + w / 2, y0 + h / 2
    nx = int(round(cx - tw / 2))
    ny = int(round(cy - th / 2))
    return nx, ny, tw, th


def foreground_share(frame: np.ndarray, background: np.ndarray, box: tuple[int, int, int, int]) -> float:
    x, y, w, h = box
    diff = cv2.absdiff(frame[y:y + h, x:x + w], background[y:y + h, x:x + w]).max(axis=2)
    return float((diff > 35).mean())


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def signature(crop: np.ndarray) -> np.ndarray:
    return cv2.resize(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), (16, 32), interpolation=cv2.INTER_AREA).astype(np.float32)


def contact_sheet(paths: list[Path], out: Path, cols: int = 16, cell: tuple[int, int] = (64, 128)) -> None:
    rows = (len(paths) + cols - 1) // cols
    sheet = np.full((rows * (cell[1] + 14), cols * (cell[0] + 4), 3), 255, np.uint8)
    for i, path in enumerate(paths):
        img = cv2.resize(cv2.imread(str(path)), cell, interpolation=cv2.INTER_AREA)
        r, c = divmod(i, cols)
        y, x = r * (cell[1] + 14), c * (cell[0] + 4)
        sheet[y:y + cell[1], x:x + cell[0]] = img
        cv2.putText(sheet, str(i), (x + 2, y + cell[1] + 11), cv2.FONT_HERSHEY_PLAIN, 0.8, (0, 0, 0), 1)
    cv2.imwrite(str(out), sheet)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cap = cv2.VideoCapture(args.video)
    if not cap.isOpened():
        print(f"Cannot open the video {args.video}; pass its path with --video.", file=sys.stderr)
        return 2
    n_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    fps = cap.get(cv2.CAP_PROP_FPS) or 10.0
    start = datetime.fromisoformat(args.start)
    background = median_background(cap, n_frames)
    frame_h, frame_w = background.shape[:2]

    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    out = Path(args.out)
    crops_dir = out / "crops" / CAMERA
    crops_dir.mkdir(parents=True, exist_ok=True)
    for old in crops_dir.glob("*.jpg"):
        old.unlink()

    rows: list[dict] = []
    written: list[Path] = []
    recent: list[list[tuple[tuple[int, int, int, int], np.ndarray]]] = []  # kept crops of previous sampled frames
    stats = {"detections": 0, "small": 0, "static": 0, "duplicate": 0}
    for index in range(0, n_frames, args.step):
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = cap.read()
        if not ok:
            break
        kept_here: list[tuple[tuple[int, int, int, int], np.ndarray]] = []
        k = 0
        for raw_box, score in detect(hog, frame, args.upscale, args.min_score, args.nms_iou):
            stats["detections"] += 1
            box = tighten(raw_box, frame_w, frame_h)
            if box is None:
                stats["small"] += 1
                continue
            if foreground_share(frame, background, box) < args.min_foreground:
                stats["static"] += 1
                continue
            x, y, w, h = box
            crop = frame[y:y + h, x:x + w]
            sig = signature(crop)
            if any(iou(box, b) > 0.6 and np.abs(sig - s).mean() < 6.0 for prev in recent for b, s in prev):
                stats["duplicate"] += 1
                continue
            kept_here.append((box, sig))
            stamp = start + timedelta(seconds=index / fps)
            name = f"{stamp.strftime('%Y-%m-%dT%H-%M-%S')}_f{index:04d}_d{k}.jpg"
            path = crops_dir / name
            cv2.imwrite(str(path), crop, [cv2.IMWRITE_JPEG_QUALITY, args.quality])
            written.append(path)
            rows.append({"file": f"crops/{CAMERA}/{name}", "frame": index,
                         "time": stamp.isoformat(timespec="milliseconds"), "x": x, "y": y, "w": w, "h": h,
                         "hog_score": f"{score:.3f}"})
            k += 1
        recent = (recent + [kept_here])[-2:]
        if sys.stderr.isatty():
            print(f"\rframe {index + 1}/{n_frames}: {len(written)} crops", end="", file=sys.stderr)
    if sys.stderr.isatty():
        print(file=sys.stderr)

    with open(out / "provenance.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["file"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    total = sum(p.stat().st_size for p in written)
    print(f"{len(written)} crops, {total / 1e6:.2f} MB in {crops_dir} "
          f"(detections {stats['detections']}, too small {stats['small']}, static {stats['static']}, "
          f"duplicates {stats['duplicate']})")
    if args.contact_sheet:
        contact_sheet(written, Path(args.contact_sheet))
    return 0


if __name__ == "__main__":
    sys.exit(main())
