"""Lite colour vectors of a full-engine gallery's rows, kept beside ``gallery.db``.

A full-engine (CLIP) gallery's questioner, when it is the lite ``infogain`` questioner (chosen, or the
LLaVA questioner's fallback), reads the lite colour layout of the best rows of each round. Those
vectors used to be computed from the images every round (decode + colour naming of 50 images:
hundreds of milliseconds). They are now kept per row in ``lite-colour-v<version>.f32`` beside the
database (float32, one row of ``lite-colour``'s dimension per gallery row, in row order):

* an import writes the rows it adds (``store_imported``), computed from the images it has decoded
  anyway;
* rows not written yet (galleries imported before this file existed, crops cut from video) are
  computed from their images the first time a round reads them and written then (``vectors_of``):
  an older gallery fills itself as it is used; ``gallery migrate`` fills every row at once;
* the file name carries the lite embedder's version: a new version starts a new file, never mixing
  two colour models.

A row of zeros is a row not computed yet (a computed lite vector is L2-normalised, never zero), so
the file can grow sparsely. Like ``vectors.f32`` it holds derived features only (no image, hash or
name) and stays plain in an encrypted gallery. A read-only gallery is never written: missing rows
are computed and returned, not kept.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

LITE = "lite-colour"  # the embedder whose vectors this file holds


def _identity():
    from ..embedder import create_embedder

    embedder = create_embedder("lite")
    return embedder, embedder.identity


def cache_path(folder: Path, version: str) -> Path:
    return Path(folder) / f"{LITE}-v{version}.f32"


def needed(gallery) -> bool:
    """True when the gallery's own vectors are not lite colour vectors (so they need this file)."""
    return gallery.embedder_identity.name != LITE


def vectors_of(gallery, rows, load_image=None) -> np.ndarray:
    """Lite colour vectors (len(rows), dim) float32 of gallery ``rows``: read from the file, and for rows
    not in it yet computed from their images (``load_image(row)``, default the gallery's) and stored."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    embedder, ident = _identity()
    path = cache_path(gallery.folder, ident.version)
    out = _read(path, rows, ident.dim)
    missing = np.flatnonzero(~out.any(axis=1))
    if len(missing):
        load = load_image or gallery.load_image
        computed = embedder.embed_images([load(int(rows[i])) for i in missing])
        out[missing] = computed
        if not gallery.read_only:
            _write(path, rows[missing], computed, ident.dim)
    return out


def store_imported(gallery, first_row: int, images) -> None:
    """An import added ``images`` (PIL, in order) as rows ``first_row``...: write their lite vectors."""
    if not images or gallery.read_only or not needed(gallery):
        return
    embedder, ident = _identity()
    _write(cache_path(gallery.folder, ident.version), np.arange(first_row, first_row + len(images)),
           embedder.embed_images(list(images)), ident.dim)


def store_rows(gallery, rows, vectors) -> None:
    """Write given lite vectors for ``rows`` (e.g. a synthetic gallery's, or a bulk fill)."""
    _, ident = _identity()
    _write(cache_path(gallery.folder, ident.version), np.asarray(rows, dtype=np.int64),
           np.asarray(vectors, dtype=np.float32), ident.dim)


def fill(gallery, batch: int = 64, progress=None) -> int:
    """Compute and store every row not in the file yet (``gallery migrate``); returns how many."""
    _, ident = _identity()
    path = cache_path(gallery.folder, ident.version)
    n = len(gallery)
    done = 0
    for start in range(0, n, 4096):
        rows = np.arange(start, min(n, start + 4096))
        have = _read(path, rows, ident.dim)
        todo = rows[~have.any(axis=1)]
        for i in range(0, len(todo), batch):
            vectors_of(gallery, todo[i:i + batch])
            done += len(todo[i:i + batch])
            if progress is not None:
                progress(done)
    return done


def migrate_step(gallery) -> str | None:
    """``gallery migrate``'s step: fill every row's lite colours; one sentence saying what it did."""
    if not needed(gallery) or len(gallery) == 0:
        return None
    done = fill(gallery)
    if not done:
        return None
    _, ident = _identity()
    return (f"computed the colour features used to suggest questions for {done} images into "
            f"{cache_path(gallery.folder, ident.version).name}; no image, vector or source row was changed.")


def coverage(gallery) -> int:
    """How many of the gallery's rows the file holds (reads it: O(N))."""
    _, ident = _identity()
    n = len(gallery)
    path = cache_path(gallery.folder, ident.version)
    total = 0
    for start in range(0, n, 65536):
        total += int(_read(path, np.arange(start, min(n, start + 65536)), ident.dim).any(axis=1).sum())
    return total


def stored_vectors(gallery, rows) -> np.ndarray:
    """The rows' lite colour vectors as the file holds them (zeros for rows not computed yet); computes and
    writes nothing (an interview's warm-up reads the file this way)."""
    _, ident = _identity()
    return _read(cache_path(gallery.folder, ident.version), np.asarray(rows, dtype=np.int64).reshape(-1), ident.dim)


def prefault(gallery) -> bool:
    """Ask the system to read the whole file into its page cache, in the background (``posix_fadvise``
    WILLNEED; not mapped into this process, so it adds nothing to its resident memory): a round reads its
    top rows' colours, and at 10M rows, with the file half in the page cache, those 50 scattered reads
    took 75-150 ms from disk. Returns True when the request was made."""
    _, ident = _identity()
    path = cache_path(gallery.folder, ident.version)
    if not hasattr(os, "posix_fadvise") or not path.exists():
        return False
    import threading

    def read_ahead() -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)

    threading.Thread(target=read_ahead, name="colour-read-ahead", daemon=True).start()
    return True


_MAPS: dict[str, tuple] = {}  # path -> ((device, inode, rows, dim), memmap): mapped once, not every round
_MAPS_KEPT = 4  # open galleries' files (a closed gallery's is dropped: ``forget``)


def forget(folder) -> None:
    """Let go of the mapping of the colour file in ``folder`` (every version's): its gallery was closed or
    let go of its files. It was kept until four other galleries' files had been mapped: at 10M rows a
    closed case's 1.8 GB file stayed counted in the app's resident memory. Mapped again if read again."""
    prefix = str(Path(folder)) + os.sep
    for key in [k for k in list(_MAPS) if k.startswith(prefix)]:
        _MAPS.pop(key, None)


def _mapped(path: Path, dim: int):
    """The file mapped read-only (None when it holds no row yet); mapped again when it has grown or was
    replaced, so rows written since (by this process or another) are read."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    have = st.st_size // (4 * dim)
    if have == 0:
        return None
    key, ident = str(path), (st.st_dev, st.st_ino, have, dim)
    hit = _MAPS.pop(key, None)
    if hit is None or hit[0] != ident:
        hit = (ident, np.memmap(path, dtype=np.float32, mode="r", shape=(have, dim)))
    _MAPS[key] = hit  # most recent last
    while len(_MAPS) > _MAPS_KEPT:
        _MAPS.pop(next(iter(_MAPS)))
    return hit[1]


def _read(path: Path, rows: np.ndarray, dim: int) -> np.ndarray:
    out = np.zeros((len(rows), dim), dtype=np.float32)
    if not len(rows):
        return out
    mapped = _mapped(path, dim)
    if mapped is None:
        return out
    inside = rows < len(mapped)
    out[inside] = mapped[rows[inside]]
    return out


def _write(path: Path, rows: np.ndarray, vectors: np.ndarray, dim: int) -> None:
    """Write rows at their offsets (the file grows sparsely); two processes take turns (a file lock)."""
    import fcntl

    if not len(rows):
        return
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(rows), dim)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        order = np.argsort(rows, kind="stable")
        rows, vectors = rows[order], vectors[order]
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1  # runs of consecutive rows: one write each
        for run_rows, run_vecs in zip(np.split(rows, breaks), np.split(vectors, breaks)):
            os.pwrite(fd, run_vecs.tobytes(), int(run_rows[0]) * 4 * dim)
    finally:
        os.close(fd)
