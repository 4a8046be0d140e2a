"""One SQLite case file per investigation, with a hash-chained, append-only audit log."""

from .audit import AuditEntry, verify_chain  # noqa: F401
from .case import CaseFile  # noqa: F401
