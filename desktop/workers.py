"""Background work for the GUI: engine calls run in a QThreadPool, results come back as signals.

A :class:`Job` wraps one callable. Its signals (``progress``, ``finished``, ``failed``) are
emitted from the worker thread and delivered to slots in the GUI thread by Qt's queued
connections, so callbacks may touch widgets. ``cancel()`` sets a flag the callable can poll
(the importer's ``cancel`` callback, for instance).

Engine objects that write (the case file, the gallery) share one SQLite connection each, so
every job that touches them goes through :data:`engine_queue` (one thread, jobs in order);
read-only work that opens its own connections (verification, reports) may use the wider pool.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from .errors import describe_error

log = logging.getLogger("interreid.desktop")


class JobSignals(QObject):
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str, object)  # one-sentence message, the exception


class Job(QRunnable):
    """Run ``fn(job)`` (``fn`` may call ``job.report(x)`` and poll ``job.cancelled``)."""

    def __init__(self, fn: Callable[["Job"], Any], name: str = "job"):
        super().__init__()
        self.fn = fn
        self.name = name
        self.signals = JobSignals()
        self._cancel = threading.Event()
        self.done = threading.Event()
        self.setAutoDelete(False)  # Python keeps the reference; Qt must not delete it under us

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def report(self, value: Any) -> None:
        self.signals.progress.emit(value)

    def run(self) -> None:  # worker thread
        # the work (and what it refers to: a case's interview, its mapped files) is let go of as soon as it has
        # run, not when the window's thread gets to the report: the next job may be opening another case
        fn, self.fn = self.fn, None
        try:
            result = fn(self)
        except Exception as exc:  # noqa: BLE001  (shown to the user and logged, never swallowed)
            fn = None
            message = describe_error(exc)
            if message.startswith("Internal error"):
                log.error("%s failed:\n%s", self.name, traceback.format_exc())
            self.done.set()
            self.signals.failed.emit(message, exc)
            return
        fn = None
        self.done.set()
        self.signals.finished.emit(result)


class JobRunner(QObject):
    """Starts jobs on a thread pool and keeps them alive until they have reported."""

    def __init__(self, max_threads: int, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._live: set[Job] = set()

    def start(self, fn: Callable[[Job], Any], on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[str, BaseException], None] | None = None,
              on_progress: Callable[[Any], None] | None = None, name: str = "job") -> Job:
        job = Job(fn, name)
        # The callbacks are reached through ``box`` and let go once the job has reported: a signal's
        # connection (held by Qt, out of sight of Python's garbage collector) and the job it names make a
        # cycle that is never freed, so whatever a callback or ``fn`` refers to (a closed case's gallery,
        # its interview and their mapped files: 5.8 GB at 10M rows) stayed for the life of the window.
        box = {"done": on_done, "error": on_error, "progress": on_progress}
        job.signals.progress.connect(lambda value, b=box: b["progress"](value) if b.get("progress") else None)
        job.signals.finished.connect(lambda result, j=job, b=box: self._report(j, b, "done", (result,)))
        job.signals.failed.connect(lambda message, exc, j=job, b=box: self._report(j, b, "error", (message, exc)))
        self._live.add(job)
        self.pool.start(job)
        return job

    def _report(self, job: Job, box: dict, which: str, args: tuple) -> None:
        """Deliver a job's outcome to its callback, then let go of the job's work and callbacks."""
        callback = box.get(which)
        try:
            if callback is not None:
                callback(*args)
        finally:
            box.clear()
            job.fn = None
            self._live.discard(job)

    @property
    def busy(self) -> bool:
        return bool(self._live)

    def wait(self, msecs: int = 30000) -> bool:
        for job in list(self._live):
            job.cancel()
        return self.pool.waitForDone(msecs)
