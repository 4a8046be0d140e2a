"""The case file: one SQLite file per investigation.

Tables: ``case_meta`` (title, investigator, gallery path + fingerprint, engine identity),
``gallery_images`` (the gallery's images when the case was made: SHA-256 and source path),
``rounds``, ``rankings``, ``candidates``, ``marks``, ``witness_views`` and ``audit``.

Every write goes through :meth:`CaseFile._write`: one transaction that changes a data row and
appends an audit row carrying the SHA-256 of that data row, chained to the previous audit row.
``verify`` detects an edited, deleted or reordered audit row, a data row changed or added
behind the log's back, and gallery images that were altered or are missing on disk.

Format 4 (this version) adds the ``ranks`` table: per round, the rank of every marked image and every
image shown to the witness, counted over the whole gallery (a case keeps only the top N of each ranking,
``rankings``), so that a report can plot an image that fell below N. ``migrate`` adds it to older cases.

Format 3: a new case no longer copies the gallery's image list into
``gallery_images``; it cites the gallery's manifest (``case_meta`` key ``gallery_manifest``:
``{"rows": n, "head": ...}``, see engine/gallery/manifest.py), the chained hash of the gallery's first
n rows, which ``verify`` recomputes from the gallery. Cases of formats 1 and 2 keep their own list and
are read as they are.

Format 2 adds what a keyless hash chain cannot give (docs/threat-model.md): every
audit row is signed with the workstation's Ed25519 key (public key in ``case_meta``), and after every
commit the head (row number, hash) is appended to the workstation's anchor journal
(:mod:`.anchors`), so forged or recomputed rows, a cut-off tail and a rollback are detected. A new
case is written to a temporary file and renamed into place, encrypted at rest by default
(:mod:`engine.storage`), mode 0600. Format-1 cases open and verify; ``migrate`` upgrades them.
"""

from __future__ import annotations

import json
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__, storage
from ..errors import CaseFileError
from ..clock import utc_now
from ..hashing import sha256_bytes, sha256_file, sha256_json
from ..storage import keys
from . import anchors
from .audit import GENESIS, AuditEntry, entry_hash, os_user, row_to_entry, verify_chain

CASE_SCHEMA_VERSION = 4  # 4: the counted ranks of marked and shown images per round (table ``ranks``)
SIGNED_FROM_VERSION = 2  # the first format whose audit rows are signed
MANIFEST_FROM_VERSION = 3  # the first format whose new cases cite the gallery manifest (gallery/manifest.py)
RANKS_FROM_VERSION = 4  # the first format that stores the ranks of marked and shown images per round
DATA_TABLES = ("case_meta", "gallery_images", "rounds", "rankings", "candidates", "marks", "witness_views", "ranks")
RANKS_SCHEMA = ("CREATE TABLE IF NOT EXISTS ranks (id INTEGER PRIMARY KEY, ranking_id INTEGER, after_round INTEGER, "
                "sha256 TEXT, gallery_row INTEGER, rank INTEGER, score FLOAT, kept INTEGER, why TEXT, "
                "counted TEXT, at TEXT)")
MARKS = ("match", "possible", "excluded", "cleared")


@dataclass
class Verification:
    """The result of ``CaseFile.verify``. ``ok`` is False when anything was altered or is missing."""

    chain_problems: list[str] = field(default_factory=list)
    data_problems: list[str] = field(default_factory=list)
    altered_images: list[dict] = field(default_factory=list)
    missing_images: list[dict] = field(default_factory=list)
    signature_problems: list[str] = field(default_factory=list)
    anchor_problems: list[str] = field(default_factory=list)
    # what could not be checked, the case itself being sound (its gallery not found): not verified, but no sign
    # that anything was altered, so never called a broken audit log
    unchecked: list[str] = field(default_factory=list)
    # what changed in the gallery the case searched (its manifest no longer matches, its vector file damaged),
    # the case file itself being sound: a failure of the evidence, not of the case's audit log
    gallery_problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    images_checked: int = 0
    audit_rows: int = 0
    videos_checked: int = 0  # source videos behind video crops, re-hashed (engine/video/verify.py)
    head: dict = field(default_factory=dict)  # {"seq", "hash"} of the last audit row
    key_fingerprint: str = ""
    anchors_checked: int = 0

    @property
    def ok(self) -> bool:
        return self.chain_ok and not (self.altered_images or self.missing_images or self.unchecked
                                      or self.gallery_problems)

    @property
    def chain_ok(self) -> bool:
        return not (self.chain_problems or self.data_problems or self.signature_problems or self.anchor_problems)

    def problems(self) -> list[str]:
        return self.chain_problems + self.signature_problems + self.anchor_problems + self.data_problems + \
            self.gallery_problems + self.unchecked

    def as_dict(self) -> dict:
        return {"ok": self.ok, "chain_ok": self.chain_ok, "audit_rows": self.audit_rows,
                "chain_problems": self.chain_problems, "data_problems": self.data_problems,
                "signature_problems": self.signature_problems, "anchor_problems": self.anchor_problems,
                "unchecked": self.unchecked, "gallery_problems": self.gallery_problems, "notes": self.notes,
                "head": self.head, "key_fingerprint": self.key_fingerprint,
                "anchors_checked": self.anchors_checked,
                "images_checked": self.images_checked, "videos_checked": self.videos_checked,
                "altered_images": self.altered_images,
                "missing_images": self.missing_images}

    def lines(self) -> list[str]:
        out = [f"audit log: {self.audit_rows} rows, " + ("chain intact" if self.chain_ok else "BROKEN")]
        if self.head:
            out.append(f"head: row {self.head['seq']}, {self.head['hash']}")
        if self.key_fingerprint:
            out.append(f"signed by workstation key {self.key_fingerprint}; {self.anchors_checked} anchor(s) checked")
        out += [f"  - {p}" for p in self.problems()]
        out += [f"  note: {n}" for n in self.notes]
        out.append(f"gallery images: {self.images_checked} re-hashed, {len(self.altered_images)} altered, "
                   f"{len(self.missing_images)} missing" + (f"; {self.videos_checked} source videos re-hashed"
                                                         if self.videos_checked else ""))
        out += [f"  - ALTERED {d['path']} (expected {d['sha256'][:16]}…, found {d['found'][:16]}…)"
                for d in self.altered_images]
        out += [f"  - MISSING {d['path']} ({d['sha256'][:16]}…)" for d in self.missing_images]
        return out


def _row_hash(row: dict) -> str:
    clean = {k: (sha256_bytes(v) if isinstance(v, (bytes, bytearray, memoryview)) else v)
             for k, v in row.items() if k != "id"}
    return sha256_json(clean)


class CaseFile:
    """An open case file. Create with :meth:`create`, open with :meth:`open`."""

    def __init__(self, path: Path, conn):
        self.path = path
        self.conn = conn
        self.actor = os_user()
        self._depth = 0
        self._head: tuple[int, str] | None = None
        self._case_id: str | None = None
        self._columns: set[str] | None = None
        self._has_ranks: bool | None = None
        self.version = CASE_SCHEMA_VERSION

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, title: str, investigator: str, gallery, engine: dict,
               actor: str | None = None, encrypt: bool = True) -> "CaseFile":
        """Create a new case file for ``gallery`` (an open Gallery). Refuses to overwrite a file.

        The case is built in a hidden temporary file beside ``path`` and renamed into place once
        complete, so a kill or an error never leaves a half-made file under the case's name.
        ``encrypt`` (default on) encrypts it at rest with the workstation passphrase.
        """
        path = Path(path).expanduser().absolute()
        if path.exists():
            raise CaseFileError(f"{path} already exists; choose a new file name for the case.")
        if not path.parent.is_dir():
            raise CaseFileError(f"Folder {path.parent} does not exist; create it or choose another place.")
        title = _text(title, "title")
        investigator = _text(investigator, "investigator")
        if not title.strip():
            raise CaseFileError("A case needs a title; give one with --title.")
        _remove_stale_temporaries(path)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.creating")
        try:
            conn = _connect(tmp, create=True, encrypt=encrypt, label=path)
            case = cls(path, conn)  # the anchor journal records the final path
            case.actor = actor or os_user()
            case._create_schema()
            from ..gallery import manifest

            cited = manifest.current(gallery)  # reads only the rows added since the gallery's last checkpoint
            case_id = str(uuid.uuid4())
            case._case_id = case_id
            meta = {"schema_version": str(CASE_SCHEMA_VERSION), "case_id": case_id, "title": title,
                    "investigator": investigator, "created": utc_now(), "software": f"interreid {__version__}",
                    "gallery_path": str(gallery.folder), "gallery_fingerprint": cited["head"],
                    "gallery_manifest": json.dumps(cited, sort_keys=True),
                    "gallery_images": str(cited["rows"]), "engine": json.dumps(engine, sort_keys=True),
                    "signing_public_key": keys.public_key_hex(keys.signing_key()),
                    "encrypted": "yes" if encrypt else "no"}
            with case.transaction():
                for key, value in meta.items():
                    extra = {"public_key": value} if key == "signing_public_key" else {}
                    case._insert("case_meta", {"key": key, "value": value}, "case", "case.meta", {"key": key, **extra})
                case._append_audit("case", "case.created", {"title": title, "investigator": investigator,
                                                            "gallery": str(gallery.folder), "images": cited["rows"],
                                                            "gallery_manifest": cited,
                                                            "encrypted": bool(encrypt)}, "ok")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            try:
                os.link(tmp, path)  # no-clobber: a file made meanwhile under this name is kept
            except FileExistsError:
                raise CaseFileError(f"{path} already exists; choose a new file name for the case.") from None
            except OSError:  # a file system without hard links (some USB drives, network shares)
                if path.exists():
                    raise CaseFileError(f"{path} already exists; choose a new file name for the case.") from None
                os.rename(tmp, path)
        finally:
            for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                leftover.unlink(missing_ok=True)
        return cls.open(path, actor=actor)

    @classmethod
    def open(cls, path: str | Path, actor: str | None = None) -> "CaseFile":
        path = Path(path).expanduser().absolute()
        if not path.is_file():
            raise CaseFileError(f"Case file {path} does not exist; check the path or create it with 'case new'.")
        if not storage.is_sqlite_file(path) and not storage.is_encrypted(path):
            raise CaseFileError(f"{path} is not an interreid case file; open a .case file made by interreid.")
        case = cls(path, _connect(path))
        case.actor = actor or os_user()
        tables = case._tables()
        try:
            version = case.meta("schema_version") if "case_meta" in tables else None
        except storage.DatabaseError:
            version = None
        if version is None and "audit" not in tables:
            case.conn.close()
            raise CaseFileError(f"{path} is not an interreid case file; open a .case file made by interreid.")
        if version is not None and int(version) > CASE_SCHEMA_VERSION:
            case.conn.close()
            raise CaseFileError(f"Case file {path} was written by a newer interreid (format {version}); "
                                "update interreid to open it.")
        case.version = int(version) if version is not None else CASE_SCHEMA_VERSION
        try:
            case.conn.execute("PRAGMA journal_mode=WAL")
        except storage.OperationalError:
            pass  # read-only media: the case is still read (verify, report)
        return case

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "CaseFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def encrypted(self) -> bool:
        return storage.is_encrypted(self.path)

    def _tables(self) -> set[str]:
        return {n for (n,) in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _audit_columns(self) -> set[str]:
        if self._columns is None:
            self._columns = {r[1] for r in self.conn.execute("PRAGMA table_info(audit)")}
        return self._columns

    @property
    def case_id(self) -> str:
        if self._case_id is None:
            self._case_id = self.meta("case_id") or ""
        return self._case_id

    def _create_schema(self) -> None:
        self.conn.executescript("""
            CREATE TABLE case_meta (id INTEGER PRIMARY KEY, key TEXT, value TEXT);
            CREATE TABLE gallery_images (idx INTEGER PRIMARY KEY, sha256 TEXT, source_path TEXT);
            CREATE TABLE rounds (id INTEGER PRIMARY KEY, round INTEGER, suggested TEXT, asked TEXT, answer TEXT,
                questioner TEXT, rationale TEXT, attribute TEXT, kind TEXT, k INTEGER, suggested_at TEXT,
                answered_at TEXT, state TEXT);
            CREATE TABLE rankings (id INTEGER PRIMARY KEY, after_round INTEGER, query TEXT, depth INTEGER,
                rows BLOB, scores BLOB, created_at TEXT, state TEXT);
            CREATE TABLE candidates (id INTEGER PRIMARY KEY, round INTEGER, position INTEGER, sha256 TEXT,
                gallery_row INTEGER, rank INTEGER, score FLOAT, reasons TEXT, state TEXT);
            CREATE TABLE marks (id INTEGER PRIMARY KEY, sha256 TEXT, mark TEXT, note TEXT, at TEXT);
            CREATE TABLE witness_views (id INTEGER PRIMARY KEY, sha256 TEXT, note TEXT, at TEXT);
            CREATE TABLE audit (seq INTEGER PRIMARY KEY, ts TEXT, actor TEXT, component TEXT, event TEXT,
                params TEXT, outcome TEXT, prev_hash TEXT, hash TEXT, sig TEXT);
        """)
        if CASE_SCHEMA_VERSION >= RANKS_FROM_VERSION:
            self.conn.execute(RANKS_SCHEMA)

    # -- writing (always through the audit log) -------------------------------------------
    @contextmanager
    def transaction(self):
        """One SQLite transaction; 'database is locked' becomes one clear sentence. After the outermost
        transaction commits, the new head goes into the workstation's anchor journal."""
        if self._depth == 0 and "sig" not in self._audit_columns():
            raise CaseFileError(f"Case file {self.path} was made by an earlier interreid (format {self.version}); "
                                "run 'interreid case migrate' on it before adding to it (nothing was written).")
        self._depth += 1
        try:
            with self.conn:
                if self._depth == 1:
                    if not self.conn.in_transaction:  # take the write lock first: a read-then-write
                        self.conn.execute("BEGIN IMMEDIATE")  # could not wait for another writer
                    self._sign_here()
                yield self.conn
        except storage.OperationalError as exc:
            self._head = None if self._depth == 1 else self._head
            if "locked" in str(exc) or "busy" in str(exc):
                raise CaseFileError(f"Case file {self.path} is in use by another program; nothing was "
                                    "written: close the other program and retry.") from None
            raise
        except BaseException:
            self._head = None if self._depth == 1 else self._head
            raise
        finally:
            self._depth -= 1
        if self._depth == 0 and self._head is not None:
            seq, h = self._head
            self._head = None
            anchors.append(self.case_id, seq, h, keys.key_fingerprint(keys.public_key_hex(keys.signing_key())),
                           str(self.path))

    def _sign_here(self) -> None:
        """A case continued on another workstation first records that workstation's public key (an
        audited row): rows from there on are signed with it, and verify names the change."""
        mine = keys.public_key_hex(keys.signing_key())
        current = self.meta("signing_public_key")
        if current is None or current == mine:
            return
        self._insert("case_meta", {"key": "signing_public_key", "value": mine}, "case", "case.key_added",
                     {"key": "signing_public_key", "public_key": mine, "previous": keys.key_fingerprint(current)})

    def _append_audit(self, component: str, event: str, params: dict, outcome: str) -> AuditEntry:
        last = self.conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        ts = utc_now()
        params = json.loads(json.dumps(params, default=str))
        h = entry_hash(seq, ts, self.actor, component, event, params, outcome, prev)
        sig = keys.sign(signed_message(self.case_id, seq, h))
        self.conn.execute("INSERT INTO audit (seq, ts, actor, component, event, params, outcome, prev_hash, hash, sig)"
                          " VALUES (?,?,?,?,?,?,?,?,?,?)",
                          (seq, ts, self.actor, component, event,
                           json.dumps(params, sort_keys=True, ensure_ascii=False), outcome, prev, h, sig))
        self._head = (seq, h)
        return AuditEntry(seq, ts, self.actor, component, event, params, outcome, prev, h)

    def _insert(self, table: str, values: dict, component: str, event: str, params: dict) -> int:
        cur = self.conn.execute(
            f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
            tuple(values.values()))
        row_id = cur.lastrowid
        row = self._row(table, row_id)
        self._append_audit(component, event, {**params, "table": table, "id": row_id,
                                               "row_sha256": _row_hash(row)}, "ok")
        return row_id

    def _update(self, table: str, row_id: int, changes: dict, component: str, event: str, params: dict) -> None:
        sets = ", ".join(f"{k} = ?" for k in changes)
        self.conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", (*changes.values(), row_id))
        row = self._row(table, row_id)
        self._append_audit(component, event, {**params, "table": table, "id": row_id,
                                               "row_sha256": _row_hash(row)}, "ok")

    def _row(self, table: str, row_id: int) -> dict:
        cur = self.conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
        names = [d[0] for d in cur.description]
        values = cur.fetchone()
        return dict(zip(names, values)) if values else {}

    def log_event(self, component: str, event: str, params: dict, outcome: str = "ok") -> AuditEntry:
        """Append an audit row for something that changes no table (e.g. an export)."""
        with self.transaction():
            return self._append_audit(component, event, params, outcome)

    def save_copy(self, out: str | Path) -> Path:
        """A consistent byte copy of the case (encrypted as the case is), e.g. for an evidence drive."""
        import shutil

        out = Path(out).expanduser().absolute()
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        tmp = out.with_name(f".{out.name}.copying")
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, storage.FILE_MODE)
        os.close(fd)
        shutil.copyfile(self.path, tmp)
        os.replace(tmp, out)
        self.log_event("case", "case.copied", {"to": str(out)})
        return out

    # -- metadata ------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM case_meta WHERE key = ? ORDER BY id DESC LIMIT 1",
                                (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        value = _text(value, key.replace("_", " "))
        with self.transaction():
            self._insert("case_meta", {"key": key, "value": value}, "case", "case.meta", {"key": key})

    def metadata(self) -> dict:
        out: dict = {}
        for key, value in self.conn.execute("SELECT key, value FROM case_meta ORDER BY id"):
            out[key] = value
        if "engine" in out:
            out["engine"] = json.loads(out["engine"])
        return out

    def gallery_manifest(self) -> dict | None:
        """{"rows": n, "head": ...} of the gallery manifest this case cites (format 3); None for a case
        that holds its own image list (formats 1 and 2)."""
        value = self.meta("gallery_manifest")
        return json.loads(value) if value else None

    def held_rows(self) -> int | None:
        """How many of the gallery's first rows the case searches (format 3: O(1)); None for a case with
        its own image list."""
        cited = self.gallery_manifest()
        return None if cited is None else int(cited["rows"])

    def gallery_snapshot(self, gallery=None) -> list[tuple[int, str, str]]:
        """(row, sha256, first source path) of every image the case searches. A format-3 case reads them
        from its gallery (``gallery``, else the one it names, opened read-only): O(N), for verification,
        reports and 'case extend', never for opening or a round."""
        n = self.held_rows()
        if n is None:
            return list(self.conn.execute("SELECT idx, sha256, source_path FROM gallery_images ORDER BY idx"))
        if gallery is not None:
            return [r for r in gallery.snapshot() if r[0] < n]
        from ..gallery.store import Gallery

        with Gallery.open(self.meta("gallery_path") or "", read_only=True) as opened:
            return [r for r in opened.snapshot() if r[0] < n]

    def relocate_gallery(self, folder: str | Path) -> tuple[str, str]:
        """Record that the case's gallery is now at ``folder`` (moved, renamed, another drive): an audited
        ``case.gallery_moved`` step. Refused in one sentence unless the folder holds the same gallery
        (``same_gallery_at``). ``case verify`` still re-checks every row and image.
        Returns (the place the case named, the new place)."""
        new = self.same_gallery_at(folder, "nothing was recorded")
        before = self.meta("gallery_path") or ""
        if str(new) == before:
            return before, str(new)
        with self.transaction():
            self._insert("case_meta", {"key": "gallery_path", "value": str(new)}, "case", "case.gallery_moved",
                         {"key": "gallery_path", "from": before, "to": str(new)})
        return before, str(new)

    def same_gallery_at(self, folder: str | Path, then: str) -> Path:
        """``folder`` (absolute) when it holds the gallery this case searched: its manifest checkpoint at the
        case's size is the one the case cites (a case with its own image list: every image it lists is in
        the gallery). Otherwise one sentence (CaseFileError) ending with ``then``, what was not done
        ("nothing was recorded"). Writes nothing: ``relocate_gallery`` and ``verify(gallery=...)`` share it."""
        from ..gallery.store import Gallery

        new = Path(folder).expanduser().absolute()
        if not new.exists():
            raise CaseFileError(f"The folder {new} does not exist; {then}. Check the path, or choose the folder the "
                                "case's gallery was moved to.")
        if not (new / "gallery.db").is_file():
            raise CaseFileError(f"{new} holds no interreid gallery (no gallery.db); {then}. Choose the folder the "
                                "case's gallery was moved to.")
        with Gallery.open(new, read_only=True) as gallery:
            cited = self.gallery_manifest()
            if cited is not None:
                from ..gallery import manifest

                same = len(gallery) >= int(cited["rows"]) and \
                    manifest.head_at(gallery, int(cited["rows"])) == cited["head"]
            else:
                have = set(gallery.shas())
                same = all(sha in have for _i, sha, _p in self.gallery_snapshot())
        if not same:
            raise CaseFileError(f"{new} holds another gallery than the one this case searched (or that gallery "
                                f"changed since); {then}. Choose the folder the case's gallery was moved to.")
        return new

    def extend_snapshot(self, gallery) -> int:
        """Add the gallery's images the case does not hold yet (an audited, explicit step); return how many."""
        if self.gallery_manifest() is not None:
            from ..gallery import manifest

            before = self.held_rows() or 0
            cited = manifest.current(gallery)
            if cited["rows"] <= before:
                return 0
            with self.transaction():
                self._insert("case_meta", {"key": "gallery_manifest", "value": json.dumps(cited, sort_keys=True)},
                             "case", "case.meta", {"key": "gallery_manifest"})
                self._append_audit("case", "case.extended", {"images_added": cited["rows"] - before,
                                                             "gallery_manifest": cited}, "ok")
            return cited["rows"] - before
        have = {sha for _i, sha, _p in self.gallery_snapshot()}
        rows = [r for r in gallery.snapshot() if r[1] not in have]
        if not rows:
            return 0
        with self.transaction():
            self.conn.executemany("INSERT INTO gallery_images(idx, sha256, source_path) VALUES (?,?,?)", rows)
            self._append_audit("case", "case.extended", {
                "images_added": len(rows), "rows_sha256": sha256_json([list(r) for r in rows]),
                "snapshot_sha256": sha256_json([list(r) for r in self.gallery_snapshot()])}, "ok")
        return len(rows)

    # -- marks and witness views ------------------------------------------------------------
    def mark(self, sha256: str, mark: str, note: str = "") -> int:
        """Mark an image match / possible / excluded (or cleared), with a note."""
        if mark not in MARKS:
            raise CaseFileError(f"Unknown mark '{mark}'; use one of: {', '.join(MARKS)}.")
        note = _text(note, "note")
        with self.transaction():
            return self._insert("marks", {"sha256": sha256, "mark": mark, "note": note, "at": utc_now()},
                                "marks", f"mark.{mark}", {"sha256": sha256})

    def current_marks(self) -> dict[str, dict]:
        """The latest mark of every marked image (cleared ones left out): sha -> {mark, note, at}."""
        out: dict[str, dict] = {}
        for sha, mark, note, at in self.conn.execute("SELECT sha256, mark, note, at FROM marks ORDER BY id"):
            out[sha] = {"mark": mark, "note": note, "at": at}
        return {k: v for k, v in out.items() if v["mark"] != "cleared"}

    def record_witness_view(self, sha256: str, note: str = "") -> int:
        """An image was shown to the witness: kept prominently (it can contaminate memory)."""
        note = _text(note, "note")
        with self.transaction():
            return self._insert("witness_views", {"sha256": sha256, "note": note, "at": utc_now()},
                                "witness", "shown_to_witness", {"sha256": sha256})

    def witness_views(self) -> list[dict]:
        return [dict(zip(("sha256", "note", "at"), r))
                for r in self.conn.execute("SELECT sha256, note, at FROM witness_views ORDER BY id")]

    def audit_entries(self) -> list[AuditEntry]:
        return [row_to_entry(r) for r in self.conn.execute(
            "SELECT seq, ts, actor, component, event, params, outcome, prev_hash, hash FROM audit ORDER BY rowid")]

    def head(self) -> dict | None:
        """{"seq", "hash"} of the last audit row (what reports and the anchor journal carry)."""
        r = self.conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return {"seq": int(r[0]), "hash": r[1]} if r else None

    # -- format migration ----------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Upgrade a case of an earlier format to this one, in place and audited; return what was done
        (sentences). Nothing earlier is changed: format 1 gains signatures from now on, every format
        before 4 gains the table of counted ranks (filled from now on), formats 1-2 keep their own list of
        the gallery's images."""
        if self.version >= CASE_SCHEMA_VERSION:
            return []
        start = self.version
        done = []
        rows_before = self.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
        old_head = self.head() or {"seq": 0, "hash": GENESIS}
        if start < SIGNED_FROM_VERSION:
            with self.conn:
                self.conn.execute("ALTER TABLE audit ADD COLUMN sig TEXT")
            self._columns = None
            done.append("added a signature column to the audit log")
        added = []
        if "ranks" not in self._tables():
            with self.conn:
                self.conn.execute(RANKS_SCHEMA)
            added.append("ranks")
            table_done = ("added a table for the rank of every marked image and every image shown to the witness "
                          "in each round, counted also below the top rows the case keeps; it is filled from now on, "
                          "and for the rounds already recorded when the interview is next continued in interreid")
        params: dict = {"from_format": start, "to_format": CASE_SCHEMA_VERSION, "added_tables": added}
        with self.transaction():
            if start < SIGNED_FROM_VERSION:
                pub = keys.public_key_hex(keys.signing_key())
                self._insert("case_meta", {"key": "signing_public_key", "value": pub}, "case", "case.meta",
                             {"key": "signing_public_key", "public_key": pub})
                params.update({"unsigned_rows": rows_before, "head_before": old_head})
            self._append_audit("case", "case.migrated", params, "ok")
            self._insert("case_meta", {"key": "schema_version", "value": str(CASE_SCHEMA_VERSION)}, "case",
                         "case.meta", {"key": "schema_version"})
        if start < SIGNED_FROM_VERSION:
            done.append(f"recorded this workstation's signing key ({keys.key_fingerprint(pub)}); the "
                        f"{rows_before} earlier audit rows stay as they were, covered by the signed rows after them")
        if added:
            done.append(table_done)
        tail = ("; the case keeps its own list of the gallery's images" if start < MANIFEST_FROM_VERSION else "")
        done.append(f"format {start} -> {CASE_SCHEMA_VERSION}, recorded in the audit log (case.migrated){tail}; "
                    "nothing recorded earlier was changed")
        self.version = CASE_SCHEMA_VERSION
        self._has_ranks = None
        return done

    def stores_ranks(self) -> bool:
        """Whether this case holds the table of counted ranks (format 4, or migrated to it)."""
        if self._has_ranks is None:
            self._has_ranks = "ranks" in self._tables()
        return self._has_ranks

    # -- verification ---------------------------------------------------------------------
    def verify(self, rehash_images: bool = True, report: str | Path | None = None,
               gallery: str | Path | None = None) -> Verification:
        """Re-check the audit chain and its signatures, every data row against the log, the anchors
        this workstation (and ``report``) recorded, and every gallery image. Never raises on a damaged
        case: what cannot be read is reported as a problem. ``gallery``: check against the gallery in this
        folder instead of the one the case names (it was moved), recording nothing; a folder that does not
        hold the same gallery is refused in one sentence (CaseFileError, ``same_gallery_at``), as
        ``relocate_gallery`` refuses it."""
        moved = self.same_gallery_at(gallery, "nothing was checked") if gallery is not None else None
        result = Verification()
        try:
            tables = self._tables()
        except storage.DatabaseError as exc:
            result.data_problems.append(f"the case file cannot be read ({exc})")
            return result
        for t in ("audit",) + DATA_TABLES:
            if t == "ranks" and self.version < RANKS_FROM_VERSION:
                continue  # formats before 4 have no table of counted ranks until 'case migrate' adds it
            if t not in tables:
                result.data_problems.append(f"the {t} table is missing from the case file (it was dropped)")
        entries: list[AuditEntry] = []
        sigs: dict[int, str | None] = {}
        if "audit" in tables:
            try:
                entries = self.audit_entries()
                if "sig" in self._audit_columns():
                    sigs = dict(self.conn.execute("SELECT seq, sig FROM audit"))
            except storage.DatabaseError as exc:
                result.chain_problems.append(f"the audit log cannot be read ({exc})")
        result.audit_rows = len(entries)
        result.chain_problems += verify_chain(entries)
        if entries:
            result.head = {"seq": entries[-1].seq, "hash": entries[-1].hash}
        meta = {}
        if "case_meta" in tables:
            try:
                meta = {k: v for k, v in self.conn.execute("SELECT key, value FROM case_meta ORDER BY id")}
            except storage.DatabaseError as exc:
                result.data_problems.append(f"the case's metadata cannot be read ({exc})")
        if moved is not None and str(moved) != meta.get("gallery_path"):
            result.notes.append(f"the gallery was checked in {moved}, the folder named for this verification; the "
                                f"case still names {meta.get('gallery_path') or 'no folder'} (nothing was recorded in "
                                "the case: 'interreid case relocate' records the new folder in its audit log)")
            meta["gallery_path"] = str(moved)  # read here only: the case is not written
        case_id = meta.get("case_id") or next((e.params.get("value") for e in entries
                                               if e.params.get("key") == "case_id"), "") or ""
        self._verify_signatures(result, entries, sigs, meta, case_id)
        self._verify_anchors(result, entries, case_id, report)
        if "audit" in tables:
            self._verify_rows(result, entries, tables)
        snapshot: list = []
        no_source = 0
        cited = json.loads(meta["gallery_manifest"]) if meta.get("gallery_manifest") else None
        if cited is not None:
            snapshot, no_source = self._verify_manifest(result, entries, cited, meta, rehash_images)
        elif "gallery_images" in tables:
            try:
                snapshot = self.gallery_snapshot()
            except storage.DatabaseError as exc:
                result.data_problems.append(f"the case's list of gallery images cannot be read ({exc})")
            expected = None
            for e in entries:
                if e.event == "case.created":
                    expected = e.params.get("gallery_snapshot_sha256")
                elif e.event == "case.extended":
                    expected = e.params.get("snapshot_sha256")
            if expected is not None and sha256_json([list(r) for r in snapshot]) != expected:
                result.data_problems.append("the case's list of gallery images was altered")
        if rehash_images:
            from ..storage.blobs import plain_sha256

            unopened = 0
            for _idx, sha, src in snapshot:
                if src is None:  # a row imported without a file (a synthetic gallery's): its hash only
                    no_source += 1
                    continue
                try:
                    found = plain_sha256(src)  # a sealed video crop: the SHA-256 of its PNG, unsealed
                except (OSError, TypeError, ValueError):
                    result.images_checked += 1
                    result.missing_images.append({"sha256": sha, "path": str(src)})
                    continue
                except keys.KeyMissingError:
                    if not keys.passphrase_available():
                        unopened += 1  # sealed, and no passphrase to open it: not checked (said below)
                        continue
                    result.images_checked += 1  # the passphrase opens the gallery but not this file
                    result.altered_images.append({"sha256": sha, "path": src,
                                                  "found": "a sealed file that does not open with the workstation "
                                                           "passphrase (altered, or sealed under another one)"})
                    continue
                result.images_checked += 1
                if found != sha:
                    result.altered_images.append({"sha256": sha, "path": src, "found": found})
            if no_source:
                result.notes.append(f"{no_source} gallery images have no source file (synthetic rows): only their "
                                    "hashes in the gallery's list were checked")
            if unopened:
                result.notes.append(f"{unopened} encrypted gallery images were not re-hashed: they need the "
                                    f"workstation passphrase (set {keys.ENV_KEY_FILE} to a file holding it)")
            from ..video.verify import rehash_videos

            result.videos_checked, altered, missing = rehash_videos([src for _i, _s, src in snapshot if src is not None])
            result.altered_images += altered
            result.missing_images += missing
        return result

    def _verify_manifest(self, result: "Verification", entries: list[AuditEntry], cited: dict, meta: dict,
                         load: bool) -> tuple[list, int]:
        """A format-3 case: the manifest it cites must be the one its audit log recorded, and the
        gallery's first rows must still hash to it. Returns the rows with a source file to re-hash
        (when ``load``) and how many rows have none (synthetic rows), read in chunks."""
        from ..errors import GalleryError
        from ..gallery import manifest
        from ..gallery.store import Gallery

        logged = None
        for e in entries:
            if e.event in ("case.created", "case.extended") and isinstance(e.params, dict):
                logged = e.params.get("gallery_manifest", logged)
        if logged != cited:
            result.data_problems.append("the gallery manifest the case cites is not the one its audit log recorded")
        try:
            listed = self.conn.execute("SELECT COUNT(*) FROM gallery_images").fetchone()[0]
        except storage.DatabaseError:
            listed = 0
        if listed:
            result.data_problems.append(f"{listed} rows were added to the case's list of gallery images behind the "
                                        "audit log's back (this case cites the gallery manifest and holds no list)")
        try:
            with Gallery.open(meta.get("gallery_path") or "", read_only=True) as gallery:
                problem = manifest.verify(gallery, int(cited["rows"]), cited["head"])
                if problem:
                    result.gallery_problems.append(problem)
                if load:  # the vectors the rankings were scored from: re-hashed block by block (format 3)
                    from ..gallery.vector_store import file_home, problems as vector_problems

                    damaged = vector_problems(gallery)
                    result.gallery_problems += [f"in the gallery, {p}" for p in damaged]
                    if not damaged and file_home(gallery) and len(gallery):
                        result.notes.append("the gallery's vector file (the features its rankings are scored from) "
                                            "matches the hashes recorded when its images were imported")
                if not load or problem:
                    return [], 0
                with_source = [r for r in gallery.snapshot() if r[0] < int(cited["rows"]) and r[2] is not None] \
                    if gallery.has_sources() else []
                return with_source, int(cited["rows"]) - len(with_source)
        except GalleryError:
            result.unchecked.append(
                f"the gallery this case searched could not be opened at {meta.get('gallery_path')}: the "
                f"{cited['rows']} images it searched were not checked (verify on the workstation that holds it)")
            return [], 0

    def _verify_signatures(self, result: Verification, entries: list[AuditEntry], sigs: dict, meta: dict,
                           case_id: str) -> None:
        version = int(meta.get("schema_version") or self.version or 0)
        if not entries or not sigs and version < SIGNED_FROM_VERSION:
            if entries:
                result.notes.append(f"this case was made by an earlier interreid (format {version}): its audit rows "
                                    "are not signed, so rows cut from its end or a recomputed chain cannot be "
                                    "detected; 'interreid case migrate' signs it from now on")
            return
        # the key in force at each row: the first declared key from row 1, each later one from its own row
        declared = [(e.seq, str(e.params["public_key"])) for e in entries
                    if isinstance(e.params.get("public_key"), str) and _is_hex(e.params["public_key"])]
        if not declared:
            result.signature_problems.append("the case's signing key is missing from its audit log (removed)")
            return
        first = declared[0][1]
        result.key_fingerprint = keys.key_fingerprint(first)
        mine = keys.workstation_public_key()
        trusted = trusted_keys() | ({mine} if mine else set())
        if mine is not None and first != mine:
            result.notes.append(f"made on another workstation (key {result.key_fingerprint}; this workstation's key "
                                f"is {keys.key_fingerprint(mine)}): compare the key with the one in its report")
        for seq, pub in declared[1:]:
            fp = keys.key_fingerprint(pub)
            if pub in trusted:
                result.notes.append(f"continued from audit row {seq} on workstation key {fp}")
            else:
                result.signature_problems.append(
                    f"from audit row {seq} on, rows are signed by a key this workstation does not know ({fp}): "
                    "if the case was continued on another workstation, add that workstation's public key to "
                    "trusted-keys.txt in this workstation's folder; otherwise they were forged")
        unsigned_upto = 0
        key_at = first
        bad = []
        pending = list(declared[1:])
        for e in entries:
            while pending and pending[0][0] <= e.seq:
                key_at = pending.pop(0)[1]
            s = sigs.get(e.seq)
            valid = bool(s) and keys.verify_signature(key_at, signed_message(case_id, e.seq, e.hash), s)
            if e.event == "case.migrated" and valid:
                unsigned_upto = max(unsigned_upto, int(e.params.get("unsigned_rows", 0)))
            if not valid:
                bad.append(e)
        bad = [e for e in bad if e.seq > unsigned_upto]
        if bad:
            names = [f"{e.seq} ({e.event})" for e in bad]
            shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            result.signature_problems.append(f"audit row(s) {shown} carry no valid signature of the case's key: "
                                             "written or rewritten outside interreid")

    def _verify_anchors(self, result: Verification, entries: list[AuditEntry], case_id: str, report) -> None:
        if not case_id:
            return
        known, problems = anchors.anchors_for(case_id)
        result.notes += problems
        if report is not None:
            from_report = anchors.anchors_in_report(report)
            if not from_report:
                result.anchor_problems.append(f"the report {Path(report).name} carries no case head "
                                              "(it is not an interreid report, or predates this check)")
            for a in from_report:
                if a.case_id != case_id:
                    result.anchor_problems.append(f"the report {Path(report).name} belongs to another case "
                                                  f"({a.case_id})")
                else:
                    known.append(a)
            self._check_report_logged(result, entries, report)
        by_seq = {e.seq: e.hash for e in entries}
        last = entries[-1].seq if entries else 0
        for source in dict.fromkeys(a.source for a in known):
            mine = [a for a in known if a.source == source]
            result.anchors_checked += len(mine)
            beyond = [a for a in mine if a.seq > last]
            if beyond:
                a = max(beyond, key=lambda x: x.seq)
                result.anchor_problems.append(
                    f"the {source} recorded audit row {a.seq} ({a.at or 'at export'}) but the case ends at row "
                    f"{last}: rows were cut from its end, or it was replaced by an older copy")
            differ = [a for a in mine if a.seq <= last and by_seq.get(a.seq) != a.hash]
            if differ:
                a = min(differ, key=lambda x: x.seq)
                result.anchor_problems.append(
                    f"audit row {a.seq} differs from what the {source} recorded: the log was rewritten "
                    f"(at or before row {a.seq}; {len(differ)} recorded head(s) no longer match)")
        if report is None and not known and entries:
            result.notes.append("this workstation holds no anchor for this case (made elsewhere?): give its "
                                "report with --report to check it was not cut short")

    def _check_report_logged(self, result: Verification, entries: list[AuditEntry], report) -> None:
        try:
            digest = sha256_file(report)
        except OSError:
            result.anchor_problems.append(f"the report {report} cannot be read")
            return
        if not any(e.event == "report.exported" and e.params.get("sha256") == digest for e in entries):
            result.anchor_problems.append(f"the case holds no record of exporting the report {Path(report).name} "
                                          "(that record was removed, or the report was altered)")

    def _verify_rows(self, result: Verification, entries: list[AuditEntry], tables: set[str]) -> None:
        latest: dict[tuple[str, int], str] = {}
        for e in entries:
            if "table" in e.params and "id" in e.params:
                try:
                    latest[(str(e.params["table"]), int(e.params["id"]))] = e.params.get("row_sha256", "")
                except (TypeError, ValueError):
                    continue
        seen: set[tuple[str, int]] = set()
        for table in DATA_TABLES:
            if table == "gallery_images" or table not in tables:
                continue
            try:
                cur = self.conn.execute(f"SELECT * FROM {table} ORDER BY id")
                names = [d[0] for d in cur.description]
                rows = cur.fetchall()
            except storage.DatabaseError as exc:
                result.data_problems.append(f"the {table} table cannot be read ({exc})")
                continue
            for values in rows:
                row = dict(zip(names, values))
                key = (table, row.get("id"))
                seen.add(key)
                if key not in latest:
                    result.data_problems.append(f"{table} row {row.get('id')} was added outside the audit log")
                elif latest[key] != _row_hash(row):
                    result.data_problems.append(f"{table} row {row.get('id')} was altered after it was logged")
        for key in latest:
            if key not in seen and key[0] in tables:
                result.data_problems.append(f"{key[0]} row {key[1]} was deleted")


def _remove_stale_temporaries(path: Path, older_than_s: float = 600.0) -> None:
    """Hidden files a killed 'case new' left beside ``path`` (never a finished case: those are renamed)."""
    import time

    for stale in path.parent.glob(f".{path.name}.*.creating*"):
        try:
            if time.time() - stale.stat().st_mtime > older_than_s:
                stale.unlink()
        except OSError:
            continue


def trusted_keys() -> set[str]:
    """Public keys (hex, one a line) of other workstations this one accepts: trusted-keys.txt."""
    path = keys.workstation_dir() / "trusted-keys.txt"
    try:
        return {line.split()[0] for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")}
    except OSError:
        return set()


def signed_message(case_id: str, seq: int, hash_: str) -> bytes:
    """What each audit row's signature covers: the case, the row number and the chained hash."""
    return f"interreid-audit-row|{case_id}|{seq}|{hash_}".encode()


def _is_hex(value: str) -> bool:
    try:
        bytes.fromhex(value)
        return True
    except ValueError:
        return False


def _text(value, what: str) -> str:
    """User text as valid UTF-8 (a command-line argument may carry undecodable bytes)."""
    value = "" if value is None else str(value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CaseFileError(f"The {what} holds bytes that are not valid text (UTF-8); retype it.") from None
    return value


def _connect(path: Path, create: bool = False, encrypt: bool = False, label: Path | None = None):
    try:
        conn = storage.open_database(path, create=create, encrypt=encrypt, what="case file", label=label,
                                     wal=create)  # an existing file gets WAL only once it proved a case
        conn.execute("PRAGMA foreign_keys=ON")
        return conn
    except storage.KeyMissingError as exc:
        raise CaseFileError(str(exc)) from None
    except storage.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise CaseFileError(f"Case file {path} is in use by another program; close it and retry.") from None
        raise CaseFileError(f"{path} is not an interreid case file; open a case file made by interreid.") from None
    except storage.DatabaseError:
        raise CaseFileError(f"{path} is not an interreid case file; open a case file made by interreid.") from None


class InterviewRecords:
    """Reading and writing the interview's rounds, rankings and candidates in a case file."""

    def __init__(self, case: CaseFile):
        self.case = case

    def save_ranking(self, after_round: int, query: str, rows, scores, top_shas=None) -> int:
        """``top_shas``: SHA-256 of the first rows, kept in the audit entry (signed) so that a report
        names the best images even where the gallery (which a format-3 case cites) is gone."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int32)
        scores = np.asarray(scores, dtype=np.float32)
        with self.case.transaction():
            return self.case._insert(
                "rankings", {"after_round": after_round, "query": query, "depth": int(len(rows)),
                             "rows": rows.tobytes(), "scores": scores.tobytes(), "created_at": utc_now(),
                             "state": "active"},
                "retriever", "ranking.saved", {"after_round": after_round, "depth": int(len(rows)),
                                               **({"top_sha256": list(top_shas)} if top_shas else {})})

    def save_candidates(self, round_index: int, candidates: list[dict]) -> None:
        """``candidates``: dicts with sha256, gallery_row, rank (1-based), score, reasons."""
        with self.case.transaction():
            for pos, c in enumerate(candidates, start=1):
                self.case._insert("candidates", {"round": round_index, "position": pos, "sha256": c["sha256"],
                                                 "gallery_row": int(c["gallery_row"]), "rank": int(c["rank"]),
                                                 "score": float(c["score"]), "reasons": c.get("reasons", ""),
                                                 "state": "active"},
                                  "selector", "candidates.shown", {"round": round_index, "position": pos})

    def supersede(self, round_index: int) -> None:
        """A correction re-ranked round ``round_index``: its active ranking (after the round before) and
        candidates are marked superseded (kept, audited) before the new ones are saved."""
        conn = self.case.conn
        with self.case.transaction():
            for (rid,) in conn.execute("SELECT id FROM rankings WHERE after_round = ? AND state = 'active'",
                                       (round_index - 1,)).fetchall():
                self.case._update("rankings", rid, {"state": "superseded"}, "interview", "ranking.superseded",
                                  {"after_round": round_index - 1})
            for (cid,) in conn.execute("SELECT id FROM candidates WHERE round = ? AND state = 'active'",
                                       (round_index,)).fetchall():
                self.case._update("candidates", cid, {"state": "superseded"}, "interview",
                                  "candidates.superseded", {"round": round_index})

    def save_round(self, values: dict) -> int:
        """A completed round: round, suggested, asked, answer, questioner, rationale, attribute, kind, k, times."""
        with self.case.transaction():
            return self.case._insert("rounds", {**values, "state": "active"}, "interview", "round.answered",
                                     {"round": values["round"], "edited": values["suggested"] != values["asked"]})

    def undo_round(self, round_index: int) -> None:
        """Mark round ``round_index`` (and what it produced) undone; nothing is deleted."""
        conn = self.case.conn
        with self.case.transaction():
            for (rid,) in conn.execute("SELECT id FROM rounds WHERE round = ? AND state = 'active'",
                                       (round_index,)).fetchall():
                self.case._update("rounds", rid, {"state": "undone"}, "interview", "round.undone",
                                  {"round": round_index})
            for (rid,) in conn.execute("SELECT id FROM rankings WHERE after_round = ? AND state = 'active'",
                                       (round_index,)).fetchall():
                self.case._update("rankings", rid, {"state": "undone"}, "interview", "ranking.undone",
                                  {"after_round": round_index})
            for (cid,) in conn.execute("SELECT id FROM candidates WHERE round = ? AND state = 'active'",
                                       (round_index + 1,)).fetchall():
                self.case._update("candidates", cid, {"state": "undone"}, "interview", "candidates.undone",
                                  {"round": round_index + 1})

    def rounds(self, include_undone: bool = False) -> list[dict]:
        q = "SELECT * FROM rounds" + ("" if include_undone else " WHERE state = 'active'") + " ORDER BY id"
        cur = self.case.conn.execute(q)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur]

    def ranking(self, after_round: int):
        """(rows int64, scores float32, query) of the active ranking after a round, or None."""
        import numpy as np

        r = self.case.conn.execute(
            "SELECT rows, scores, query FROM rankings WHERE after_round = ? AND state = 'active' "
            "ORDER BY id DESC LIMIT 1", (after_round,)).fetchone()
        if r is None:
            return None
        return np.frombuffer(r[0], dtype=np.int32).astype(np.int64), np.frombuffer(r[1], dtype=np.float32), r[2]

    def rankings(self) -> list[dict]:
        """Every active ranking in round order: id, after_round, query, rows, scores."""
        import numpy as np

        out = []
        for rid, after, query, rows, scores in self.case.conn.execute(
                "SELECT id, after_round, query, rows, scores FROM rankings WHERE state = 'active' "
                "ORDER BY after_round"):
            out.append({"id": rid, "after_round": after, "query": query,
                        "rows": np.frombuffer(rows, dtype=np.int32).astype(np.int64),
                        "scores": np.frombuffer(scores, dtype=np.float32)})
        return out

    def candidates(self, round_index: int | None = None) -> list[dict]:
        q = "SELECT round, position, sha256, gallery_row, rank, score, reasons FROM candidates WHERE state = 'active'"
        args: tuple = ()
        if round_index is not None:
            q += " AND round = ?"
            args = (round_index,)
        names = ("round", "position", "sha256", "gallery_row", "rank", "score", "reasons")
        return [dict(zip(names, r)) for r in self.case.conn.execute(q + " ORDER BY round, position", args)]

    # -- counted ranks of marked and shown images (format 4) ------------------------------------
    def save_ranks(self, points: list[dict]) -> int:
        """Store counted ranks, one audited row each: dicts with ranking_id, after_round, sha256,
        gallery_row, rank (1-based, over every row the case searches), score, kept (how many rows the
        ranking keeps), why ("marked", "shown" or "marked, shown") and counted ("with the round": when the
        ranking was made; "later": the round's stored query re-scored). A case without the table
        (formats before 4, not migrated) stores nothing; returns how many were stored."""
        if not points or not self.case.stores_ranks():
            return 0
        at = utc_now()
        with self.case.transaction():
            for p in points:
                self.case._insert("ranks", {"ranking_id": int(p["ranking_id"]), "after_round": int(p["after_round"]),
                                            "sha256": p["sha256"], "gallery_row": int(p["gallery_row"]),
                                            "rank": int(p["rank"]), "score": float(p["score"]), "kept": int(p["kept"]),
                                            "why": p["why"], "counted": p["counted"], "at": at},
                                  "retriever", "rank.counted", {"after_round": int(p["after_round"]),
                                                                "sha256": p["sha256"], "rank": int(p["rank"])})
        return len(points)

    def rank_points(self) -> list[dict]:
        """The stored counted ranks of the active rankings, in round order (one per ranking and image: the
        last stored); [] for a case without the table."""
        if not self.case.stores_ranks():
            return []
        names = ("ranking_id", "after_round", "sha256", "gallery_row", "rank", "score", "kept", "why", "counted", "at")
        latest: dict = {}
        for r in self.case.conn.execute(
                "SELECT k.ranking_id, k.after_round, k.sha256, k.gallery_row, k.rank, k.score, k.kept, k.why, "
                "k.counted, k.at FROM ranks k JOIN rankings r ON r.id = k.ranking_id WHERE r.state = 'active' "
                "ORDER BY k.after_round, k.id"):
            point = dict(zip(names, r))
            latest[(point["ranking_id"], point["sha256"])] = point
        return list(latest.values())
