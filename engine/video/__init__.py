"""Video sources: decode CCTV exports, detect and track people, keep crops with their provenance.

Qt-free. Heavy libraries (av, cv2, supervision, onnxruntime) are imported inside functions only.
"""

from __future__ import annotations

from pathlib import Path

#: file name endings treated as video (whatever else FFmpeg reads can be named explicitly as a file)
VIDEO_EXTENSIONS = {".mp4", ".m4v", ".avi", ".mkv", ".mov", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts",
                    ".wmv", ".asf", ".flv", ".webm", ".3gp", ".h264", ".h265", ".hevc", ".dav", ".vob"}


def is_video(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS
