"""Thumbnails loaded on demand, kept in a small least-recently-used cache.

The ranked grid may hold 100k rows; only the thumbnails a view actually paints are read from
disk (the importer's small JPEGs, a millisecond each), and only the last few hundred are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Callable

from PySide6.QtGui import QImage, QPixmap

DEFAULT_CAPACITY = 400


class ThumbnailCache:
    """``get(row)`` returns the row's thumbnail as a QImage (a grey placeholder if unreadable)."""

    def __init__(self, path_of: Callable[[int], Path | str], capacity: int = DEFAULT_CAPACITY):
        self.path_of = path_of
        self.capacity = capacity
        self.loads = 0  # files read so far (tests check that scrolling reads only what is shown)
        self._cache: OrderedDict[int, QImage] = OrderedDict()

    def get(self, row: int) -> QImage:
        image = self._cache.get(row)
        if image is not None:
            self._cache.move_to_end(row)
            return image
        self.loads += 1
        image = _read(self.path_of(row))
        if image.isNull():
            image = QImage(64, 128, QImage.Format.Format_RGB32)
            image.fill(0x808080)
        self._cache[row] = image
        if len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        return image

    def clear(self) -> None:
        self._cache.clear()


def _read(path) -> QImage:
    """A thumbnail file as a QImage, unsealed when its gallery is encrypted (a null image if unreadable)."""
    from interreid.engine.errors import UserError
    from interreid.engine.storage import read_image_bytes

    try:
        return QImage.fromData(read_image_bytes(path))
    except (OSError, UserError):
        return QImage()


def load_original(sources: list[str]) -> QPixmap:
    """The first readable original of a gallery image (its recorded sources, in order), unsealed when
    it is a video crop of an encrypted gallery; a null pixmap when none can be read."""
    from interreid.engine.errors import UserError
    from interreid.engine.storage.blobs import MAGIC, unseal

    pixmap = QPixmap()
    for src in sources:
        path = Path(src)
        if not path.is_file():
            continue
        try:
            with open(path, "rb") as f:
                sealed = f.read(len(MAGIC)) == MAGIC
            if sealed:
                if pixmap.loadFromData(unseal(path.read_bytes())):
                    break
            elif pixmap.load(str(path)):
                break
        except (OSError, UserError):
            continue
    return pixmap


def gallery_thumb_path(folder: Path, sha256: str) -> Path:
    """Where the importer wrote an image's thumbnail (``thumbs/ab/<sha>.jpg``)."""
    return Path(folder) / "thumbs" / sha256[:2] / f"{sha256}.jpg"
