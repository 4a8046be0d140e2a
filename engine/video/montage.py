"""A contact sheet of person tracks: one row per track, its box at evenly spread moments cut from
the source video (to check by eye that a track follows one person), the kept crops outlined."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def shown_boxes(boxes: list, kept: set[int], per_track: int) -> list[int]:
    """Indices of the boxes drawn for one track: spread evenly over its time, each kept crop's box always among
    them (in the place of the nearest spread one), so the outlines show every crop the gallery keeps."""
    idx = set(np.unique(np.linspace(0, len(boxes) - 1, min(per_track, len(boxes))).round().astype(int)).tolist())
    must = [i for i, b in enumerate(boxes) if b[0] in kept]
    for i in must:
        if i in idx:
            continue
        spare = sorted(j for j in idx if j not in must)
        if spare and len(idx) >= per_track:
            idx.remove(min(spare, key=lambda j: abs(j - i)))
        idx.add(i)
    return sorted(idx)


def track_montage(gallery, out: str | Path, per_track: int = 10, cell: tuple[int, int] = (48, 96)) -> int:
    """Write the sheet to ``out`` (PNG); returns the number of tracks drawn."""
    from .decode import Reader
    from .query import list_tracks

    tracks = [t for t in list_tracks(gallery) if t["status"] == "closed"]
    if not tracks:
        return 0
    wanted: dict[str, dict[int, list[tuple[int, int, tuple]]]] = {}
    kept_frames = {}
    widest = per_track  # more kept crops than per_track: the row holds them all
    for ti, t in enumerate(tracks):
        boxes = t["boxes"]
        kept = {r[0] for r in gallery.query("SELECT frame FROM crops WHERE track_id = ?", (t["track"],))}
        kept_frames[t["track"]] = kept
        idx = shown_boxes(boxes, kept, per_track)
        widest = max(widest, len(idx))
        for k, i in enumerate(idx):
            f, _pts, x, y, w, h = boxes[i]
            wanted.setdefault(t["video"], {}).setdefault(f, []).append((ti, k, (x, y, w, h)))
    cw, ch = cell
    label_w = 60
    sheet = Image.new("RGB", (label_w + widest * (cw + 2), len(tracks) * (ch + 4)), "white")
    draw = ImageDraw.Draw(sheet)
    for ti, t in enumerate(tracks):
        draw.text((2, ti * (ch + 4) + ch // 2 - 6), f"#{t['track']}", fill="black")
    for video, frames in wanted.items():
        for frame in Reader(Path(video)).frames():
            if frame.index not in frames:
                continue
            rgb = frame.rgb()
            for ti, k, (x, y, w, h) in frames[frame.index]:
                crop = Image.fromarray(rgb[y:y + h, x:x + w]).resize(cell)
                px, py = label_w + k * (cw + 2), ti * (ch + 4)
                sheet.paste(crop, (px, py))
                if frame.index in kept_frames[tracks[ti]["track"]]:
                    draw.rectangle([px, py, px + cw - 1, py + ch - 1], outline=(0, 200, 0), width=2)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return len(tracks)
