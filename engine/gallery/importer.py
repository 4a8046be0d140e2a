"""Import folder trees of person crops into a gallery: hash, check, thumbnail, embed, index.

Every source file is opened read-only and never modified. Work is committed in batches, one
SQLite transaction each (image rows, source rows and vectors together), so an interrupted or
crashed import leaves a consistent gallery, and running the same import again resumes: files
already recorded with the same size and modification time are not read again.
"""

from __future__ import annotations

import io
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from PIL import Image, UnidentifiedImageError

from ..embedder import Embedder
from . import colour_cache
from ..errors import GalleryError
from ..hashing import sha256_bytes
from .metadata import camera_from_path, timestamp_from_exif, timestamp_from_path
from .store import Gallery, NewImage

EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
MIN_SIDE = 16
MAX_PIXELS = 50_000_000
MAX_FILE_BYTES = 200 * 1024 * 1024  # a person crop is far smaller; larger files are not read at all
THUMB_SIZE = (128, 256)  # (w, h) bound: person crops are tall


@dataclass
class ImportProgress:
    done: int
    total: int
    imported: int
    duplicates: int
    skipped: int
    elapsed_s: float
    video: dict | None = None  # the video being imported: file, frame, frames_total, frames_per_s, ...

    @property
    def rate(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate > 0 else None


@dataclass
class ImportReport:
    """What an import did. ``skipped`` lists (path, one-line reason) for this run."""

    imported: int = 0
    duplicates: int = 0
    already: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    total_files: int = 0
    elapsed_s: float = 0.0
    cancelled: bool = False
    videos: list[dict] = field(default_factory=list)  # one entry per video file (engine/video/importer.py)
    gallery_images: int | None = None  # images the gallery holds after it (set by session.import_into)

    def partly_imported(self) -> list[tuple[str, str]]:
        """(path, reason) of the videos imported up to where they stop (truncated or damaged): their crops are
        in the gallery, so a user reads them apart from the files skipped (``skipped`` lists them too)."""
        stopped = {v.get("path") for v in self.videos if v.get("status") == "stopped"}
        return [(p, r) for p, r in self.skipped if p in stopped]

    def not_imported(self) -> list[tuple[str, str]]:
        """(path, reason) of the files of which nothing was imported."""
        partly = set(self.partly_imported())
        return [item for item in self.skipped if item not in partly]

    def as_dict(self) -> dict:
        return {"imported": self.imported, "duplicates": self.duplicates, "already_imported": self.already,
                "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
                "total_files": self.total_files, "elapsed_s": round(self.elapsed_s, 3),
                "images_per_s": round(self.total_files / self.elapsed_s, 2) if self.elapsed_s else None,
                "cancelled": self.cancelled, "videos": self.videos}


class SkipFile(Exception):
    """A file that cannot be imported; the message is the one-line reason."""


def printable(path) -> str:
    """A path as text a terminal and a database accept (undecodable bytes of a file name shown as \\xNN)."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


class _ImportLock:
    """One import into a gallery at a time (an OS lock on a file in the gallery folder; released when
    the process ends, however it ends). A second import gets one sentence, not a traceback."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.fd: int | None = None

    def __enter__(self):
        import fcntl

        self.fd = os.open(self.folder / ".import.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            self.fd = None
            raise GalleryError(f"Another import into gallery {self.folder} is running; wait for it to finish, then "
                               "run this import again (it resumes where it stopped).") from None
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)  # closing releases the lock


def walk_files(root: Path) -> Iterator[Path]:
    """Every file under ``root`` (recursive, symlinks followed, loops visited once), sorted."""
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen:
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def find_images(root: Path) -> Iterator[Path]:
    """Image files under ``root`` (recursive, symlinks followed, loops visited once), sorted."""
    return (p for p in walk_files(root) if p.suffix.lower() in EXTENSIONS)


def collect_sources(sources: list[str | Path]) -> list[tuple[Path, Path]]:
    """(root, file) pairs for every image under the given folders (or single files)."""
    pairs: list[tuple[Path, Path]] = []
    for src in sources:
        root = Path(src).expanduser().absolute()
        if root.is_file():
            pairs.append((root.parent, root))
        elif root.is_dir():
            pairs.extend((root, f) for f in find_images(root))
        else:
            raise GalleryError(f"Source folder {root} does not exist; check the path and try again.")
    return pairs


@dataclass
class _Decoded:
    path: Path
    root: Path
    data_sha: str
    size: int
    mtime_ns: int
    image: Image.Image
    fmt: str
    timestamp: str | None


def _decode(path: Path, data: bytes) -> tuple[Image.Image, str, str | None]:
    if not data:
        raise SkipFile("empty file (0 bytes)")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format or "?"
            w, h = probe.size
            if w * h > MAX_PIXELS:
                raise SkipFile(f"image too large ({w}x{h} = {w * h / 1e6:.0f} megapixels; limit 50)")
            if min(w, h) < MIN_SIDE:
                raise SkipFile(f"image too small to hold a person ({w}x{h}; need at least {MIN_SIDE} px a side)")
            exif_time = timestamp_from_exif(probe)
            probe.load()
            image = probe.convert("RGB")
    except UnidentifiedImageError:
        raise SkipFile("not an image (the file's contents are not a readable image format)") from None
    except SkipFile:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise SkipFile(f"corrupt or truncated image ({str(exc).splitlines()[0][:80]})") from None
    return image, fmt, exif_time


def needs_reading(path: Path, known: dict, known_skipped: dict, report: ImportReport):
    """The file's stat when it must be read; None when it was imported or skipped unchanged before, or
    cannot be imported at all (each recorded in ``report``)."""
    try:
        st = path.stat()
    except OSError as exc:
        report.skipped.append((printable(path), f"cannot read the file ({exc.strerror})"))
        return None
    key = str(path)
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        report.skipped.append((printable(path), "the file name is not valid text (UTF-8); rename the file to "
                                                "import it"))
        return None
    if known.get(key) == (st.st_size, st.st_mtime_ns):
        report.already += 1
    elif key in known_skipped and known_skipped[key][:2] == (st.st_size, st.st_mtime_ns):
        report.skipped.append((key, known_skipped[key][2]))
    else:
        return st
    return None


def import_sources(gallery: Gallery, embedder: Embedder, sources: list[str | Path],
                   progress: Callable[[ImportProgress], None] | None = None,
                   cancel: Callable[[], bool] | None = None, batch_size: int | None = None,
                   video_options=None) -> ImportReport:
    """Import every image under ``sources`` into ``gallery`` using ``embedder``.

    Skipped files are reported with a reason and recorded; the import goes on. ``cancel()``
    returning True stops after the current batch (everything before it is committed).
    Video files (``engine.video``) are imported after the images, with ``video_options``.
    Raises GalleryError when a source folder does not exist.
    """
    with _ImportLock(gallery.folder):
        return _import_locked(gallery, embedder, sources, progress, cancel, batch_size, video_options)


def _import_locked(gallery, embedder, sources, progress, cancel, batch_size, video_options) -> ImportReport:
    from ..video import is_video
    from ..video.importer import collect_videos, import_video_files

    start = time.perf_counter()
    own = gallery.folder.resolve()
    pairs = [(r, p) for r, p in collect_sources(sources)
             if own not in p.resolve().parents and not is_video(p)]  # not its own thumbnails; videos below
    videos = [(r, p) for r, p in collect_videos(sources) if own not in p.resolve().parents]
    report = ImportReport(total_files=len(pairs) + len(videos))
    known = gallery.known_sources()
    known_skipped = gallery.known_skipped()
    batch: list[_Decoded] = []
    pending_dupes: list[tuple] = []
    batch_size = batch_size or getattr(embedder, "batch_size", 32)
    batch_shas: set[str] = set()
    done = 0
    salt = gallery.thumb_salt  # thumbnails of an encrypted gallery are sealed

    def flush() -> None:
        nonlocal batch, pending_dupes, batch_shas
        vectors = embedder.embed_images([d.image for d in batch]) if batch else None
        images = []
        for i, d in enumerate(batch):
            thumb = _write_thumbnail(gallery.folder, d.data_sha, d.image, salt)
            rel = d.path.relative_to(d.root).as_posix()
            images.append(NewImage(d.data_sha, d.size, d.image.width, d.image.height, d.fmt, camera_from_path(rel),
                                   d.timestamp or timestamp_from_path(rel), thumb,
                                   vectors[i].astype("float32").tobytes(),
                                   (str(d.path), d.data_sha, str(d.root), rel, d.size, d.mtime_ns)))
        first_row = gallery.next_row()
        gallery.add_images(images, pending_dupes)  # one transaction: images + sources of this batch
        if images and colour_cache.needed(gallery):  # a full-engine gallery keeps each row's lite colours
            colour_cache.store_imported(gallery, first_row, [d.image for d in batch])
        batch, pending_dupes, batch_shas = [], [], set()

    for root, path in pairs:
        if cancel is not None and cancel():
            report.cancelled = True
            break
        done += 1
        st = needs_reading(path, known, known_skipped, report)
        if st is not None:
            _import_one(gallery, root, path, st, report, batch, pending_dupes, batch_shas)
        if len(batch) >= batch_size:
            flush()
        if progress is not None:
            progress(ImportProgress(done, len(pairs), report.imported, report.duplicates,
                                    len(report.skipped), time.perf_counter() - start))
    flush()
    if videos and not report.cancelled:
        def video_progress(v: dict) -> None:
            if progress is not None:
                progress(ImportProgress(done, report.total_files, report.imported, report.duplicates,
                                        len(report.skipped), time.perf_counter() - start, video=v))

        import_video_files(gallery, embedder, videos, report, video_options, video_progress, cancel)
    return finish_import(gallery, report, start)


def finish_import(gallery: Gallery, report: ImportReport, start: float) -> ImportReport:
    """The end of an import (single-process or Ray): bring the index up to date with the new rows
    (a persisted hnswlib index is extended) and time the whole import."""
    if len(gallery) > 0 or report.total_files > 0:
        from .index import open_index

        open_index(gallery)
    report.elapsed_s = time.perf_counter() - start
    return report


def _import_one(gallery: Gallery, root: Path, path: Path, st: os.stat_result, report: ImportReport,
                batch: list[_Decoded], pending_dupes: list[tuple], batch_shas: set[str]) -> None:
    rel = path.relative_to(root).as_posix()
    if not stat.S_ISREG(st.st_mode):
        _skip(gallery, path, st, report, "not a regular file (a pipe, device or socket); only image files are read")
        return
    if st.st_size > MAX_FILE_BYTES:
        _skip(gallery, path, st, report, f"file too large for a person crop ({st.st_size / 2**20:.0f} MiB; limit "
                                         f"{MAX_FILE_BYTES // 2**20} MiB)")
        return
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO swapped in never blocks
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(0, "not a regular file")
            with os.fdopen(fd, "rb") as f:
                fd = None
                data = f.read(MAX_FILE_BYTES + 1)
        finally:
            if fd is not None:
                os.close(fd)
    except OSError as exc:
        report.skipped.append((str(path), f"cannot read the file ({exc.strerror})"))
        return
    if len(data) > MAX_FILE_BYTES:
        _skip(gallery, path, st, report, f"file too large for a person crop (limit {MAX_FILE_BYTES // 2**20} MiB)")
        return
    sha = sha256_bytes(data)
    if sha in batch_shas or gallery.row_of(sha) is not None:
        pending_dupes.append((str(path), sha, str(root), rel, st.st_size, st.st_mtime_ns))
        report.duplicates += 1
        return
    try:
        image, fmt, exif_time = _decode(path, data)
    except SkipFile as skip:
        _skip(gallery, path, st, report, str(skip))
        return
    batch.append(_Decoded(path, root, sha, st.st_size, st.st_mtime_ns, image, fmt, exif_time))
    batch_shas.add(sha)
    report.imported += 1


def _skip(gallery: Gallery, path: Path, st: os.stat_result, report: ImportReport, reason: str) -> None:
    """Report and record a skipped file (recorded: a re-run does not read it again unless it changes)."""
    report.skipped.append((str(path), reason))
    gallery.record_skipped(str(path), reason, st.st_size, st.st_mtime_ns)


def _write_thumbnail(folder: Path, sha: str, image: Image.Image, salt: bytes | None = None) -> str:
    """Write the thumbnail (0600; sealed with the gallery's key when ``salt`` is given)."""
    from ..storage.blobs import seal, write_private

    rel = Path("thumbs") / sha[:2] / f"{sha}.jpg"
    out = folder / rel
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = thumbnail_jpeg(image)
        write_private(out, seal(data, salt) if salt else data)
    return rel.as_posix()


def thumbnail_jpeg(image: Image.Image) -> bytes:
    """The JPEG bytes of an image's thumbnail (plain)."""
    thumb = image.copy()
    thumb.thumbnail(THUMB_SIZE)
    buf = io.BytesIO()
    thumb.save(buf, "JPEG", quality=85)
    return buf.getvalue()
