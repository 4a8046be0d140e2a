"""The engine's clock: every timestamp it records is UTC, ISO-8601 with microseconds."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> str:
    """Now, in UTC, as ISO-8601 with microseconds (``2024-05-01T12:30:00.123456+00:00``)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
