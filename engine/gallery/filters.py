"""Which gallery rows a search may return: cameras and a capture-time range.

A :class:`RowFilter` is applied where the rows live: the Qdrant backend turns it into payload
filters that the server evaluates (``QdrantIndex.search``); every other backend gets a boolean mask
over the gallery's rows (``mask``). Capture times are the gallery's ISO-8601 strings (CCTV clocks
are local, so no time zone); for filtering they become a number, seconds since 1970-01-01 on that
same local clock (``time_number``), which is what the Qdrant payload stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np

from ..errors import UserError


def time_number(stamp: str | None) -> float | None:
    """Seconds since 1970-01-01 of an ISO date or date-time on the camera's own clock; None if absent
    or unreadable (the time zone is not interpreted: every stamp is read on the same scale)."""
    if not stamp:
        return None
    try:
        dt = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if dt.tzinfo is not None:
        dt = dt.replace(tzinfo=None)
    return (dt.replace(tzinfo=timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()


def parse_time_bound(text: str, end: bool, option: str) -> float:
    """A ``--from`` / ``--to`` value as a number; a date alone covers its whole day for ``--to``."""
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"{option} {text!r} is not a date or time; write it as 2024-05-01 or "
                        "2024-05-01T12:30:00.") from None
    number = time_number(dt.isoformat())
    date_only = len(text.strip()) <= 10
    if end and date_only:
        number += timedelta(days=1).total_seconds() - 1
    return number


@dataclass(frozen=True)
class RowFilter:
    """Cameras (empty: every camera) and an inclusive capture-time range (None: open)."""

    cameras: frozenset[str] = field(default_factory=frozenset)
    time_from: float | None = None
    time_to: float | None = None

    def is_empty(self) -> bool:
        return not self.cameras and self.time_from is None and self.time_to is None

    def describe(self) -> dict:
        """What a report or case records about the filter."""
        return {"cameras": sorted(self.cameras), "time_from": self.time_from, "time_to": self.time_to}

    def mask(self, cameras: list[str | None], stamps: list[str | None]) -> np.ndarray:
        """Which rows pass (bool (N,)), from every row's camera and timestamp. A row with no time
        never passes a time range."""
        n = len(cameras)
        keep = np.ones(n, dtype=bool)
        if self.cameras:
            keep &= np.fromiter((c in self.cameras for c in cameras), dtype=bool, count=n)
        if self.time_from is not None or self.time_to is not None:
            times = np.array([t if t is not None else np.nan for t in map(time_number, stamps)], dtype=np.float64)
            ok = ~np.isnan(times)
            if self.time_from is not None:
                ok &= times >= self.time_from
            if self.time_to is not None:
                ok &= times <= self.time_to
            keep &= ok
        return keep
