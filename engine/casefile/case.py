"""The case file: one SQLite file per investigation.

Tables: ``case_meta`` (title, investigator, gallery path + fingerprint, engine identity),
``gallery_images`` (the gallery's images when the case was made: SHA-256 and source path),
``rounds``, ``rankings``, ``candidates``, ``marks``, ``witness_views`` and ``audit``.

Every write goes through :meth:`CaseFile._write`: one transaction that changes a data row and
appends an audit row carrying the SHA-256 of that data row, chained to the previous audit row.
``verify`` detects an edited, deleted or reordered audit row, a data row changed or added
behind the log's back, and gallery images that were altered or are missing on disk.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from .. import __version__
from ..errors import CaseFileError
from ..clock import utc_now
from ..hashing import sha256_bytes, sha256_file, sha256_json
from .audit import GENESIS, AuditEntry, entry_hash, os_user, row_to_entry, verify_chain

CASE_SCHEMA_VERSION = 1
DATA_TABLES = ("case_meta", "gallery_images", "rounds", "rankings", "candidates", "marks", "witness_views")
MARKS = ("match", "possible", "excluded", "cleared")


@dataclass
class Verification:
    """The result of ``CaseFile.verify``. ``ok`` is False when anything was altered or is missing."""

    chain_problems: list[str] = field(default_factory=list)
    data_problems: list[str] = field(default_factory=list)
    altered_images: list[dict] = field(default_factory=list)
    missing_images: list[dict] = field(default_factory=list)
    images_checked: int = 0
    audit_rows: int = 0
    videos_checked: int = 0  # source videos behind video crops, re-hashed (engine/video/verify.py)

    @property
    def ok(self) -> bool:
        return not (self.chain_problems or self.data_problems or self.altered_images or self.missing_images)

    @property
    def chain_ok(self) -> bool:
        return not (self.chain_problems or self.data_problems)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "chain_ok": self.chain_ok, "audit_rows": self.audit_rows,
                "chain_problems": self.chain_problems, "data_problems": self.data_problems,
                "images_checked": self.images_checked, "videos_checked": self.videos_checked,
                "altered_images": self.altered_images,
                "missing_images": self.missing_images}

    def lines(self) -> list[str]:
        out = [f"audit log: {self.audit_rows} rows, " + ("chain intact" if self.chain_ok else "BROKEN")]
        out += [f"  - {p}" for p in self.chain_problems + self.data_problems]
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

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn
        self.db = sqlite_utils.Database(conn)

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, title: str, investigator: str, gallery, engine: dict,
               actor: str | None = None) -> "CaseFile":
        """Create a new case file for ``gallery`` (an open Gallery). Refuses to overwrite a file."""
        path = Path(path).expanduser().absolute()
        if path.exists():
            raise CaseFileError(f"{path} already exists; choose a new file name for the case.")
        if not path.parent.is_dir():
            raise CaseFileError(f"Folder {path.parent} does not exist; create it or choose another place.")
        if not title.strip():
            raise CaseFileError("A case needs a title; give one with --title.")
        case = cls(path, _connect(path))
        case.actor = actor or os_user()
        case._create_schema()
        shas = gallery.shas()
        meta = {"schema_version": str(CASE_SCHEMA_VERSION), "case_id": str(uuid.uuid4()), "title": title,
                "investigator": investigator, "created": utc_now(), "software": f"interreid {__version__}",
                "gallery_path": str(gallery.folder), "gallery_fingerprint": gallery.fingerprint(),
                "gallery_images": str(len(shas)), "engine": json.dumps(engine, sort_keys=True)}
        with case.transaction():
            for key, value in meta.items():
                case._insert("case_meta", {"key": key, "value": value}, "case", "case.meta", {"key": key})
            rows = gallery.snapshot()
            case.conn.executemany("INSERT INTO gallery_images(idx, sha256, source_path) VALUES (?,?,?)", rows)
            snapshot_hash = sha256_json([list(r) for r in rows])
            case._append_audit("case", "case.created", {"title": title, "investigator": investigator,
                                                        "gallery": str(gallery.folder), "images": len(rows),
                                                        "gallery_snapshot_sha256": snapshot_hash}, "ok")
        return case

    @classmethod
    def open(cls, path: str | Path, actor: str | None = None) -> "CaseFile":
        path = Path(path).expanduser().absolute()
        if not path.is_file():
            raise CaseFileError(f"Case file {path} does not exist; check the path or create it with 'case new'.")
        case = cls(path, _connect(path))
        case.actor = actor or os_user()
        try:
            version = case.meta("schema_version")
        except sqlite3.DatabaseError:
            version = None
        if version is None:
            case.conn.close()
            raise CaseFileError(f"{path} is not an interreid case file; open a .case file made by interreid.")
        if int(version) > CASE_SCHEMA_VERSION:
            case.conn.close()
            raise CaseFileError(f"Case file {path} was written by a newer interreid (format {version}); "
                                "update interreid to open it.")
        return case

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "CaseFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _create_schema(self) -> None:
        db = self.db
        db["case_meta"].create({"id": int, "key": str, "value": str}, pk="id")
        db["gallery_images"].create({"idx": int, "sha256": str, "source_path": str}, pk="idx")
        db["rounds"].create({"id": int, "round": int, "suggested": str, "asked": str, "answer": str,
                             "questioner": str, "rationale": str, "attribute": str, "kind": str, "k": int,
                             "suggested_at": str, "answered_at": str, "state": str}, pk="id")
        db["rankings"].create({"id": int, "after_round": int, "query": str, "depth": int, "rows": bytes,
                               "scores": bytes, "created_at": str, "state": str}, pk="id")
        db["candidates"].create({"id": int, "round": int, "position": int, "sha256": str, "gallery_row": int,
                                 "rank": int, "score": float, "reasons": str, "state": str}, pk="id")
        db["marks"].create({"id": int, "sha256": str, "mark": str, "note": str, "at": str}, pk="id")
        db["witness_views"].create({"id": int, "sha256": str, "note": str, "at": str}, pk="id")
        db["audit"].create({"seq": int, "ts": str, "actor": str, "component": str, "event": str,
                            "params": str, "outcome": str, "prev_hash": str, "hash": str}, pk="seq")

    # -- writing (always through the audit log) -------------------------------------------
    @contextmanager
    def transaction(self):
        """One SQLite transaction; 'database is locked' becomes one clear sentence."""
        try:
            with self.conn:
                yield self.conn
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise CaseFileError(f"Case file {self.path} is in use by another program; nothing was "
                                    "written: close the other program and retry.") from None
            raise

    def _append_audit(self, component: str, event: str, params: dict, outcome: str) -> AuditEntry:
        last = self.conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        ts = utc_now()
        params = json.loads(json.dumps(params, default=str))
        h = entry_hash(seq, ts, self.actor, component, event, params, outcome, prev)
        self.conn.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?)",
                          (seq, ts, self.actor, component, event,
                           json.dumps(params, sort_keys=True, ensure_ascii=False), outcome, prev, h))
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

    # -- metadata ------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM case_meta WHERE key = ? ORDER BY id DESC LIMIT 1",
                                (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self._insert("case_meta", {"key": key, "value": value}, "case", "case.meta", {"key": key})

    def metadata(self) -> dict:
        out: dict = {}
        for key, value in self.conn.execute("SELECT key, value FROM case_meta ORDER BY id"):
            out[key] = value
        if "engine" in out:
            out["engine"] = json.loads(out["engine"])
        return out

    def gallery_snapshot(self) -> list[tuple[int, str, str]]:
        return list(self.conn.execute("SELECT idx, sha256, source_path FROM gallery_images ORDER BY idx"))

    # -- marks and witness views ------------------------------------------------------------
    def mark(self, sha256: str, mark: str, note: str = "") -> int:
        """Mark an image match / possible / excluded (or cleared), with a note."""
        if mark not in MARKS:
            raise CaseFileError(f"Unknown mark '{mark}'; use one of: {', '.join(MARKS)}.")
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
        with self.transaction():
            return self._insert("witness_views", {"sha256": sha256, "note": note, "at": utc_now()},
                                "witness", "shown_to_witness", {"sha256": sha256})

    def witness_views(self) -> list[dict]:
        return [dict(zip(("sha256", "note", "at"), r))
                for r in self.conn.execute("SELECT sha256, note, at FROM witness_views ORDER BY id")]

    def audit_entries(self) -> list[AuditEntry]:
        return [row_to_entry(r) for r in self.conn.execute(
            "SELECT seq, ts, actor, component, event, params, outcome, prev_hash, hash FROM audit ORDER BY rowid")]

    # -- verification ---------------------------------------------------------------------
    def verify(self, rehash_images: bool = True) -> Verification:
        """Re-check the audit chain, every data row against the log, and every gallery image."""
        result = Verification()
        entries = self.audit_entries()
        result.audit_rows = len(entries)
        result.chain_problems = verify_chain(entries)
        latest: dict[tuple[str, int], str] = {}
        for e in entries:
            if "table" in e.params and "id" in e.params:
                latest[(e.params["table"], int(e.params["id"]))] = e.params.get("row_sha256", "")
        seen: set[tuple[str, int]] = set()
        for table in DATA_TABLES:
            if table == "gallery_images":
                continue
            cur = self.conn.execute(f"SELECT * FROM {table} ORDER BY id")
            names = [d[0] for d in cur.description]
            for values in cur:
                row = dict(zip(names, values))
                key = (table, int(row["id"]))
                seen.add(key)
                if key not in latest:
                    result.data_problems.append(f"{table} row {row['id']} was added outside the audit log")
                elif latest[key] != _row_hash(row):
                    result.data_problems.append(f"{table} row {row['id']} was altered after it was logged")
        for key in latest:
            if key not in seen:
                result.data_problems.append(f"{key[0]} row {key[1]} was deleted")
        created = next((e for e in entries if e.event == "case.created"), None)
        snapshot = self.gallery_snapshot()
        if created is not None and sha256_json([list(r) for r in snapshot]) != created.params.get(
                "gallery_snapshot_sha256"):
            result.data_problems.append("the case's list of gallery images was altered")
        if rehash_images:
            for _idx, sha, src in snapshot:
                result.images_checked += 1
                try:
                    found = sha256_file(src)
                except OSError:
                    result.missing_images.append({"sha256": sha, "path": src})
                    continue
                if found != sha:
                    result.altered_images.append({"sha256": sha, "path": src, "found": found})
            from ..video.verify import rehash_videos

            result.videos_checked, altered, missing = rehash_videos([src for _i, _s, src in snapshot])
            result.altered_images += altered
            result.missing_images += missing
        return result


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(str(path), timeout=5.0, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise CaseFileError(f"Case file {path} is in use by another program; close it and retry.") from None
        raise
    except sqlite3.DatabaseError:
        raise CaseFileError(f"{path} is not an interreid case file; open a case file made by interreid.") from None


class InterviewRecords:
    """Reading and writing the interview's rounds, rankings and candidates in a case file."""

    def __init__(self, case: CaseFile):
        self.case = case

    def save_ranking(self, after_round: int, query: str, rows, scores) -> int:
        import numpy as np

        rows = np.asarray(rows, dtype=np.int32)
        scores = np.asarray(scores, dtype=np.float32)
        with self.case.transaction():
            return self.case._insert(
                "rankings", {"after_round": after_round, "query": query, "depth": int(len(rows)),
                             "rows": rows.tobytes(), "scores": scores.tobytes(), "created_at": utc_now(),
                             "state": "active"},
                "retriever", "ranking.saved", {"after_round": after_round, "depth": int(len(rows))})

    def save_candidates(self, round_index: int, candidates: list[dict]) -> None:
        """``candidates``: dicts with sha256, gallery_row, rank (1-based), score, reasons."""
        with self.case.transaction():
            for pos, c in enumerate(candidates, start=1):
                self.case._insert("candidates", {"round": round_index, "position": pos, "sha256": c["sha256"],
                                                 "gallery_row": int(c["gallery_row"]), "rank": int(c["rank"]),
                                                 "score": float(c["score"]), "reasons": c.get("reasons", ""),
                                                 "state": "active"},
                                  "selector", "candidates.shown", {"round": round_index, "position": pos})

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
        """Every active ranking in round order: after_round, query, rows, scores."""
        import numpy as np

        out = []
        for after, query, rows, scores in self.case.conn.execute(
                "SELECT after_round, query, rows, scores FROM rankings WHERE state = 'active' ORDER BY after_round"):
            out.append({"after_round": after, "query": query,
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
