"""A video import made elsewhere (a Ray worker's scratch gallery, engine/gallery/ray_ingest.py) carried
into a gallery: :func:`export_video` reads what :class:`VideoImport` wrote into the scratch gallery
as plain data; :func:`commit_video` writes it into the real gallery, in one transaction, as
:class:`VideoImport` itself would have (the files first; tracks renumbered into the gallery's
range; a crop whose pixels the gallery already holds is not added twice)."""

from __future__ import annotations

import io
import time

TABLES = ("videos", "tracks", "track_boxes", "crops")


def known_video(gallery, path, size_bytes: int, mtime_ns: int) -> tuple[str, str] | None:
    """(sha256, status) of the video recorded for this path, size and modification time, or None."""
    return gallery.query_one("SELECT sha256, status FROM videos WHERE path = ? AND size_bytes = ? AND "
                             "mtime_ns = ?", (str(path), size_bytes, mtime_ns))


def export_video(gallery) -> dict:
    """Everything one video's import wrote into a scratch gallery that held nothing else."""
    folder = gallery.folder
    tables = {}
    for table in TABLES:
        cols = [r[1] for r in gallery.query(f"PRAGMA table_info({table})")]
        tables[table] = (cols, gallery.query(f"SELECT {', '.join(cols)} FROM {table} ORDER BY rowid"))
    vectors = gallery.vectors()
    images = []
    for row in range(len(gallery)):
        im = gallery.image(row)
        images.append((im.sha256, im.size_bytes, im.width, im.height, "PNG", im.camera, im.timestamp,
                       vectors[row].astype("float32").tobytes()))
    files = {}
    for png, mask in gallery.query("SELECT png, mask FROM crops"):
        for rel in (png, mask):
            if rel:
                files[rel] = (folder / rel).read_bytes()
    for (bg,) in gallery.query("SELECT background FROM videos WHERE background IS NOT NULL"):
        files[bg] = (folder / bg).read_bytes()
    return {"tables": tables, "images": images, "files": files}


def commit_video(gallery, bundle: dict) -> tuple[str, int, float] | None:
    """Write an exported video import into ``gallery``; returns (video sha256, crops added, seconds),
    or None when the gallery already holds that video (the same SHA-256)."""
    from PIL import Image

    from ..gallery.importer import _write_thumbnail
    from ..gallery.store import NewImage
    from .importer import _write_once

    tick = time.perf_counter()
    tables = bundle["tables"]
    vcols, vrows = tables["videos"]
    sha = vrows[0][vcols.index("sha256")]
    if gallery.query_one("SELECT 1 FROM videos WHERE sha256 = ?", (sha,)) is not None:
        return None
    folder, salt = gallery.folder, gallery.thumb_salt
    for rel, data in bundle["files"].items():
        _write_once(folder, rel, data, salt)
    base = gallery.query_one("SELECT COALESCE(MAX(track_id), 0) FROM tracks")[0]  # the scratch's ids start at 1
    crops_cols, crop_rows = tables["crops"]
    crop_of = {r[crops_cols.index("sha256")]: r for r in crop_rows}
    k = crops_cols.index("track_id")
    with gallery.transaction():
        for table in TABLES[:3]:
            cols, rows = tables[table]
            if "track_id" in cols:
                t = cols.index("track_id")
                rows = [(*r[:t], r[t] + base, *r[t + 1:]) for r in rows]
            gallery.executemany(f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                rows)
        new_images, kept = [], []
        for crop_sha, size, width, height, fmt, camera, when, vector in bundle["images"]:
            if gallery.row_of(crop_sha) is not None:
                continue  # an identical crop (same pixels) is already in the gallery
            crop = crop_of[crop_sha]
            rel = crop[crops_cols.index("png")]
            with Image.open(io.BytesIO(bundle["files"][rel])) as im:
                thumb = _write_thumbnail(folder, crop_sha, im.convert("RGB"), salt)
            st = (folder / rel).stat()  # the file as stored (sealed in an encrypted gallery)
            new_images.append(NewImage(crop_sha, size, width, height, fmt, camera, when, thumb, vector,
                                       (str(folder / rel), crop_sha, str(folder), rel, st.st_size, st.st_mtime_ns)))
            kept.append((*crop[:k], crop[k] + base, *crop[k + 1:]))
        gallery.add_images(new_images)  # joins this transaction
        gallery.executemany(f"INSERT INTO crops({', '.join(crops_cols)}) VALUES "
                            f"({', '.join('?' * len(crops_cols))})", kept)
    gallery.invalidate()
    return sha, len(new_images), time.perf_counter() - tick
