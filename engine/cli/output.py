"""Shared terminal output: JSON results and a progress bar (count, rate, ETA) on stderr."""

from __future__ import annotations

import json
import sys
import time


def emit_json(value, path: str | None = None) -> None:
    """Write a result as JSON to stdout, or to ``path`` when given ('-' means stdout)."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if path and path != "-":
        from pathlib import Path

        from ..errors import UserError

        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        except (IsADirectoryError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
            raise UserError(f"Cannot write {path} ({exc.strerror}); give a file name in an existing folder "
                            f"(the work itself is done: {Path(path).name} is only its JSON summary).") from None
    else:
        print(text)


class ProgressBar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, label: str, total: int, stream=None, min_interval: float = 0.1):
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.start = time.perf_counter()
        self.last = 0.0
        self.min_interval = min_interval

    def update(self, done: int, extra: str = "") -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last < self.min_interval and done < self.total:
            return
        self.last = now
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else 0.0
        width = 24
        filled = int(width * done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{self.total} {rate:6.1f}/s ETA {_fmt(eta)} {extra}   ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _fmt(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60:d}:{seconds % 60:02d}"
