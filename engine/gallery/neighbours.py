"""Source context for plain images: the gallery images next to one image in its source folder.

CCTV exports often name crops by time or frame, so the files beside a crop in its folder are the
moments just before and after it. Ordered by file name; only images directly in the same folder.
"""

from __future__ import annotations

from pathlib import PurePath

SCAN = 200  # rows read on each side before giving up on finding direct neighbours (deep subfolders)


def folder_neighbours(gallery, row: int, each_side: int = 3) -> tuple[list[int], list[int]]:
    """(rows before, rows after) the image at ``row`` in its first source folder, nearest first."""
    img = gallery.image(row)
    if not img.sources:
        return [], []
    path = img.sources[0]
    folder = str(PurePath(path).parent)
    lo, hi = folder.rstrip("/\\") + "/", folder.rstrip("/\\") + "0"  # "0" sorts right after "/"

    def direct(candidates) -> list[int]:
        out: list[int] = []
        seen = {img.sha256}
        for p, sha in candidates:
            if "/" in p[len(lo):] or sha in seen:
                continue
            seen.add(sha)
            r = gallery.row_of(sha)
            if r is not None:
                out.append(r)
            if len(out) >= each_side:
                break
        return out

    before, after = gallery.sources_beside(path, lo, hi, SCAN)
    return direct(before), direct(after)
