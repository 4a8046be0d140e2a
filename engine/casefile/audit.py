"""The audit log: every write to a case file appends one row, hash-chained to the one before.

Row hash = SHA-256 of the canonical JSON of (seq, ts, actor, component, event, params, outcome,
prev_hash). Editing, deleting or reordering any row breaks the chain at that row, and
``verify_chain`` says where.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass

from ..hashing import sha256_json

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: str
    actor: str
    component: str
    event: str
    params: dict
    outcome: str
    prev_hash: str
    hash: str


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001  (no user database in some containers)
        return "unknown"


def entry_hash(seq: int, ts: str, actor: str, component: str, event: str, params: dict, outcome: str,
               prev_hash: str) -> str:
    return sha256_json({"seq": seq, "ts": ts, "actor": actor, "component": component, "event": event,
                        "params": params, "outcome": outcome, "prev": prev_hash})


def row_to_entry(row: tuple) -> AuditEntry:
    seq, ts, actor, component, event, params, outcome, prev_hash, h = row
    try:
        parsed = json.loads(params)
    except (TypeError, ValueError):
        parsed = {"__unparseable__": str(params)}
    return AuditEntry(seq, ts, actor, component, event, parsed, outcome, prev_hash, h)


def verify_chain(entries: list[AuditEntry]) -> list[str]:
    """Problems found in the chain, as sentences naming the row; empty when intact."""
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    for e in entries:
        if e.seq != expected_seq:
            if e.seq > expected_seq:
                problems.append(f"audit rows {expected_seq}..{e.seq - 1} are missing (deleted)")
            else:
                problems.append(f"audit row {e.seq} is out of order (rows reordered or duplicated)")
        if e.prev_hash != prev:
            problems.append(f"audit row {e.seq} does not link to the row before it (chain broken)")
        recomputed = entry_hash(e.seq, e.ts, e.actor, e.component, e.event, e.params, e.outcome, e.prev_hash)
        if recomputed != e.hash:
            problems.append(f"audit row {e.seq} ({e.event}) was altered after it was written")
        prev = e.hash
        expected_seq = e.seq + 1
    return problems
