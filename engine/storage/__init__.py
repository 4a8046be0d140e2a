"""Opening the project's SQLite databases: ONE function for case files and galleries.

``open_database(path, ...)`` returns a DB-API connection to a plain SQLite file or to a SQLCipher
(AES-256) encrypted one. Which one a file is shows in its first 16 bytes: a plain file starts with
``SQLite format 3``, an encrypted one with the random salt its key is derived from. New files are
created 0600 (owner only). A missing or wrong key is one sentence (:class:`KeyMissingError`).

The sqlite3 and sqlcipher3 modules have separate exception classes; catch
``storage.OperationalError`` / ``storage.DatabaseError`` (tuples of both).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ..errors import UserError
from .blobs import read_image_bytes
from .keys import KeyMissingError, derive_key, get_passphrase

__all__ = ["open_database", "is_encrypted", "is_sqlite_file", "OperationalError", "DatabaseError",
           "KeyMissingError", "FILE_MODE", "rekey_database", "read_image_bytes"]

PLAIN_HEADER = b"SQLite format 3\x00"
FILE_MODE = 0o600

try:  # the SQLCipher build; its absence only matters for encrypted files
    import sqlcipher3 as _cipher
except ImportError:  # pragma: no cover - a dependency; kept optional so plain files still open
    _cipher = None

OperationalError: tuple = (sqlite3.OperationalError,) + ((_cipher.OperationalError,) if _cipher else ())
DatabaseError: tuple = (sqlite3.DatabaseError,) + ((_cipher.DatabaseError,) if _cipher else ())


def _header(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(16)
    except OSError:
        return b""


def is_sqlite_file(path: str | Path) -> bool:
    """True for a plain SQLite database file (by its header; nothing is written)."""
    return _header(Path(path)) == PLAIN_HEADER


def is_encrypted(path: str | Path) -> bool:
    """True when the file exists, is not empty and is not plain SQLite (so: SQLCipher, or foreign)."""
    head = _header(Path(path))
    return len(head) == 16 and head != PLAIN_HEADER


def _touch_private(path: Path) -> None:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:  # another process made it first: it is opened as it is
        return
    os.close(fd)


#: SQLCipher 4's page: an encrypted database file is a whole number of them
CIPHER_PAGE_BYTES = 4096


def open_database(path: str | Path, *, create: bool = False, encrypt: bool = False, what: str = "file",
                  wal: bool = True, timeout: float = 5.0, passphrase: str | None = None,
                  label: str | Path | None = None, read_only: bool = False):
    """Open (or with ``create=True`` create) the database at ``path``; return a DB-API connection.

    ``encrypt`` applies to a new file only; an existing file is opened as what it is. The key of an
    encrypted file comes from :func:`get_passphrase` (or ``passphrase``). Journal mode WAL is set only
    after the file proved readable, so a foreign file is never switched (and never changed).
    ``read_only`` opens an existing file read-only (nothing is written to it; for checks).
    Raises :class:`KeyMissingError` (one sentence) when the key is missing or wrong, and
    ``storage.DatabaseError`` when the file is not a database.
    """
    path = Path(path)
    shown = label or path  # the name a user knows (a file being created has a temporary one)
    new = create and (not path.exists() or path.stat().st_size == 0)
    if new and not path.exists():
        _touch_private(path)
    if (new and encrypt) or (not new and is_encrypted(path)):
        if _cipher is None:  # pragma: no cover
            raise UserError(f"{shown} is encrypted and this installation lacks SQLCipher; reinstall interreid.")
        secret = passphrase if passphrase is not None else get_passphrase(what, shown, confirm=new)
        salt = os.urandom(16) if new else _header(path)
        key = derive_key(secret, salt)
        if read_only and not new:
            conn = _cipher.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=timeout,
                                   check_same_thread=False)
        else:
            conn = _cipher.connect(str(path), timeout=timeout, check_same_thread=False)
        _quiet(conn)
        conn.execute(f"PRAGMA key = \"x'{key.hex()}{salt.hex() if new else ''}'\"")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except _cipher.DatabaseError:
            conn.close()
            size = path.stat().st_size
            if size % CIPHER_PAGE_BYTES:  # an encrypted database is whole pages: not one, or one cut short
                raise KeyMissingError(f"{shown} does not open: it is not a whole number of pages ({size:,} bytes), so "
                                      f"it is not an interreid {what}, or it is one that was cut short (e.g. by an "
                                      "unfinished copy): restore it from a backup copy.") from None
            raise KeyMissingError(f"{shown} does not open with this passphrase: it is not an interreid {what}, or "
                                  "it was encrypted with another passphrase (give that one).") from None
    else:
        if read_only and not new:
            conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=timeout,
                                   check_same_thread=False)
        else:
            conn = sqlite3.connect(str(path), timeout=timeout, check_same_thread=False)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a foreign file fails here, unchanged
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    return conn


def _quiet(conn) -> None:
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
    except Exception:  # noqa: BLE001  (older SQLCipher without the pragma: logging stays as it is)
        pass


def rekey_database(path: str | Path, old_passphrase: str | None, new_passphrase: str | None,
                   what: str = "file") -> str:
    """Change the key of ``path``: encrypted -> new passphrase, plain -> encrypted, or encrypted -> plain
    (``new_passphrase`` None). Returns what was done, as a sentence fragment. Runs on a closed file."""
    path = Path(path)
    if is_encrypted(path):
        conn = open_database(path, what=what, passphrase=old_passphrase, wal=False)
        if new_passphrase is None:
            return _export(conn, path, None, what) or "decrypted"
        salt = _header(path)
        key = derive_key(new_passphrase, salt)
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute(f"PRAGMA rekey = \"x'{key.hex()}'\"")
        conn.close()
        return "re-encrypted with the new passphrase"
    if new_passphrase is None:
        return "left plain (it was not encrypted)"
    conn = sqlite3.connect(str(path))
    conn.close()
    return _export(None, path, new_passphrase, what) or "encrypted"


def _export(conn, path: Path, new_passphrase: str | None, what: str) -> str:
    """Copy ``path`` into a new file with the other encryption, then replace it atomically."""
    tmp = path.with_name(f".{path.name}.rekey-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    if conn is None:  # plain -> encrypted: attach an encrypted database and export into it
        salt = os.urandom(16)
        key = derive_key(new_passphrase, salt)
        conn = _cipher.connect(str(path))
        _quiet(conn)
        conn.execute("PRAGMA journal_mode=DELETE")
        _touch_private(tmp)
        conn.execute(f"ATTACH DATABASE ? AS out KEY \"x'{key.hex()}{salt.hex()}'\"", (str(tmp),))
    else:  # encrypted -> plain
        conn.execute("PRAGMA journal_mode=DELETE")
        _touch_private(tmp)
        conn.execute("ATTACH DATABASE ? AS out KEY ''", (str(tmp),))
    try:
        conn.execute("SELECT sqlcipher_export('out')").fetchone()
        version = conn.execute("PRAGMA main.user_version").fetchone()[0]
        conn.execute(f"PRAGMA out.user_version = {int(version)}")
        conn.execute("DETACH DATABASE out")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.replace(tmp, path)
    return ""
