"""Camera id and timestamp of a crop, from EXIF or from common folder/filename patterns."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePath

# cam03, camera_3, cam-12, c3 (as in Market-1501 names "0002_c1s1_..."), channel07, ch07
_CAMERA_PATTERNS = [
    re.compile(r"(?i)(?:^|[^a-z0-9])(cam(?:era)?[ _-]?\d{1,3})(?=$|[^0-9])"),
    re.compile(r"(?i)(?:^|[^a-z0-9])(ch(?:annel)?[ _-]?\d{1,3})(?=$|[^0-9])"),
    re.compile(r"(?i)(?:^|_)(c\d{1,2})s\d"),
]
# 2024-05-01T12-30-05, 2024-05-01 12:30:05, 20240501_123005, 2024_05_01-12.30.05
_TIME_PATTERN = re.compile(
    r"(?P<y>(?:19|20)\d{2})[-_.]?(?P<mo>[01]\d)[-_.]?(?P<d>[0-3]\d)"
    r"(?:[T _-]?(?P<h>[0-2]\d)[-_.:]?(?P<mi>[0-5]\d)(?:[-_.:]?(?P<s>[0-5]\d))?)?"
)

_EXIF_DATETIME_ORIGINAL = 0x9003
_EXIF_DATETIME = 0x0132
_EXIF_IFD = 0x8769


def camera_from_path(rel_path: str) -> str | None:
    """Camera id from the folder names or file name, normalised as ``cam03``; None if absent."""
    parts = PurePath(rel_path).parts
    for part in reversed(parts):
        for pattern in _CAMERA_PATTERNS:
            m = pattern.search(PurePath(part).stem if part == parts[-1] else part)
            if m:
                digits = re.sub(r"\D", "", m.group(1))
                return f"cam{int(digits):02d}"
    return None


def timestamp_from_path(rel_path: str) -> str | None:
    """ISO-8601 timestamp (no timezone: CCTV clocks are local) from the path; None if absent."""
    for part in reversed(PurePath(rel_path).parts):
        for m in _TIME_PATTERN.finditer(part):
            try:
                dt = datetime(int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"] or 0),
                              int(m["mi"] or 0), int(m["s"] or 0))
            except ValueError:
                continue
            return dt.isoformat(timespec="seconds") if m["h"] else dt.date().isoformat()
    return None


def timestamp_from_exif(image) -> str | None:
    """DateTimeOriginal (or DateTime) of a PIL image as ISO-8601; None if absent or unreadable."""
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001  (malformed EXIF is common and harmless: ignore it)
        return None
    if not exif:
        return None
    raw = None
    try:
        raw = exif.get_ifd(_EXIF_IFD).get(_EXIF_DATETIME_ORIGINAL)
    except Exception:  # noqa: BLE001
        raw = None
    raw = raw or exif.get(_EXIF_DATETIME)
    if not raw or not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S").isoformat(timespec="seconds")
    except ValueError:
        return None
