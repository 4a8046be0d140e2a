"""Thumbnails for the report: small JPEGs read from the gallery (or, failing that, the original)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from .data import ImageInfo

THUMB_BOUND = (128, 256)


@dataclass(frozen=True)
class Thumb:
    jpeg: bytes
    width: int
    height: int


class ThumbCache:
    """One decoded thumbnail per image SHA-256; None for images that cannot be read."""

    def __init__(self, images: dict[str, ImageInfo]):
        self.images = images
        self._cache: dict[str, Thumb | None] = {}

    def get(self, sha: str) -> Thumb | None:
        if sha not in self._cache:
            self._cache[sha] = self._load(self.images.get(sha))
        return self._cache[sha]

    @staticmethod
    def _load(info: ImageInfo | None) -> Thumb | None:
        if info is None or info.thumb is None:
            return None
        from PIL import Image  # lazy

        try:
            from ..storage import read_image_bytes

            with Image.open(io.BytesIO(read_image_bytes(info.thumb))) as im:
                im = im.convert("RGB")
                im.thumbnail(THUMB_BOUND)
                buf = io.BytesIO()
                im.save(buf, "JPEG", quality=85)
                return Thumb(buf.getvalue(), im.width, im.height)
        except OSError:
            return None
