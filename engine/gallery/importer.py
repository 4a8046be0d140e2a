"""Import folder trees of person crops into a gallery: hash, check, thumbnail, embed, index.

Every source file is opened read-only and never modified. Work is committed in batches, one
SQLite transaction each (image rows, source rows and vectors together), so an interrupted or
crashed import leaves a consistent gallery, and running the same import again resumes: files
already recorded with the same size and modification time are not read again.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from PIL import Image, UnidentifiedImageError

from ..embedder import Embedder
from ..errors import GalleryError
from ..hashing import sha256_bytes
from .metadata import camera_from_path, timestamp_from_exif, timestamp_from_path
from .store import Gallery, NewImage

EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
MIN_SIDE = 16
MAX_PIXELS = 50_000_000
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

    def as_dict(self) -> dict:
        return {"imported": self.imported, "duplicates": self.duplicates, "already_imported": self.already,
                "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
                "total_files": self.total_files, "elapsed_s": round(self.elapsed_s, 3),
                "images_per_s": round(self.total_files / self.elapsed_s, 2) if self.elapsed_s else None,
                "cancelled": self.cancelled, "videos": self.videos}


class SkipFile(Exception):
    """A file that cannot be imported; the message is the one-line reason."""


def find_images(root: Path) -> Iterator[Path]:
    """Image files under ``root`` (recursive, symlinks followed, loops visited once), sorted."""
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen:
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames.sort()
        for name in sorted(filenames):
            if Path(name).suffix.lower() in EXTENSIONS:
                yield Path(dirpath) / name


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
    from ..video import is_video
    from ..video.importer import collect_videos, import_video_files

    start = time.perf_counter()
    pairs = [p for p in collect_sources(sources) if not is_video(p[1])]
    videos = collect_videos(sources)
    report = ImportReport(total_files=len(pairs) + len(videos))
    known = gallery.known_sources()
    known_skipped = gallery.known_skipped()
    batch: list[_Decoded] = []
    pending_dupes: list[tuple] = []
    batch_size = batch_size or getattr(embedder, "batch_size", 32)
    batch_shas: set[str] = set()
    done = 0

    def flush() -> None:
        nonlocal batch, pending_dupes, batch_shas
        vectors = embedder.embed_images([d.image for d in batch]) if batch else None
        images = []
        for i, d in enumerate(batch):
            thumb = _write_thumbnail(gallery.folder, d.data_sha, d.image)
            rel = d.path.relative_to(d.root).as_posix()
            images.append(NewImage(d.data_sha, d.size, d.image.width, d.image.height, d.fmt, camera_from_path(rel),
                                   d.timestamp or timestamp_from_path(rel), thumb,
                                   vectors[i].astype("float32").tobytes(),
                                   (str(d.path), d.data_sha, str(d.root), rel, d.size, d.mtime_ns)))
        gallery.add_images(images, pending_dupes)  # one transaction: images + sources of this batch
        batch, pending_dupes, batch_shas = [], [], set()

    for root, path in pairs:
        if cancel is not None and cancel():
            report.cancelled = True
            break
        done += 1
        try:
            st = path.stat()
        except OSError as exc:
            report.skipped.append((str(path), f"cannot read the file ({exc.strerror})"))
            continue
        key = str(path)
        if known.get(key) == (st.st_size, st.st_mtime_ns):
            report.already += 1
        elif key in known_skipped and known_skipped[key][:2] == (st.st_size, st.st_mtime_ns):
            report.skipped.append((key, known_skipped[key][2]))
        else:
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
    if len(gallery) == 0 and report.total_files == 0:
        report.elapsed_s = time.perf_counter() - start
        return report
    from .index import open_index

    open_index(gallery)  # extend a persisted hnswlib index with the new rows
    report.elapsed_s = time.perf_counter() - start
    return report


def _import_one(gallery: Gallery, root: Path, path: Path, st: os.stat_result, report: ImportReport,
                batch: list[_Decoded], pending_dupes: list[tuple], batch_shas: set[str]) -> None:
    rel = path.relative_to(root).as_posix()
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.skipped.append((str(path), f"cannot read the file ({exc.strerror})"))
        return
    sha = sha256_bytes(data)
    if sha in batch_shas or gallery.row_of(sha) is not None:
        pending_dupes.append((str(path), sha, str(root), rel, st.st_size, st.st_mtime_ns))
        report.duplicates += 1
        return
    try:
        image, fmt, exif_time = _decode(path, data)
    except SkipFile as skip:
        reason = str(skip)
        report.skipped.append((str(path), reason))
        gallery.record_skipped(str(path), reason, st.st_size, st.st_mtime_ns)
        return
    batch.append(_Decoded(path, root, sha, st.st_size, st.st_mtime_ns, image, fmt, exif_time))
    batch_shas.add(sha)
    report.imported += 1


def _write_thumbnail(folder: Path, sha: str, image: Image.Image) -> str:
    rel = Path("thumbs") / sha[:2] / f"{sha}.jpg"
    out = folder / rel
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        thumb = image.copy()
        thumb.thumbnail(THUMB_SIZE)
        tmp = out.with_suffix(".tmp")
        thumb.save(tmp, "JPEG", quality=85)
        tmp.replace(out)
    return rel.as_posix()
