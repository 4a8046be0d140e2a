"""Distributed ingest with Ray Data: the same import as :func:`import_sources`, with the per-file work
spread over Ray workers and every write into the gallery made by this process, through the
gallery's own methods.

What runs where:
  * a Ray worker (one actor per worker, holding its own embedder and detector) takes one video file
    at a time (tracking is sequential within a video, so a video is never split) and runs the
    ordinary single-process importer (:class:`engine.video.importer.VideoImport`: decode, detect,
    track, choose crops, embed) into a private scratch gallery in its temporary folder; it sends back
    what that import wrote (the video's row, its tracks and boxes, the crops' provenance rows, the
    crop, mask and background PNG bytes, the image rows and vectors) and deletes the scratch folder;
  * image files go to the workers in batches of files: each is read, hashed (SHA-256), checked,
    decoded, thumbnailed and embedded there by the importer's own functions;
  * this process, in the order the single-process import uses, writes the files (sealed when the
    gallery is encrypted), renumbers the tracks into the gallery's id range and commits each video
    (or batch of images) in one transaction through :meth:`Gallery.add_images`,
    :meth:`Gallery.transaction` and :meth:`Gallery.execute`, exactly as the single-process import does.

So the gallery is the same as after a single-process import of the same files: the same image
SHA-256s and vectors, the same crop provenance (video SHA-256, frame, box, track, detector) and
the same track ids. A file that cannot be imported is skipped with its one-line reason, and the
rest is imported. An import stopped part-way keeps every video and batch already committed; the same
command continues (a video is redone from its start, not from the frame where it stopped; a video
left half-imported by an interrupted single-process import is finished in this process, from
where it stopped).

Ray is started here, on this machine only (``workers`` CPUs, no dashboard, no usage report, bound to
127.0.0.1), unless the user names the address of an existing Ray cluster. Workers of a cluster must
see the source files under the same paths (a shared mount) and have interreid installed.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import GalleryError, UserError
from .importer import (
    ImportProgress,
    ImportReport,
    SkipFile,
    _decode,
    _ImportLock,
    collect_sources,
    finish_import,
    needs_reading,
)

#: image files sent to a worker at a time (one Ray task each)
IMAGE_BATCH = 64


@dataclass
class RayOptions:
    """``workers``: Ray workers (one CPU each) on this machine, or actors on the cluster;
    ``address``: an existing Ray cluster ("ray://host:10001" or "host:6379"), only when the user names
    one; None starts Ray on this machine alone."""

    workers: int = 2
    address: str | None = None


class RayUnavailable(UserError):
    pass


# -- starting Ray ---------------------------------------------------------------------------------
@contextmanager
def ray_runtime(options: RayOptions) -> Iterator[None]:
    """Ray, started for this import and stopped after it (or the caller's, already running, kept)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never report usage over the network
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    try:
        import ray
    except ImportError:
        raise RayUnavailable("Ray is not installed on this workstation; install interreid with its 'scale' "
                             "extra (pip install 'interreid[scale]') or import without --ray.") from None
    import logging

    if ray.is_initialized():  # the caller's runtime (a test session, a notebook on a cluster)
        _quiet_ray_data()
        yield
        return
    temp = None
    quiet = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                 configure_logging=True)
    try:
        if options.address:
            ray.init(address=options.address, **quiet)
        else:
            temp = tempfile.mkdtemp(prefix="interreid-ray-")  # short: Ray's socket paths must fit 107 bytes
            with _local_env():
                ray.init(address="local", num_cpus=options.workers, _node_ip_address="127.0.0.1", _temp_dir=temp,
                         object_store_memory=_store_bytes(options.workers), runtime_env=_same_code(), **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
        where = f"the Ray cluster at {options.address}" if options.address else "Ray on this workstation"
        raise UserError(f"Could not start {where} ({str(exc).splitlines()[0][:120]}); check the address, or "
                        "import without --ray.") from None
    _quiet_ray_data()
    try:
        yield
    finally:
        ray.shutdown()
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


@contextmanager
def _local_env() -> Iterator[None]:
    """The environment Ray's processes start with on this machine alone: every address the loopback
    one (Ray otherwise looks up the address other machines would reach it at), and web requests sent
    to a closed local port (Ray's start-up asks the cloud-metadata address which cloud it runs in,
    even with its usage report off), and no memory monitor of its own. Only Ray's processes keep it;
    this process's environment is restored."""
    from ray._private import ray_constants

    saved = {k: os.environ.get(k) for k in ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "HTTP_PROXY", "HTTPS_PROXY",
                                            "RAY_memory_monitor_refresh_ms")}
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # "no cluster": Ray's single-machine mode
    # Ray's memory monitor kills workers when the whole machine is nearly full, whoever fills it; on a
    # shared workstation the import then behaves as without Ray (the system decides)
    os.environ["RAY_memory_monitor_refresh_ms"] = "0"
    os.environ["HTTP_PROXY"] = os.environ["HTTPS_PROXY"] = "http://127.0.0.1:9"  # discard port: refused at once
    cluster, ray_constants.ENABLE_RAY_CLUSTER = ray_constants.ENABLE_RAY_CLUSTER, False  # read when imported
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = cluster
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _same_code() -> dict:
    """The local workers import this interreid (the one this process runs), whatever their path."""
    from .. import __file__ as engine_init

    top = Path(engine_init).parents[2]  # the folder holding the interreid package
    if not (top / "interreid").is_dir():
        return {}  # an installed package: the workers find it as this process did
    paths = [str(top)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}}


def _store_bytes(workers: int) -> int:
    return max(256, 128 * workers) * 2**20  # crops of a few videos at a time, not a share of the RAM


def _quiet_ray_data() -> None:
    import logging

    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # committed in the single-process import's order
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    for name in ("ray", "ray.data"):  # a failure is reported once, in one sentence (_rows)
        logging.getLogger(name).setLevel(logging.CRITICAL)


# -- the workers --------------------------------------------------------------------------------
def _open_embedder(engine: str, pack, tower: str = "fp32"):
    from ..embedder import create_embedder

    return create_embedder("full", pack=pack, precision=tower) if engine == "full" else create_embedder(engine)


class IngestWorker:
    """One Ray actor (its own embedder and detector): a batch of image files or one video a call."""

    def __init__(self, engine: str, pack, options, tower: str = "fp32"):
        self.embedder = _open_embedder(engine, pack, tower)  # the same image tower as the gallery's own
        self.options = options
        self.detector = None

    def __call__(self, row: dict) -> dict:
        files = pickle.loads(row["files"])
        if row["kind"] == "images":
            out = self.images(files)
        else:
            out = self.video(Path(files[0]), Path(files[1]))
        return {"i": row["i"], "kind": row["kind"], "bundle": pickle.dumps(out)}

    def video(self, root: Path, path: Path) -> dict:
        """Imports one video into a scratch gallery with the ordinary importer; returns what it wrote."""
        from ..video.cameras import CamerasCsvError
        from ..video.decode import VideoError, check_regular
        from ..video.importer import VideoImport, make_detector
        from .store import Gallery

        start = time.perf_counter()
        scratch = Path(tempfile.mkdtemp(prefix="interreid-ingest-"))
        try:
            gallery = Gallery.create(scratch / "g", self.embedder.identity)
            try:
                check_regular(path)
                if self.detector is None:
                    self.detector = make_detector(self.options)
                result = VideoImport(gallery, self.embedder, root, path, self.options, self.detector).run()
            except (VideoError, CamerasCsvError) as exc:
                return {"skip": str(exc)}
            try:
                from ..video.transfer import export_video

                return {"result": result, **export_video(gallery), "worker_s": time.perf_counter() - start}
            finally:
                gallery.close()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


    def images(self, files: list[tuple[str, str]]) -> list[dict]:
        """Reads, hashes, checks, decodes, thumbnails and embeds a batch of image files."""
        from ..hashing import sha256_bytes
        from .importer import thumbnail_jpeg

        out: list[dict] = []
        decoded = []
        for root, path in files:
            entry: dict = {"root": root, "path": path}
            out.append(entry)
            try:
                data, st = _read_image_file(Path(path))
            except SkipFile as skip:
                entry["skip"] = str(skip)
                continue
            except OSError as exc:
                entry["unreadable"] = f"cannot read the file ({exc.strerror})"
                continue
            entry.update(sha=sha256_bytes(data), size=st.st_size, mtime_ns=st.st_mtime_ns)
            try:
                image, fmt, exif_time = _decode(Path(path), data)
            except SkipFile as skip:
                entry["skip"] = str(skip)
                continue
            entry.update(width=image.width, height=image.height, format=fmt, exif_time=exif_time,
                         thumb=thumbnail_jpeg(image))
            decoded.append((entry, image))
        if decoded:
            vectors = self.embedder.embed_images([im for _, im in decoded])
            for (entry, _), v in zip(decoded, vectors):
                entry["vector"] = v.astype("float32").tobytes()
        return out


def _read_image_file(path: Path):
    """The bytes of an image file, with the single-process importer's checks (regular file, size)."""
    import stat

    from .importer import MAX_FILE_BYTES

    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise SkipFile("not a regular file (a pipe, device or socket); only image files are read")
    if st.st_size > MAX_FILE_BYTES:
        raise SkipFile(f"file too large for a person crop ({st.st_size / 2**20:.0f} MiB; limit "
                       f"{MAX_FILE_BYTES // 2**20} MiB)")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise SkipFile("not a regular file (a pipe, device or socket); only image files are read")
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SkipFile(f"file too large for a person crop (limit {MAX_FILE_BYTES // 2**20} MiB)")
    return data, st


# -- the driver -----------------------------------------------------------------------------------
def import_sources_ray(gallery, embedder, sources: list, engine: str = "lite", pack=None,
                       ray_options: RayOptions | None = None,
                       progress: Callable[[ImportProgress], None] | None = None,
                       cancel: Callable[[], bool] | None = None, video_options=None) -> ImportReport:
    """:func:`import_sources` with the per-file work on Ray workers (see the module docstring).
    ``embedder`` is this process's (its identity is the gallery's); the workers open their own from
    ``engine``/``pack``, with the image tower of ``embedder`` (fp32 or int8)."""
    ray_options = ray_options or RayOptions()
    if ray_options.workers < 1:
        raise UserError(f"--workers {ray_options.workers} is too few; give at least 1.")
    with _ImportLock(gallery.folder):
        return _import_locked(gallery, embedder, sources, engine, pack, ray_options, progress, cancel,
                              video_options)


def _import_locked(gallery, embedder, sources, engine, pack, ray_options, progress, cancel, video_options):
    from ..video import is_video
    from ..video.importer import VideoOptions, collect_videos, import_video_files
    from ..video.schema import has_video_tables

    start = time.perf_counter()
    tower = str(embedder.identity.extra.get("precision") or "fp32") if engine == "full" else "fp32"
    own = gallery.folder.resolve()
    pairs = [(r, p) for r, p in collect_sources(sources) if own not in p.resolve().parents and not is_video(p)]
    videos = [(r, p) for r, p in collect_videos(sources) if own not in p.resolve().parents]
    report = ImportReport(total_files=len(pairs) + len(videos))
    options = video_options or VideoOptions()
    if videos and not has_video_tables(gallery):
        raise GalleryError(f"Gallery {gallery.folder} was made by an earlier interreid (format "
                           f"{gallery.meta('schema_version')}) and cannot hold video yet; run 'interreid gallery "
                           f"migrate {gallery.folder}' first (it says what it changes).")
    done = 0

    def tick() -> None:
        if progress is not None:
            progress(ImportProgress(done, report.total_files, report.imported, report.duplicates,
                                    len(report.skipped), time.perf_counter() - start))

    todo_images = _images_to_read(gallery, pairs, report)
    done = len(pairs) - len(todo_images)
    todo_videos, resume_here = _videos_to_import(gallery, videos, report)
    done += len(videos) - len(todo_videos) - len(resume_here)
    if todo_images or todo_videos:
        batches = [todo_images[i:i + IMAGE_BATCH] for i in range(0, len(todo_images), IMAGE_BATCH)]
        items = [{"i": i, "kind": "images", "files": pickle.dumps([(str(r), str(p)) for r, p in b])}
                 for i, b in enumerate(batches)]
        items += [{"i": len(batches) + i, "kind": "video", "files": pickle.dumps((str(r), str(p)))}
                  for i, (r, p) in enumerate(todo_videos)]  # after the images, as the single-process import
        with ray_runtime(ray_options):
            import ray.data

            ds = ray.data.from_items(items, override_num_blocks=len(items))  # one file batch or video a task
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # max_restarts is passed on to the actors as Ray Data documents
                ds = ds.map(IngestWorker, fn_constructor_args=(engine, pack, options, tower), num_cpus=1,
                            compute=ray.data.ActorPoolStrategy(size=min(ray_options.workers, len(items))),
                            max_restarts=0)  # a worker that dies fails the import (no silent retry)
            for row in _rows(ds):
                bundle = pickle.loads(row["bundle"])
                if row["kind"] == "images":
                    _commit_images(gallery, bundle, report)
                    done += len(bundle)
                else:
                    root, path = todo_videos[row["i"] - len(batches)]
                    _commit_video(gallery, root, path, bundle, report)
                    done += 1
                tick()
                if cancel is not None and cancel():
                    report.cancelled = True
                    break
    if resume_here and not report.cancelled:  # half-imported by an interrupted single-process import
        import_video_files(gallery, embedder, resume_here, report, options, None, cancel)
    return finish_import(gallery, report, start)


def _rows(ds) -> Iterator[dict]:
    """The dataset's rows in order; a worker that fails is one sentence (what was committed stays)."""
    import ray.exceptions

    try:
        yield from ds.iter_rows()
    except (ray.exceptions.RayError, ray.exceptions.RaySystemError) as exc:
        if "out of memory" in str(exc).lower() or isinstance(exc, ray.exceptions.OutOfMemoryError):
            raise GalleryError("A Ray worker ran out of memory during the import; everything committed before it "
                               "is kept: run the same command again with fewer --workers, or without --ray.") from exc
        first = str(exc).strip().splitlines()[-1][:160] if str(exc).strip() else type(exc).__name__
        raise GalleryError(f"A Ray worker failed during the import ({first}); everything committed before it "
                           "is kept, run the same command again to continue, or import without --ray to see "
                           "which file it was.") from exc


def _images_to_read(gallery, pairs, report: ImportReport) -> list:
    """The image files a worker must read: not those already imported or already skipped unchanged."""
    known = gallery.known_sources()
    known_skipped = gallery.known_skipped()
    return [(root, path) for root, path in pairs if needs_reading(path, known, known_skipped, report) is not None]


def _commit_images(gallery, entries: list[dict], report: ImportReport) -> None:
    """One batch of images, as the single-process importer commits its batches."""
    from ..storage.blobs import seal, write_private
    from .metadata import camera_from_path, timestamp_from_path
    from .store import NewImage

    salt = gallery.thumb_salt
    images, dupes, shas = [], [], set()
    for e in entries:
        path, root = Path(e["path"]), Path(e["root"])
        if "unreadable" in e:
            report.skipped.append((e["path"], e["unreadable"]))
            continue
        rel = path.relative_to(root).as_posix()
        if "sha" in e and (e["sha"] in shas or gallery.row_of(e["sha"]) is not None):
            dupes.append((e["path"], e["sha"], e["root"], rel, e["size"], e["mtime_ns"]))
            report.duplicates += 1
            continue
        if "skip" in e:
            try:
                st = path.stat()
                size, mtime = st.st_size, st.st_mtime_ns
            except OSError:
                size = mtime = None
            report.skipped.append((e["path"], e["skip"]))
            gallery.record_skipped(e["path"], e["skip"], size, mtime)
            continue
        sha = e["sha"]
        thumb = Path("thumbs") / sha[:2] / f"{sha}.jpg"
        out = gallery.folder / thumb
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_private(out, seal(e["thumb"], salt) if salt else e["thumb"])
        images.append(NewImage(sha, e["size"], e["width"], e["height"], e["format"], camera_from_path(rel),
                               e["exif_time"] or timestamp_from_path(rel), thumb.as_posix(), e["vector"],
                               (e["path"], sha, e["root"], rel, e["size"], e["mtime_ns"])))
        shas.add(sha)
        report.imported += 1
    gallery.add_images(images, dupes)


def _videos_to_import(gallery, videos, report: ImportReport):
    """(for the workers, to finish in this process): videos already imported are counted, not sent."""
    from ..video.transfer import known_video

    todo, resume = [], []
    for root, path in videos:
        try:
            st = os.stat(path)
        except OSError:
            todo.append((root, path))  # the worker says why it cannot be read
            continue
        known = known_video(gallery, path, st.st_size, st.st_mtime_ns)
        if known and known[1] != "importing":
            report.videos.append({"path": str(path), "sha256": known[0], "status": "already imported"})
            report.already += 1
        elif known:
            resume.append((root, path))
        else:
            todo.append((root, path))
    return todo, resume


def _commit_video(gallery, root: Path, path: Path, bundle: dict, report: ImportReport) -> None:
    """A worker's video import into the gallery (engine/video/transfer.py), reported as the
    single-process import reports it."""
    from ..video.importer import _record_skip
    from ..video.transfer import commit_video

    if "skip" in bundle:
        report.skipped.append((str(path), bundle["skip"]))
        _record_skip(gallery, path, bundle["skip"])
        return
    result = dict(bundle["result"])
    done = commit_video(gallery, bundle)
    if done is None:  # the same footage under another name, imported before or in this run
        report.videos.append({"path": str(path), "sha256": result["sha256"],
                              "status": "already imported (same SHA-256 as an imported video)"})
        report.already += 1
        return
    _, added, seconds = done
    result.update(crops=added, worker_seconds=round(bundle["worker_s"], 2), commit_seconds=round(seconds, 3))
    report.videos.append(result)
    report.imported += added
    if result.get("note"):
        report.skipped.append((str(path), result["note"]))
