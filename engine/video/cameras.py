"""Camera name and clock of a video: ``cameras.csv`` beside the footage, else the folder, the
container's creation time, the file's modification time; each value says where it came from.

``cameras.csv`` (UTF-8, header row, one row per camera; looked for in the video's folder and every
folder above it up to the imported source folder, nearest first):

    pattern      glob on the video's path relative to the csv's folder (``*`` matches across
                 folders), e.g. ``north-gate/*.mp4`` or ``cam3_*.avi``; the first matching row wins
    camera       the camera's name as the investigator knows it
    start        wall-clock time of the video's first frame (pts 0), ISO 8601, e.g.
                 ``2024-05-01T12:00:00`` (optional: else container, else file time)
    offset_s     clock correction in seconds added to every time (a recorder running 95 s slow: 95)
    timezone     IANA zone (``Europe/London``) or offset (``+01:00``) for a ``start`` without one

Every crop's wall-clock time is start + pts + offset_s, written as ISO 8601 with its UTC offset.
"""

from __future__ import annotations

import csv
import fnmatch
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..gallery.metadata import camera_from_path

COLUMNS = ("pattern", "camera", "start", "offset_s", "timezone")


class CamerasCsvError(Exception):
    pass


@dataclass(frozen=True)
class Clock:
    camera: str
    camera_from: str          # "cameras.csv" | "path" | "folder"
    start: datetime | None    # aware
    time_from: str            # "cameras.csv" | "container creation time" | "file modification time"
    offset_s: float = 0.0

    def at(self, pts: float) -> str | None:
        if self.start is None:
            return None
        return (self.start + timedelta(seconds=pts + self.offset_s)).isoformat(timespec="milliseconds")


def clock_words(time_from: str | None) -> str:
    """Where a video's clock came from, as words that follow "clock from": "the cameras.csv file", "the
    container creation time", "the file modification time" (the stored value is the short name)."""
    if not time_from:
        return "nowhere (no time known)"
    return "the cameras.csv file" if time_from == "cameras.csv" else f"the {time_from}"


def _zone(name: str):
    name = name.strip()
    if not name:
        return None
    if name[0] in "+-":
        try:
            return datetime.fromisoformat("2000-01-01T00:00:00" + name).tzinfo
        except ValueError:
            raise CamerasCsvError(f"time zone '{name}' is not an offset like +01:00") from None
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # noqa: BLE001  (ZoneInfoNotFoundError, ValueError for odd names)
        raise CamerasCsvError(f"time zone '{name}' is unknown; use an IANA name or an offset like +01:00") from None


def read_cameras_csv(path: Path) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CamerasCsvError(f"{path} cannot be read ({exc})") from None
    for i, row in enumerate(rows, start=2):
        if not (row.get("pattern") or "").strip() or not (row.get("camera") or "").strip():
            raise CamerasCsvError(f"{path} line {i} needs both 'pattern' and 'camera' (columns: "
                                  f"{', '.join(COLUMNS)})")
    return rows


def find_row(video: Path, root: Path) -> tuple[dict, Path] | None:
    folder = video.parent
    while True:
        csv_path = folder / "cameras.csv"
        if csv_path.is_file():
            rel = video.relative_to(folder).as_posix()
            for row in read_cameras_csv(csv_path):
                if fnmatch.fnmatch(rel, row["pattern"].strip()) or fnmatch.fnmatch(video.name, row["pattern"].strip()):
                    return row, csv_path
        if folder == root or folder.parent == folder or root not in folder.parents:
            return None
        folder = folder.parent


def clock_for(video: Path, root: Path, container_time: str | None, mtime_ns: int) -> Clock:
    """Camera and start time of ``video`` (imported from source folder ``root``)."""
    found = find_row(video, root)
    rel = video.relative_to(root).as_posix() if video != root and root in video.parents else video.name
    camera = camera_from_path(rel)
    camera_from = "path"
    if camera is None:
        camera = video.parent.name or video.stem
        camera_from = "folder"
    start, time_from, offset = None, "", 0.0
    if found:
        row, csv_path = found
        camera, camera_from = row["camera"].strip(), "cameras.csv"
        zone = _zone(row.get("timezone") or "")
        try:
            offset = float((row.get("offset_s") or "0").strip() or 0)
        except ValueError:
            raise CamerasCsvError(f"{csv_path}: offset_s '{row.get('offset_s')}' is not a number of seconds") from None
        text = (row.get("start") or "").strip()
        if text:
            try:
                start = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise CamerasCsvError(f"{csv_path}: start '{text}' is not an ISO 8601 time like "
                                      "2024-05-01T12:00:00") from None
            if start.tzinfo is None:
                start = start.replace(tzinfo=zone) if zone else start.astimezone()  # local zone of this workstation
            time_from = "cameras.csv"
    if start is None and container_time:
        start = datetime.fromisoformat(container_time)
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        time_from = "container creation time"
    if start is None:
        start = datetime.fromtimestamp(mtime_ns / 1e9, tz=UTC).astimezone()
        time_from = "file modification time"
    return Clock(camera, camera_from, start, time_from, offset)
