"""The gallery folder: a SQLite database (WAL) of imported crops, their sources and vectors.

Layout of a gallery folder::

    gallery.db        images, sources, skipped files, embeddings, settings
    thumbs/ab/<sha>.jpg
    index.hnsw        (only when the hnswlib backend is in use)
    index.bits        (only when the bits backend is in use: sign-bit codes, engine/gallery/bits_index.py)
    vectors.f32       the vectors, one float32 row per image, memory-mapped (see vectors());
                      vectors.f16 / vectors.i8 instead in a gallery created at that precision
                      (vector_format.py). From format 3 their only copy, covered by block hashes in
                      the database (vector_store.py); up to format 2 derived from the database's
                      vector column

Images are referenced, never copied or modified: each is identified by its SHA-256 and keeps
every source path it was imported from. Rows are append-only, so a row's position in
``vectors()`` never changes and can be used as the index label.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..clock import utc_now
from .. import storage
from ..embedder import EmbedderIdentity
from ..errors import GalleryError

SCHEMA_VERSION = 3  # 2: video sources, tracks and crop provenance (engine/video/schema.py); 3: the vector
#                     file is the vectors' only copy, with block hashes (vector_store.py)
DB_NAME = "gallery.db"
VECTOR_FILE = "vectors.f32"  # format 2: derived from the vector column, rebuilt from it when absent
_SYNC_CHUNK = 50_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (
    row INTEGER PRIMARY KEY,            -- 0-based, append-only: the index label
    sha256 TEXT NOT NULL UNIQUE,
    size_bytes INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    format TEXT,
    camera TEXT,
    timestamp TEXT,
    thumb TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    vector BLOB NOT NULL                -- up to format 2 the float32 vector; from format 3 empty (x'')
);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY,              -- absolute source path as imported
    sha256 TEXT NOT NULL REFERENCES images(sha256),
    root TEXT NOT NULL,                 -- the folder given on the command line
    rel_path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sources_sha ON sources(sha256);
CREATE TABLE IF NOT EXISTS skipped (
    path TEXT PRIMARY KEY, reason TEXT NOT NULL, size_bytes INTEGER, mtime_ns INTEGER, at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class GalleryImage:
    """One imported crop."""

    row: int
    sha256: str
    width: int
    height: int
    size_bytes: int
    camera: str | None
    timestamp: str | None
    thumb: Path
    sources: tuple[str, ...]

    @property
    def path(self) -> str:
        """The first source path (where the full-resolution original is read from); the thumbnail's
        when no source is recorded."""
        return self.sources[0] if self.sources else str(self.thumb)


class NewImage(NamedTuple):
    """An image the importer adds: its facts, its vector (float32 bytes) and the source it came from."""

    sha256: str
    size_bytes: int
    width: int
    height: int
    format: str | None
    camera: str | None
    timestamp: str | None
    thumb: str  # path inside the gallery folder
    vector: bytes
    source: tuple  # (path, sha256, root, rel_path, size_bytes, mtime_ns)


class Gallery:
    """A gallery folder. Open with :meth:`open` (must exist) or :meth:`create` (new or existing)."""

    def __init__(self, folder: Path, conn: sqlite3.Connection):
        self.folder = folder
        self.conn = conn
        self._vectors: np.ndarray | None = None
        self._shas: list[str] | None = None
        self._depth = 0  # nesting of transaction()
        self._vector_fd: int | None = None  # the vector file, locked while a transaction appends to it
        self.read_only = False

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def create(cls, folder: str | Path, embedder: EmbedderIdentity, encrypt: bool = False,
               vector_format: str | None = None) -> "Gallery":
        """Open the gallery in ``folder``, creating it if needed, for vectors of ``embedder``.

        ``vector_format`` (fp32 | fp16 | int8; None = fp32 for a new gallery, as it is for an existing
        one) is the precision of the memory-mapped vector file, fixed when the gallery is created.

        ``encrypt`` applies to a new gallery: its database (SQLCipher) and thumbnails (sealed) are then
        encrypted with the workstation passphrase. New galleries are private (folder 0700, files 0600)."""
        folder = Path(folder).expanduser().absolute()
        if folder.exists() and not folder.is_dir():
            raise GalleryError(f"{folder} is a file, not a folder; give a folder for the gallery.")
        if folder.is_dir() and not (folder / DB_NAME).exists() and any(
                p.name not in (".import.lock", ".create.lock") for p in folder.iterdir()):
            raise GalleryError(
                f"{folder} is not empty and is not a gallery; choose a new or empty folder for it."
            )
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        import fcntl

        lock = os.open(folder / ".create.lock", os.O_CREAT | os.O_RDWR, 0o600)  # not the import's lock
        try:  # two processes creating one gallery at once: the second waits and opens what the first made
            fcntl.flock(lock, fcntl.LOCK_EX)
            new = not (folder / DB_NAME).exists()
            gallery = cls(folder, _connect(folder / DB_NAME, create=True, encrypt=encrypt))
            try:
                gallery._init_schema(embedder)
                if new and encrypt:
                    with gallery.conn:
                        gallery.set_meta("thumb_salt", os.urandom(16).hex())
                gallery._set_vector_format(vector_format, new)
                if not new:
                    gallery._check_vector_file()
            except BaseException:
                gallery.close()
                raise
        finally:
            os.close(lock)  # releases the lock
        return gallery

    @property
    def encrypted(self) -> bool:
        return storage.is_encrypted(self.folder / DB_NAME)

    @property
    def thumb_salt(self) -> bytes | None:
        """The salt of the key that seals this gallery's thumbnails; None when they are plain."""
        value = self.meta("thumb_salt")
        return bytes.fromhex(value) if value else None

    def thumbnail_bytes(self, row: int) -> bytes:
        """The JPEG bytes of a row's thumbnail (unsealed when the gallery is encrypted)."""
        return storage.read_image_bytes(self.image(row).thumb)

    @classmethod
    def open(cls, folder: str | Path, read_only: bool = False) -> "Gallery":
        """Open an existing gallery; GalleryError with one sentence if it is not one. ``read_only``:
        the database is opened read-only (nothing is written to the folder; for checks)."""
        folder = Path(folder).expanduser().absolute()
        if not folder.is_dir():
            raise GalleryError(f"Gallery folder {folder} does not exist; import images into it first "
                               "with 'interreid gallery import SRC --gallery DIR'.")
        if not (folder / DB_NAME).is_file():
            raise GalleryError(f"{folder} is not an interreid gallery (no {DB_NAME}); "
                               "import images into it first with 'interreid gallery import'.")
        gallery = cls(folder, _connect(folder / DB_NAME, wal=False, read_only=read_only))
        gallery.read_only = read_only
        try:
            gallery._check_version()
        except GalleryError:
            gallery.close()
            raise
        if not read_only:
            with _guard(folder):
                gallery.conn.execute("PRAGMA journal_mode=WAL")  # only once it proved a gallery (a foreign file stays)
            try:
                gallery._check_vector_file()
            except GalleryError:
                gallery.close()
                raise
        return gallery

    def _check_vector_file(self) -> None:
        from .vector_store import check_on_open

        check_on_open(self)

    def _init_schema(self, embedder: EmbedderIdentity) -> None:
        with _guard(self.folder):
            self.conn.executescript(_SCHEMA)
            if self.meta("schema_version") is None:
                from ..video.schema import VIDEO_SCHEMA

                self.conn.executescript(VIDEO_SCHEMA)
                with self.transaction():
                    self.set_meta("schema_version", str(SCHEMA_VERSION))
                    self.set_meta("created", utc_now())
                    self.set_meta("embedder", json.dumps(embedder.as_dict()))
        self._check_version()
        stored = self.embedder_identity
        if (stored.name, stored.version, stored.dim) != (embedder.name, embedder.version, embedder.dim):
            raise GalleryError(
                f"Gallery {self.folder} holds '{stored.name}' vectors (version {stored.version}); it cannot "
                f"take '{embedder.name}' vectors: import into a new gallery folder for this engine."
            )

    def _check_version(self) -> None:
        with _guard(self.folder):
            try:
                version = self.meta("schema_version")
            except storage.DatabaseError as exc:
                raise GalleryError(f"{self.folder / DB_NAME} is not a valid gallery database ({exc}); "
                                   "choose another folder or re-import.") from None
        if version is None:
            raise GalleryError(f"{self.folder} is not an interreid gallery; re-import into a new folder.")
        if int(version) > SCHEMA_VERSION:
            raise GalleryError(f"Gallery {self.folder} was written by a newer interreid (format {version}); "
                               "update interreid to open it.")

    def close(self) -> None:
        self.conn.close()
        self.let_go_of_files()  # the mapped files go with the gallery, even if this object lingers

    def let_go_of_files(self) -> None:
        """Drop this gallery's mappings of its vector file and lite colour file (the database stays open; a
        later read maps them again): the app does this before it opens the next case."""
        from . import colour_cache

        self._vectors = None
        colour_cache.forget(self.folder)

    def __enter__(self) -> "Gallery":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transactions and the video package's own tables -------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Gallery]:
        """One SQLite transaction: committed when the outermost ``with`` ends, rolled back if it
        raises. Nested uses (e.g. :meth:`add_images` inside an importer's step) join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            with _guard(self.folder), self.conn:  # a locked database is one sentence
                yield self
        finally:
            self._depth = 0
            if self._vector_fd is not None:  # rows appended to the vector file are committed (or not): unlock
                fd, self._vector_fd = self._vector_fd, None
                os.close(fd)

    def _vector_lock_fd(self) -> int:
        """The vector file, opened for appending and locked until the current transaction ends (format 3:
        rows are written to the file before the database commits them; see vector_store.py)."""
        if not self._depth:
            raise RuntimeError("the vector file is appended to inside a transaction only")
        if self._vector_fd is None:
            import fcntl

            fd = os.open(self.vector_file, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            self._vector_fd = fd
        return self._vector_fd

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        """All rows of a read on the gallery database. For the tables other packages own (the video
        package's videos, tracks, track_boxes, crops, pending); images, sources, skipped and meta are
        read through the methods of this class."""
        return self.conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple | list = ()) -> tuple | None:
        """The first row of a read (None when there is none); see :meth:`query`."""
        return self.conn.execute(sql, params).fetchone()

    def execute(self, sql: str, params: tuple | list = ()) -> None:
        """One write on a table another package owns (see :meth:`query`); inside :meth:`transaction`
        it commits with it, outside it the caller's next transaction commits it."""
        self.conn.execute(sql, params)

    def executemany(self, sql: str, rows) -> None:
        """:meth:`execute` for many parameter rows."""
        self.conn.executemany(sql, rows)

    # -- rows by number (lazy readers, the manifest, index payloads, synthetic galleries) ------------
    def has_sources(self) -> bool:
        """Whether any image came from a file (synthetic galleries have none)."""
        return self.conn.execute("SELECT 1 FROM sources LIMIT 1").fetchone() is not None

    def shas_of_rows(self, rows) -> dict[int, str]:
        """{row: SHA-256} of the given rows (read 500 at a time; rows not in the gallery are left out)."""
        return dict(self._images_where_in("row, sha256", "row", [int(r) for r in rows]))

    def facts_of_rows(self, rows) -> dict[int, tuple[str | None, str | None]]:
        """{row: (camera, timestamp)} of the given rows (read 500 at a time; rows not in the gallery are left
        out): what the app's filters need for the images it lists, without reading every row."""
        return {r: (cam, stamp) for r, cam, stamp in
                self._images_where_in("row, camera, timestamp", "row", [int(r) for r in rows])}

    def _images_where_in(self, columns: str, key: str, values: list) -> Iterator[tuple]:
        """``columns`` of the images whose ``key`` is one of ``values``, asked 500 values at a time (SQLite's
        limit on bound parameters)."""
        for i in range(0, len(values), 500):
            chunk = values[i:i + 500]
            yield from self.conn.execute(
                f"SELECT {columns} FROM images WHERE {key} IN ({','.join('?' * len(chunk))})", chunk)

    def rows_with_sha_prefix(self, prefix: str, below: int, limit: int = 2) -> list[tuple[int, str]]:
        """(row, sha256) of up to ``limit`` images of rows below ``below`` whose SHA-256 starts with
        ``prefix`` (hex), found through the hash column's index (no scan of the image list)."""
        prefix = prefix.lower()
        return self.conn.execute("SELECT row, sha256 FROM images WHERE sha256 >= ? AND sha256 < ? AND row < ? "
                                 "ORDER BY sha256 LIMIT ?", (prefix, prefix + "\uffff", int(below), int(limit))).fetchall()

    def iter_shas(self, below: int) -> Iterator[str]:
        """Every SHA-256 of rows ``0 .. below - 1``, in row order, streamed."""
        for (sha,) in self.conn.execute("SELECT sha256 FROM images WHERE row < ? ORDER BY row", (int(below),)):
            yield sha

    def rows_between(self, start: int, stop: int, details: bool = False) -> list[tuple]:
        """(row, sha256) of rows ``start .. stop - 1`` in order; with ``details`` (row, sha256, camera,
        timestamp)."""
        cols = "row, sha256, camera, timestamp" if details else "row, sha256"
        return self.conn.execute(f"SELECT {cols} FROM images WHERE row >= ? AND row < ? ORDER BY row",
                                 (int(start), int(stop))).fetchall()

    def bulk_writes(self, fast: bool) -> None:
        """Trade durability for speed while a new gallery is filled (a crash leaves nothing anyone relies
        on); ``fast=False`` puts the normal settings back."""
        if fast:
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA cache_size=-262144")
        else:
            self.conn.execute("PRAGMA synchronous=NORMAL")

    def has_table(self, name: str) -> bool:
        return self.query_one("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)) is not None

    # -- settings ------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except storage.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def delete_meta(self, key: str) -> None:
        self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))

    def set_index_backend(self, backend: str) -> None:
        """Choose the index backend (auto | exact | bits | bits-ivf | hnsw | usearch | faiss-ivfpq) (saved at once)."""
        self.save_meta("index_backend", backend)

    def save_meta(self, key: str, value: str) -> None:
        """Set one setting in its own transaction."""
        with self.transaction():
            self.set_meta(key, value)

    @property
    def vector_format(self) -> str:
        """The precision of the vector file: fp32 (also every gallery made before the setting), fp16, int8."""
        return self.meta("vector_format") or "fp32"

    def _set_vector_format(self, fmt: str | None, new: bool) -> None:
        from .vector_format import check_format

        if fmt is None or fmt == self.vector_format:
            return
        try:
            check_format(fmt)
        except ValueError as exc:
            raise GalleryError(f"{exc}.") from None
        if not new and len(self):
            raise GalleryError(f"Gallery {self.folder} keeps its vectors at {self.vector_format} precision; "
                               f"the precision is chosen when a gallery is created: import into a new folder "
                               f"for {fmt}.")
        self.save_meta("vector_format", fmt)

    @property
    def embedder_identity(self) -> EmbedderIdentity:
        d = json.loads(self.meta("embedder") or "{}")
        return EmbedderIdentity(d.pop("name", "?"), d.pop("version", "?"), int(d.pop("dim", 0)), extra=d)

    # -- reading -------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.next_row()

    def next_row(self) -> int:
        """The row the next imported image gets: rows are 0-based and append-only, so this is also
        the number of images (read from the primary key's end: O(log N), unlike COUNT(*))."""
        return self.conn.execute("SELECT COALESCE(MAX(row) + 1, 0) FROM images").fetchone()[0]

    def vectors(self) -> np.ndarray:
        """All vectors, (N, D) float32, row i = image row i. Cached until the next import.

        Read-only and memory-mapped from ``vectors.f32`` beside the database, so opening a gallery
        costs the same at any size and the operating system pages rows in as they are scored. From
        format 3 the file is the vectors' only copy (vector_store.py): its first N rows are mapped, and
        a missing or short file is a GalleryError. Up to format 2 the file is derived from the
        database's vector column (which the gallery's hashes and backups cover): rows imported since it
        was last written are appended here, a longer file (an import that did not commit) is cut back,
        and a missing file is rebuilt. A read-only open that finds the file out of date reads the
        database instead and writes nothing."""
        if self._vectors is None:
            from .vector_format import open_mapped, row_bytes as format_row_bytes
            from .vector_store import file_home, short_file_error

            dim = self.embedder_identity.dim
            n = len(self)
            path, fmt = self.vector_file, self.vector_format
            row_bytes = format_row_bytes(fmt, dim)
            size = path.stat().st_size if path.exists() else -1
            if file_home(self):  # the file is the only copy: map its first n rows (a longer tail is not theirs)
                if n and size < n * row_bytes:
                    raise short_file_error(self, n, size if size >= 0 else None)
                self._vectors = open_mapped(path, fmt, n, dim) if n else np.zeros((0, dim), dtype=np.float32)
                return self._vectors
            if size != n * row_bytes and not self.read_only and self._depth == 0:
                self._sync_vector_file(path, n, dim, max(size, 0) // row_bytes)
                size = path.stat().st_size
            if n == 0:
                self._vectors = np.zeros((0, dim), dtype=np.float32)
            elif size == n * row_bytes:
                self._vectors = open_mapped(path, fmt, n, dim)
            else:  # read-only, or inside an import's transaction: the database is the source
                self._vectors = self._vectors_from_db(0, n, dim)
        return self._vectors

    def rows_without_vector(self, nbytes: int) -> int:
        """How many rows' vector BLOB is not ``nbytes`` long (a format-2 gallery has none: ``gallery migrate``
        checks before it upgrades)."""
        return int(self.conn.execute("SELECT COUNT(*) FROM images WHERE LENGTH(vector) != ?", (nbytes,)).fetchone()[0])

    def drop_vector_copies(self) -> int:
        """The upgrade to format 3 (vector_store.migrate_step), inside its transaction: empty every row's
        float32 vector BLOB once the vector file holds them; returns the bytes the BLOBs held."""
        held = self.conn.execute("SELECT COALESCE(SUM(LENGTH(vector)), 0) FROM images").fetchone()[0]
        self.conn.execute("UPDATE images SET vector = x''")
        return int(held)

    def _vectors_from_db(self, start: int, stop: int, dim: int) -> np.ndarray:
        rows = self.conn.execute("SELECT vector FROM images WHERE row >= ? AND row < ? ORDER BY row",
                                 (start, stop)).fetchall()
        return np.frombuffer(b"".join(r[0] for r in rows), dtype=np.float32).reshape(len(rows), dim).copy()

    def _sync_vector_file(self, path: Path, n: int, dim: int, have: int) -> None:
        """Bring ``vectors.f32`` to the database's ``n`` rows: append the missing tail (a file longer
        than the database, e.g. beside a restored older database, is cut back). Two processes
        opening one gallery take turns (a lock on the file) and write each row at its own offset."""
        import fcntl

        from .vector_format import encode, row_bytes as format_row_bytes

        fmt = self.vector_format
        row_bytes = format_row_bytes(fmt, dim)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            have = os.fstat(fd).st_size // row_bytes  # another process may have synced meanwhile
            if have > n:
                os.ftruncate(fd, n * row_bytes)
            else:
                os.ftruncate(fd, have * row_bytes)  # drop a partly written row
                for start in range(have, n, _SYNC_CHUNK):
                    block = self._vectors_from_db(start, min(n, start + _SYNC_CHUNK), dim)
                    os.pwrite(fd, encode(block, fmt), start * row_bytes)
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock

    @property
    def vector_file(self) -> Path:
        """The memory-mapped vector file (its name says its precision)."""
        from .vector_format import FILE_NAMES

        return self.folder / FILE_NAMES.get(self.vector_format, VECTOR_FILE)

    def vector_file_matches(self) -> bool:
        """True when the vector file holds exactly the database's vectors at the gallery's precision
        (reads both: O(N)); from format 3, when every block of the file matches its recorded hash."""
        from .vector_format import encode, row_bytes as format_row_bytes
        from .vector_store import file_home, problems

        if file_home(self):
            return not problems(self)

        dim = self.embedder_identity.dim
        n = len(self)
        path, fmt = self.vector_file, self.vector_format
        size = format_row_bytes(fmt, dim)
        if not path.exists() or path.stat().st_size != n * size:
            return False
        with open(path, "rb") as f:
            for start in range(0, n, _SYNC_CHUNK):
                stop = min(n, start + _SYNC_CHUNK)
                if f.read((stop - start) * size) != encode(self._vectors_from_db(start, stop, dim), fmt):
                    return False
        return True

    def shas(self) -> list[str]:
        """SHA-256 of every image, in row order."""
        if self._shas is None:
            self._shas = [r[0] for r in self.conn.execute("SELECT sha256 FROM images ORDER BY row")]
        return self._shas

    def invalidate(self) -> None:
        self._vectors = None
        self._shas = None

    def image(self, row: int) -> GalleryImage:
        r = self.conn.execute(
            "SELECT row, sha256, width, height, size_bytes, camera, timestamp, thumb FROM images WHERE row = ?",
            (int(row),),
        ).fetchone()
        if r is None:
            raise IndexError(f"no image at row {row}")
        sources = tuple(p for (p,) in self.conn.execute(
            "SELECT path FROM sources WHERE sha256 = ? ORDER BY rowid", (r[1],)))
        if not sources:  # its source file was overwritten with another image after import
            sources = self._replaced_sources(r[1])
        sources = tuple(self._at_home(r[1], p) for p in sources)
        return GalleryImage(r[0], r[1], r[2], r[3], r[4], r[5], r[6], self.folder / r[7], sources)

    def _at_home(self, sha256: str, path: str | None) -> str | None:
        """A crop this gallery wrote into its own folder (a video's: ``<gallery>/crops/ab/<sha256>.png``), where
        the gallery is now: a gallery moved or renamed records where it wrote its crops, not where they are."""
        if path is None or not path.endswith(f"{sha256}.png") or path.startswith(os.path.join(self.folder, "")):
            return path
        own = Path("crops", sha256[:2], f"{sha256}.png")
        if Path(path).parts[-3:] != own.parts:
            return path
        here = self.folder / own  # missing in both places: named where this gallery keeps it
        return str(here) if here.exists() or not os.path.exists(path) else path

    def _replaced_sources(self, sha256: str) -> tuple[str, ...]:
        try:
            return tuple(p for (p,) in self.conn.execute(
                "SELECT path FROM replaced_sources WHERE sha256 = ? ORDER BY rowid", (sha256,)))
        except storage.OperationalError:  # a gallery no import has touched since this table was added
            return ()

    def row_of(self, sha256: str) -> int | None:
        r = self.conn.execute("SELECT row FROM images WHERE sha256 = ?", (sha256,)).fetchone()
        return r[0] if r else None

    def rows_of_shas(self, shas) -> dict[str, int]:
        """{sha256: row} for those of ``shas`` that are in the gallery."""
        return dict(self._images_where_in("sha256, row", "sha256", list(dict.fromkeys(shas))))

    def sources_beside(self, path: str, lo: str, hi: str, limit: int) -> tuple[list, list]:
        """Source (path, sha256) pairs next to ``path`` by name within [lo, hi): up to ``limit`` before
        it (nearest first) and up to ``limit`` after it (nearest first)."""
        before = self.conn.execute("SELECT path, sha256 FROM sources WHERE path >= ? AND path < ? "
                                   "ORDER BY path DESC LIMIT ?", (lo, path, limit)).fetchall()
        after = self.conn.execute("SELECT path, sha256 FROM sources WHERE path > ? AND path < ? "
                                  "ORDER BY path LIMIT ?", (path, hi, limit)).fetchall()
        return before, after

    def rows_of_sources(self, paths: list[str]) -> list[int | None]:
        """The gallery row of each source path as imported (None where the path was not imported)."""
        path_row = dict(self.conn.execute(
            "SELECT s.path, i.row FROM sources s JOIN images i ON i.sha256 = s.sha256").fetchall())
        return [path_row.get(str(p)) for p in paths]

    def load_image(self, row: int):
        """The full-resolution original as an RGB PIL image (read from its first readable source; a video
        crop of an encrypted gallery is unsealed)."""
        from PIL import Image

        from ..storage.blobs import open_image

        img = self.image(row)
        for path in img.sources:
            try:
                with open_image(path) as im:
                    return im.convert("RGB")
            except OSError:
                continue
        try:  # originals gone: the thumbnail
            with Image.open(io.BytesIO(storage.read_image_bytes(img.thumb))) as im:
                return im.convert("RGB")
        except OSError:
            raise GalleryError(
                f"Image {row + 1} of gallery {self.folder} (SHA-256 {img.sha256[:12]}…) can be read neither from "
                f"its original{'s' if len(img.sources) != 1 else ''} nor from its thumbnail: put the original "
                "files back where they were imported from, or restore the gallery folder from its backup."
            ) from None

    def row_metadata(self) -> tuple[list[str | None], list[str | None]]:
        """Camera and timestamp of every row, in row order (one query)."""
        cams: list[str | None] = []
        stamps: list[str | None] = []
        for cam, stamp in self.conn.execute("SELECT camera, timestamp FROM images ORDER BY row"):
            cams.append(cam)
            stamps.append(stamp)
        return cams, stamps

    def snapshot(self) -> list[tuple[int, str, str]]:
        """(row, sha256, first source path) of every image, in row order: what a case records. An
        image whose source file was later overwritten keeps the path it was imported from."""
        first = "(SELECT path FROM sources s WHERE s.sha256 = i.sha256 ORDER BY rowid LIMIT 1)"
        replaced = "(SELECT path FROM replaced_sources r WHERE r.sha256 = i.sha256 ORDER BY rowid LIMIT 1)"
        try:
            rows = self.conn.execute(f"SELECT i.row, i.sha256, COALESCE({first}, {replaced}) FROM images i "
                                     "ORDER BY i.row").fetchall()
        except storage.OperationalError:  # no replaced_sources table in this gallery
            rows = self.conn.execute(f"SELECT i.row, i.sha256, {first} FROM images i ORDER BY i.row").fetchall()
        return [(r[0], r[1], self._at_home(r[1], r[2])) for r in rows]

    def checkpoint(self) -> None:
        """Write the write-ahead log into the database file (before it is re-encrypted or copied)."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def cameras(self) -> list[str]:
        return [c for (c,) in self.conn.execute(
            "SELECT DISTINCT camera FROM images WHERE camera IS NOT NULL ORDER BY camera")]

    def skipped(self) -> list[tuple[str, str]]:
        return list(self.conn.execute("SELECT path, reason FROM skipped ORDER BY path"))

    def fingerprint(self) -> str:
        """SHA-256 over the sorted image hashes: equal iff the galleries hold the same images. Streamed in
        the hash column's index order (no list of every hash in memory: 2.7 GB at 10M rows)."""
        import hashlib

        digest = hashlib.sha256()
        sep = b""
        for (sha,) in self.conn.execute("SELECT sha256 FROM images ORDER BY sha256"):
            digest.update(sep + sha.encode())
            sep = b"\n"
        return digest.hexdigest()

    # -- writing (the importer) -------------------------------------------------------------
    def known_sources(self) -> dict[str, tuple[int, int]]:
        """Every imported source path -> (size_bytes, mtime_ns) as recorded (a resumed import skips them)."""
        return {p: (s, m) for p, s, m in self.conn.execute("SELECT path, size_bytes, mtime_ns FROM sources")}

    def known_skipped(self) -> dict[str, tuple[int, int, str]]:
        """Every skipped path -> (size_bytes, mtime_ns, reason) as recorded."""
        return {p: (s, m, r) for p, s, m, r in self.conn.execute(
            "SELECT path, size_bytes, mtime_ns, reason FROM skipped")}

    def add_images(self, images: list[NewImage], duplicate_sources: list[tuple] = ()) -> None:
        """One transaction: append ``images`` as new rows (in order, each with its source) and record
        the sources of duplicates (``(path, sha256, root, rel_path, size_bytes, mtime_ns)``). A source
        path that held another image before keeps that image's provenance (``replaced_sources``)."""
        from .vector_store import append, file_home

        in_file = file_home(self)
        with self.transaction():
            self.conn.execute(_REPLACED_SCHEMA)
            next_row = self.conn.execute("SELECT COALESCE(MAX(row) + 1, 0) FROM images").fetchone()[0]
            for i, im in enumerate(images):
                self.conn.execute(
                    "INSERT INTO images(row, sha256, size_bytes, width, height, format, camera, timestamp,"
                    " thumb, imported_at, vector) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (next_row + i, im.sha256, im.size_bytes, im.width, im.height, im.format, im.camera,
                     im.timestamp, im.thumb, utc_now(), b"" if in_file else im.vector))
                self._keep_replaced(im.source[0], im.sha256)
                self.conn.execute("INSERT OR REPLACE INTO sources VALUES (?,?,?,?,?,?)", im.source)
            for row in duplicate_sources:
                self._keep_replaced(row[0], row[1])
                self.conn.execute("INSERT OR REPLACE INTO sources VALUES (?,?,?,?,?,?)", row)
            if in_file and images:  # written to the file before the rows commit (vector_store.py)
                dim = self.embedder_identity.dim
                append(self, next_row, np.frombuffer(b"".join(im.vector for im in images),
                                                     dtype=np.float32).reshape(len(images), dim))
        self.invalidate()

    def add_synthetic_rows(self, shas: list[str], vectors: np.ndarray, thumb: str) -> None:
        """Append rows that have no source file (synthetic galleries for ``bench speed``): a hash, a
        vector and one shared thumbnail each. Joins the caller's transaction, if any."""
        from .vector_store import append, file_home

        vectors = np.asarray(vectors, dtype=np.float32)
        in_file = file_home(self)
        with self.transaction():
            start = self.conn.execute("SELECT COALESCE(MAX(row) + 1, 0) FROM images").fetchone()[0]
            self.conn.executemany(
                "INSERT INTO images(row, sha256, size_bytes, width, height, format, camera, timestamp,"
                " thumb, imported_at, vector) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                ((start + i, sha, 0, 32, 64, "JPEG", None, None, thumb, "", b"" if in_file else vectors[i].tobytes())
                 for i, sha in enumerate(shas)))
            if in_file:
                append(self, start, vectors)
        self.invalidate()

    def _keep_replaced(self, path: str, new_sha: str) -> None:
        old = self.conn.execute("SELECT sha256 FROM sources WHERE path = ?", (path,)).fetchone()
        if old is not None and old[0] != new_sha:
            self.conn.execute("INSERT INTO replaced_sources VALUES (?,?,?)", (path, old[0], utc_now()))

    def record_skipped(self, path: str, reason: str, size_bytes: int | None, mtime_ns: int | None) -> None:
        """Remember a skipped file (and why), so a resumed import does not read it again."""
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO skipped VALUES (?,?,?,?,?)",
                              (path, reason, size_bytes, mtime_ns, utc_now()))

    # -- summary -----------------------------------------------------------------------------
    def info(self) -> dict:
        """Counts and identities for ``gallery info``."""
        from .index import index_settings
        from .vector_store import summary as vector_summary

        n_sources = self.conn.execute("SELECT COUNT(*) FROM sources").fetchone()[0]
        return {
            "folder": str(self.folder),
            "images": len(self),
            "source_files": n_sources,
            "duplicates": n_sources - self.conn.execute("SELECT COUNT(DISTINCT sha256) FROM sources").fetchone()[0],
            "skipped": len(self.skipped()),
            "skipped_files": [{"path": p, "reason": r} for p, r in self.skipped()],
            "cameras": self.cameras(),
            "embedder": self.embedder_identity.as_dict(),
            "index": index_settings(self, len(self)),
            "vector_format": self.vector_format,
            "vector_file": vector_summary(self),
            "fingerprint": self.fingerprint(),
            "encrypted": self.encrypted,
            "schema_version": int(self.meta("schema_version") or 0),
            "created": self.meta("created"),
        }


def _connect(path: Path, wal: bool = True, create: bool = False, encrypt: bool = False, read_only: bool = False):
    try:
        conn = storage.open_database(path, create=create, encrypt=encrypt, what="gallery", wal=wal and not read_only,
                                     read_only=read_only)
        conn.execute("PRAGMA synchronous=NORMAL")
    except storage.OperationalError as exc:
        raise _locked_or(exc, path.parent) from None
    except storage.DatabaseError as exc:
        raise GalleryError(f"{path} is not a valid gallery database ({exc}); choose another folder.") from None
    return conn


def _locked_or(exc: Exception, folder: Path) -> Exception:
    if "locked" in str(exc) or "busy" in str(exc):
        return GalleryError(f"Gallery {folder} is in use by another interreid process; close it and retry.")
    return exc


# A source file overwritten with other content after import: the earlier image keeps its provenance
# (the path it was imported from, and when that path stopped holding it).
_REPLACED_SCHEMA = ("CREATE TABLE IF NOT EXISTS replaced_sources (path TEXT NOT NULL, sha256 TEXT NOT NULL, "
                    "replaced_at TEXT NOT NULL)")


class _guard:
    """Turns 'database is locked' into one clear sentence; other errors pass through."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and issubclass(exc_type, storage.OperationalError) and (
                "locked" in str(exc) or "busy" in str(exc)):
            raise GalleryError(f"Gallery {self.folder} is in use by another interreid process; "
                               "close it and retry.") from None
        return False
