"""The anchor journal: outside every case file, an append-only record of each case's audit head.

After every committed write to a case, one line is appended to ``anchors.jsonl`` in the workstation
folder (:func:`engine.storage.keys.workstation_dir`): case id, last audit row number and its hash,
the signing key's fingerprint, the time and the case's path. ``case verify`` checks that the case
still holds every anchor recorded for it: a case cut short (rows deleted from its end), rolled back to
an older copy or rewritten since no longer does. A report carries the head at export too
(:func:`head_tag`), so a report checks a case on any machine.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

JOURNAL = "anchors.jsonl"
_TAG = re.compile(rb"interreid-case-head:([0-9a-f-]{36}):(\d+):([0-9a-f]{64})")


@dataclass(frozen=True)
class Anchor:
    case_id: str
    seq: int
    hash: str
    at: str = ""
    source: str = "workstation journal"


def journal_path() -> Path:
    from ..storage.keys import workstation_dir

    return workstation_dir() / JOURNAL


def append(case_id: str, seq: int, hash_: str, key_fp: str, path: str) -> None:
    """One line, one write(2) on an O_APPEND file: concurrent writers never interleave."""
    from ..clock import utc_now

    line = json.dumps({"case": case_id, "seq": seq, "hash": hash_, "key": key_fp, "at": utc_now(),
                       "path": path}, ensure_ascii=True) + "\n"
    fd = os.open(journal_path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("ascii"))
    finally:
        os.close(fd)


def anchors_for(case_id: str) -> tuple[list[Anchor], list[str]]:
    """Every anchor the journal holds for ``case_id`` and any unreadable journal lines (as problems)."""
    path = journal_path()
    out: list[Anchor] = []
    problems: list[str] = []
    if not path.is_file():
        return out, problems
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            if case_id.encode() not in raw:
                continue
            try:
                d = json.loads(raw)
                if d["case"] == case_id:
                    out.append(Anchor(case_id, int(d["seq"]), str(d["hash"]), str(d.get("at", ""))))
            except (ValueError, KeyError, TypeError):
                problems.append(f"line {n} of the workstation's anchor journal is unreadable")
    return out, problems


def head_tag(case_id: str, seq: int, hash_: str) -> str:
    """The machine-readable head a report carries (in its text, metadata and .sha256 file)."""
    return f"interreid-case-head:{case_id}:{seq}:{hash_}"


def report_mismatch(path: str | Path, case_id: str) -> str | None:
    """One sentence when the file given as a case's report is not one of its reports (no head at all, or only the
    heads of other cases): the user chose the wrong file, which says nothing about the case. None otherwise."""
    found = anchors_in_report(path)
    name = Path(path).name
    if not found:
        return (f"{name} carries no case head: it is not an interreid report (or was made before reports carried "
                "one); give the PDF or HTML report exported from this case.")
    others = sorted({a.case_id for a in found if a.case_id != case_id})
    if len(others) == len({a.case_id for a in found}):
        return (f"{name} is the report of another case (ID {', '.join(others)}; this case is {case_id}); give the "
                "report exported from this case.")
    return None


def anchors_in_report(path: str | Path) -> list[Anchor]:
    """The heads a report (PDF or HTML) or its .sha256 file carries."""
    found: dict[tuple, Anchor] = {}
    for p in (Path(path), Path(str(path) + ".sha256")):
        try:
            data = p.read_bytes()
        except OSError:
            continue
        for m in _TAG.finditer(data):
            a = Anchor(m.group(1).decode(), int(m.group(2)), m.group(3).decode(), source=f"report {Path(path).name}")
            found[(a.case_id, a.seq, a.hash)] = a
    return list(found.values())
