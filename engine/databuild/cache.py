"""An append-only cache of model calls (JSON lines), the build's resume mechanism.

A call's key is the SHA-256 of (image SHA-256, prompt version, model identity, step, exact prompt,
generation settings). Each finished call is appended and flushed at once, so after a kill -9 a
re-run finds every finished call; a last line cut short by the kill is ignored.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path


def call_key(image_sha: str, prompt_version: str, model: dict, step: str, prompt: str, settings: dict) -> str:
    blob = json.dumps([image_sha, prompt_version, model, step, prompt, settings], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CallCache:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._data: dict[str, str] = {}
        self.hits = 0
        self.misses = 0
        if self.path.is_file():
            with open(self.path, "rb") as f:
                for raw in f:
                    try:
                        item = json.loads(raw.decode("utf-8"))
                        self._data[item["key"]] = item["output"]
                    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                        continue  # a line cut short by a kill
        self._file = open(self.path, "ab")  # noqa: SIM115  (open for the cache's lifetime; close() closes it)
        if self.path.stat().st_size and not self.path.read_bytes().endswith(b"\n"):
            self._file.write(b"\n")  # the last line was cut short by a kill: start a fresh one
            self._file.flush()
        self.loaded = len(self._data)

    def get(self, key: str) -> str | None:
        with self._lock:
            out = self._data.get(key)
            if out is None:
                self.misses += 1
            else:
                self.hits += 1
            return out

    def put(self, key: str, output: str, meta: dict) -> None:
        line = json.dumps({"key": key, "output": output, **meta}, ensure_ascii=False) + "\n"
        with self._lock:
            self._data[key] = output
            self._file.write(line.encode("utf-8"))
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()
