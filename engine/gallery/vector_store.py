"""The vector file as the vectors' one home (gallery format 3), and its block hashes.

Up to gallery format 2 the database kept every vector as a float32 BLOB and the memory-mapped vector
file beside it (``vectors.f32`` / ``.f16`` / ``.i8``, vector_format.py) was derived from that column.
At 512 dimensions that is 2 KB a row in the database on top of the file: 20 GB at ten million rows.
From format 3 the file is the only copy:

* an import appends the new rows' vectors to the file (at the gallery's precision) **before** it
  commits the rows to the database, holding a lock on the file until the commit: the database's row
  count is the truth, and a file longer than it (an import that died before its commit) is cut back
  on the next open or append;
* the file is covered by SHA-256 hashes kept in the database, one per block of ``BLOCK_ROWS`` rows of
  the file's bytes (table ``vector_blocks``). An append re-hashes only the last block it touches,
  and first checks that block's earlier rows against their recorded hash, so a damaged tail is not
  hashed over. :func:`problems` re-reads the file block by block (streaming) and names the rows of
  any block that differs (``gallery verify``, ``case verify``);
* the ``vector`` column stays in the table (so the schema is the one every format shares and an
  upgrade needs no table rebuild: SQLite cannot drop a NOT NULL constraint in place, and rebuilding
  the table would copy every row) and holds an empty BLOB;
* a missing or shortened file cannot be rebuilt from the database any more: opening the gallery
  says so in one sentence (restore the gallery folder from its backup, or re-import).

``gallery migrate`` upgrades a format-2 gallery (:func:`migrate_step`): it brings the file to the
database's vectors, records the block hashes and empties the BLOBs in one transaction, then compacts
the database when the disk has room for it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil

import numpy as np

from ..clock import utc_now
from ..errors import GalleryError

FORMAT_FILE_HOME = 3  # the first gallery format whose vector file is the vectors' only copy
BLOCK_ROWS = 16_384  # rows per hashed block: re-hashing the last block costs <= 34 MB at 512-d fp32
TABLE = ("CREATE TABLE IF NOT EXISTS vector_blocks (block INTEGER PRIMARY KEY, rows INTEGER NOT NULL, "
         "sha256 TEXT NOT NULL)")
_READ = 8 << 20  # bytes read at a time when hashing


def file_home(gallery) -> bool:
    """Whether the gallery's vector file is the vectors' only copy (format 3 and later)."""
    return int(gallery.meta("schema_version") or 0) >= FORMAT_FILE_HOME


def _row_bytes(gallery) -> int:
    from .vector_format import row_bytes

    return row_bytes(gallery.vector_format, gallery.embedder_identity.dim)


def _restore_advice(gallery) -> str:
    return (f"the vectors cannot be rebuilt from the database in this gallery's format: restore the gallery folder "
            f"{gallery.folder} from its backup, or re-import its images into a new gallery")


def short_file_error(gallery, n: int, have_bytes: int | None) -> GalleryError:
    """One sentence for a vector file that is missing or holds fewer rows than the database."""
    name = gallery.vector_file.name
    if have_bytes is None:
        what = f"The vector file {name} of gallery {gallery.folder} is missing"
    else:
        what = (f"The vector file {name} of gallery {gallery.folder} holds {have_bytes // _row_bytes(gallery):,} "
                f"of its {n:,} images' vectors (it was cut short)")
    return GalleryError(f"{what}; {_restore_advice(gallery)}.")


def check_on_open(gallery) -> None:
    """O(1) check when a format-3 gallery is opened for writing: the file must hold at least the
    database's rows (else GalleryError, one sentence); a longer file, left by an import that died
    before its commit, is cut back when no import holds the file's lock."""
    n = len(gallery)
    if n == 0 or not file_home(gallery):
        return
    path, rb = gallery.vector_file, _row_bytes(gallery)
    size = path.stat().st_size if path.exists() else None
    if size is None or size < n * rb:
        raise short_file_error(gallery, n, size)
    if size > n * rb:
        fd = os.open(path, os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # an import is appending right now: its rows are about to be committed
            n = len(gallery)  # an import may have committed between the first count and the lock
            if os.fstat(fd).st_size > n * rb:
                os.ftruncate(fd, n * rb)
                os.fsync(fd)
        finally:
            os.close(fd)


def append(gallery, start: int, vectors: np.ndarray) -> None:
    """Write ``vectors`` (float32, (m, D)) as rows ``start``.. of the vector file and record the hashes
    of the blocks they touch, inside the caller's open transaction (whose rows they are). The file's
    lock is held until that transaction ends (:meth:`Gallery.transaction` releases it)."""
    from .vector_format import encode

    vectors = np.asarray(vectors, dtype=np.float32)
    m = len(vectors)
    if m == 0:
        return
    rb = _row_bytes(gallery)
    data = memoryview(encode(vectors, gallery.vector_format))
    fd = gallery._vector_lock_fd()
    size = os.fstat(fd).st_size
    if size < start * rb:
        raise short_file_error(gallery, start, size if gallery.vector_file.exists() and size else None)
    gallery.execute(TABLE)
    stop = start + m
    first = start // BLOCK_ROWS
    partial = None
    if start > first * BLOCK_ROWS:  # the last block's earlier rows are in the file: check them before extending
        lo = first * BLOCK_ROWS
        partial = hashlib.sha256()
        _hash_range(fd, lo * rb, (start - lo) * rb, partial)
        stored = gallery.query_one("SELECT rows, sha256 FROM vector_blocks WHERE block = ?", (first,))
        if stored is None or stored[0] != start - lo or stored[1] != partial.hexdigest():
            raise GalleryError(
                f"The vector file {gallery.vector_file.name} of gallery {gallery.folder} was changed after its "
                f"rows {lo:,}-{start - 1:,} were imported, so nothing more was added; run 'interreid gallery "
                f"verify {gallery.folder}', then restore the folder from its backup.")
    if size > start * rb:
        os.ftruncate(fd, start * rb)  # rows of an import that did not commit
    _write_all(fd, data, start * rb)
    os.fsync(fd)
    for b in range(first, (stop - 1) // BLOCK_ROWS + 1):
        lo, hi = b * BLOCK_ROWS, min(stop, (b + 1) * BLOCK_ROWS)
        digest = partial if (b == first and partial is not None) else hashlib.sha256()
        digest.update(data[(max(lo, start) - start) * rb:(hi - start) * rb])
        gallery.execute("INSERT OR REPLACE INTO vector_blocks VALUES (?,?,?)", (b, hi - lo, digest.hexdigest()))


def _fsync_dir(folder) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: memoryview, offset: int) -> None:
    while len(data):
        done = os.pwrite(fd, data[:1 << 30], offset)
        data, offset = data[done:], offset + done


def _hash_range(fd: int, offset: int, length: int, digest) -> int:
    """Feed ``length`` bytes of the file from ``offset`` to ``digest``; returns how many were there."""
    got = 0
    while got < length:
        chunk = os.pread(fd, min(_READ, length - got), offset + got)
        if not chunk:
            break
        digest.update(chunk)
        got += len(chunk)
    return got


def _rows_sha(fd: int, lo: int, hi: int, rb: int) -> str:
    """SHA-256 of the file's rows ``lo`` .. ``hi - 1`` (``rb`` bytes a row), read in chunks."""
    digest = hashlib.sha256()
    _hash_range(fd, lo * rb, (hi - lo) * rb, digest)
    return digest.hexdigest()


def record_hashes(gallery, fd: int, n: int) -> int:
    """Hash every block of the file's first ``n`` rows into ``vector_blocks`` (replacing what was there),
    inside the caller's transaction; returns the number of blocks."""
    rb = _row_bytes(gallery)
    gallery.execute(TABLE)
    gallery.execute("DELETE FROM vector_blocks")
    blocks = 0
    for b in range(0, (n + BLOCK_ROWS - 1) // BLOCK_ROWS):
        lo, hi = b * BLOCK_ROWS, min(n, (b + 1) * BLOCK_ROWS)
        gallery.execute("INSERT INTO vector_blocks VALUES (?,?,?)", (b, hi - lo, _rows_sha(fd, lo, hi, rb)))
        blocks += 1
    return blocks


def problems(gallery, progress=None) -> list[str]:
    """Re-hash the vector file block by block (streaming) against the hashes recorded at import; one
    sentence per problem, naming the rows of each block that differs (empty: the file is intact)."""
    n = len(gallery)
    if not file_home(gallery) or n == 0:
        return []
    path, rb = gallery.vector_file, _row_bytes(gallery)
    name = path.name
    if not path.exists():
        return [f"the vector file {name} is missing: {_restore_advice(gallery)}"]
    size = path.stat().st_size
    out = []
    if size < n * rb:
        out.append(f"the vector file {name} holds {size // rb:,} of the gallery's {n:,} rows (cut short): "
                   f"{_restore_advice(gallery)}")
    stored = {b: (rows, sha) for b, rows, sha in
              (gallery.query("SELECT block, rows, sha256 FROM vector_blocks") if gallery.has_table("vector_blocks")
               else [])}
    bad: list[tuple[int, int]] = []
    unrecorded: list[tuple[int, int]] = []
    n_blocks = (n + BLOCK_ROWS - 1) // BLOCK_ROWS
    with open(path, "rb") as f:
        fd = f.fileno()
        for b in range(n_blocks):
            lo, hi = b * BLOCK_ROWS, min(n, (b + 1) * BLOCK_ROWS)
            if hi * rb > size:
                break  # said above
            rec = stored.get(b)
            if rec is None or rec[0] != hi - lo:
                unrecorded.append((lo, hi - 1))
                continue
            if _rows_sha(fd, lo, hi, rb) != rec[1]:
                bad.append((lo, hi - 1))
            if progress is not None:
                progress(hi, n)
    if bad:
        out.append(f"the vector file {name} differs from the hashes recorded at import in rows "
                   f"{_ranges(bad)}: those images' vectors were changed or damaged; {_restore_advice(gallery)}")
    if unrecorded:
        out.append(f"the gallery holds no hash for the vector file's rows {_ranges(unrecorded)} (its block hashes "
                   f"were removed or altered); {_restore_advice(gallery)}")
    return out


def size_text(nbytes: int) -> str:
    """A byte count for a reader: 512 bytes, 40 kB, 1.2 MB, 5.2 GB."""
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= div:
            return f"{nbytes / div:,.1f} {unit}" if nbytes < 10 * div else f"{nbytes / div:,.0f} {unit}"
    return f"{nbytes} bytes"


def summary(gallery) -> dict:
    """Where the vectors live, for ``gallery info``: {"home": "file" | "database", "file", "bytes", "blocks"}."""
    path = gallery.vector_file
    home = file_home(gallery)
    blocks = (gallery.query_one("SELECT COUNT(*) FROM vector_blocks")[0]
              if home and gallery.has_table("vector_blocks") else 0)
    return {"home": "file" if home else "database", "file": path.name,
            "bytes": path.stat().st_size if path.exists() else 0, "hashed_blocks": blocks}


def _ranges(spans: list[tuple[int, int]]) -> str:
    text = ", ".join(f"{a:,}-{b:,}" for a, b in spans[:5])
    return text + (f" and {len(spans) - 5} more blocks of {BLOCK_ROWS:,}" if len(spans) > 5 else "")


def migrate_step(gallery) -> str | None:
    """``gallery migrate``: format 2 -> 3. Bring the vector file to the database's vectors (the
    database is the source in format 2), record its block hashes, empty the float32 BLOBs and set
    format 3, in one transaction; then compact the database if the disk has room. One or two
    sentences saying what was done, or None when the gallery is format 3 already."""
    from .vector_format import encode

    version = int(gallery.meta("schema_version") or 0)
    if version >= FORMAT_FILE_HOME or gallery.read_only:
        return None
    n = len(gallery)
    dim = gallery.embedder_identity.dim
    fmt = gallery.vector_format
    rb = _row_bytes(gallery)
    path = gallery.vector_file
    tmp = path.with_name(path.name + ".upgrading")
    with gallery.transaction():
        gallery.set_meta(f"migrated_{version}_to_{FORMAT_FILE_HOME}", utc_now())  # a write first: it takes
        gallery.execute(TABLE)  # the database's write lock, so no import adds rows until this commits
        short = gallery.rows_without_vector(dim * 4)
        if short:
            raise GalleryError(f"Gallery {gallery.folder} lacks the vectors of {short:,} of its images in its database "
                               f"(format {version} keeps them there), so it cannot be upgraded; its vectors were left "
                               "as they were: restore the gallery folder from its backup, or re-import its images.")
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:  # written afresh from the database (the source until now) beside the old file, then put in its place
            chunk = max(1, (64 << 20) // max(rb, 1))
            for a in range(0, n, chunk):
                block = gallery._vectors_from_db(a, min(n, a + chunk), dim)
                _write_all(fd, memoryview(encode(block, fmt)), a * rb)
            os.fsync(fd)
            blocks = record_hashes(gallery, fd, n)
        finally:
            os.close(fd)
        os.replace(tmp, path)  # before the commit: a crash in between leaves a format-2 gallery and its file
        _fsync_dir(path.parent)
        removed = gallery.drop_vector_copies()
        gallery.set_meta("schema_version", str(FORMAT_FILE_HOME))
        gallery.set_meta(_UNCOMPACTED, str(removed))
    gallery.invalidate()
    said = (f"format {version} -> {FORMAT_FILE_HOME}: the vector file {path.name} is now the only copy of the "
            f"{n:,} images' vectors (at {fmt} precision; written from the database and covered by {blocks:,} block "
            f"hash{'es' if blocks != 1 else ''} recorded in it), and the database's float32 copies "
            f"({size_text(removed)}) were removed")
    return said + "; " + compact(gallery)


_UNCOMPACTED = "vectors_removed_uncompacted"  # bytes of removed copies the database has not given back yet


def compact(gallery) -> str:
    """VACUUM the database when the disk has room for the copy SQLite makes (its size and a tenth);
    one clause saying what it did or how to reclaim the space later."""
    db_path = gallery.folder / "gallery.db"
    gallery.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the removals reach the file, so its size is true
    size = db_path.stat().st_size
    if shutil.disk_usage(db_path.parent).free < size * 1.1 + (256 << 20):
        return (f"there is not enough free disk to compact the database now ({size_text(size)} free needed): "
                f"free some and run 'interreid gallery migrate {gallery.folder}' again to give back the space.")
    gallery.execute("VACUUM")
    with gallery.transaction():
        gallery.delete_meta(_UNCOMPACTED)
    gallery.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # in WAL mode the file shrinks only at a checkpoint
    after = db_path.stat().st_size
    if after >= size:
        return f"the database ({size_text(after)}) had no space to give back."
    return f"the database was compacted from {size_text(size)} to {size_text(after)}."


def compact_step(gallery) -> str | None:
    """``gallery migrate`` run again on a format-3 gallery whose database was not compacted after the
    upgrade (the disk was too full then)."""
    if gallery.read_only or not file_home(gallery) or not gallery.meta(_UNCOMPACTED):
        return None
    return compact(gallery)


def verify_gallery(gallery, progress=None) -> dict:
    """``gallery verify``: the vector file against its block hashes (format 3) or against the database's
    vectors (format 2), and the image list against the gallery's own manifest checkpoints (streaming).
    {"ok", "problems": [sentences], "notes": [sentences], "rows", "format"}."""
    from . import manifest

    n = len(gallery)
    version = int(gallery.meta("schema_version") or 0)
    found: list[str] = []
    notes: list[str] = []
    if file_home(gallery):
        found += problems(gallery, progress)
        blocks = (n + BLOCK_ROWS - 1) // BLOCK_ROWS
        if not found and n:
            notes.append(f"the vector file {gallery.vector_file.name} matches the {blocks:,} block hashes recorded "
                         f"at import ({n:,} rows)")
    elif n and not gallery.vector_file_matches():
        notes.append(f"the vector file {gallery.vector_file.name} differs from the vectors in the database (format "
                     f"{version}: the database is their source); delete the file and it is written again from the "
                     f"database when the gallery is next opened, or run 'interreid gallery migrate {gallery.folder}'")
    elif n:
        notes.append(f"the vector file {gallery.vector_file.name} matches the database's {n:,} vectors (format {version})")
    cps = manifest.checkpoints(gallery)
    if cps:
        upto, head = cps[-1]
        problem = manifest.verify(gallery, upto, head)
        if problem:
            found.append(problem)
        else:
            notes.append(f"the image list matches the gallery's manifest at {upto:,} rows")
    return {"ok": not found, "rows": n, "format": version, "problems": found, "notes": notes}
