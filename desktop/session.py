"""One open case in the window: the case file, its gallery, the engine and the interview.

``CaseSession`` is the only place the desktop app calls the engine. Every call runs in a
worker (one engine thread, in order, because the case file and gallery each share one SQLite
connection); results and errors come back as signals on the GUI thread. Widgets only call the
verbs below and listen to the signals: the interview itself is the engine's ``Interview``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from engine.gallery.store import GalleryImage

from .workers import Job, JobRunner

log = logging.getLogger("interreid.desktop")


@dataclass
class OpenedCase:
    """What the window needs once a case is open (read in the worker)."""

    path: Path
    title: str
    investigator: str
    gallery_folder: Path
    gallery_size: int
    engine_text: str
    engine_kind: str
    shas: list[str]
    cameras: list[str | None]
    timestamps: list[str | None]
    marks: dict[str, dict]
    witness_views: list[dict]
    initial_description: str
    state: Any  # RoundState or None (interview not started)
    notes: list[str] = field(default_factory=list)  # the engine's notes (e.g. a pack without a questioner)


@dataclass
class ImageDetails:
    """A gallery image (the engine's GalleryImage) with what this case knows about it."""

    image: GalleryImage
    history: list[tuple[int, int, float]]  # (after_round, rank, score)
    mark: dict | None
    shown_to_witness: list[dict]


def load_row_metadata(gallery) -> tuple[list[str | None], list[str | None]]:
    """Camera and timestamp of every gallery row, in row order (one query)."""
    cams: list[str | None] = []
    stamps: list[str | None] = []
    for cam, stamp in gallery.conn.execute("SELECT camera, timestamp FROM images ORDER BY row"):
        cams.append(cam)
        stamps.append(stamp)
    return cams, stamps


def rank_histories(rankings: list[dict], rows: list[int]) -> dict[int, list[tuple[int, int, float]]]:
    """For each gallery row: (after_round, 1-based rank, score) in every stored ranking."""
    out: dict[int, list[tuple[int, int, float]]] = {r: [] for r in rows}
    for ranking in rankings:
        order = ranking["rows"]
        for r in rows:
            hit = np.flatnonzero(order == r)
            if len(hit):
                pos = int(hit[0])
                out[r].append((int(ranking["after_round"]), pos + 1, float(ranking["scores"][pos])))
    return out


class CaseSession(QObject):
    opened = Signal(object)  # OpenedCase
    state_changed = Signal(object)  # RoundState
    marks_changed = Signal(object)  # sha -> {mark, note, at}
    histories_changed = Signal(object)  # row -> [(after_round, rank, score)]
    witness_views_changed = Signal(object)  # [ {sha256, note, at} ]
    verified = Signal(object)  # Verification
    busy_changed = Signal(bool, str)
    error = Signal(str)
    background = Signal(str)  # a non-blocking job started (its label)
    info = Signal(str)
    questioner_ready = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.engine_queue = JobRunner(1, self)
        self.side_pool = JobRunner(2, self)
        self.case = None
        self.gallery = None
        self.engine = None
        self.interview = None
        self.opened_case: OpenedCase | None = None
        self.state = None
        self.marks: dict[str, dict] = {}
        self._pending = 0

    # -- plumbing ---------------------------------------------------------------------------
    def _run(self, fn: Callable[[Job], Any], done: Callable[[Any], None] | None, label: str,
             queue: JobRunner | None = None, blocking: bool = True) -> Job:
        """Run ``fn`` in a worker. ``blocking`` jobs disable the interview controls meanwhile."""
        if blocking:
            self._pending += 1
            self.busy_changed.emit(True, label)
        else:
            self.background.emit(label)

        def finish(result):
            if blocking:
                self._settle()
            if done is not None:
                done(result)

        def fail(message, _exc):
            if blocking:
                self._settle()
            self.error.emit(message)

        return (queue or self.engine_queue).start(fn, finish, fail, name=label)

    def _settle(self) -> None:
        self._pending = max(0, self._pending - 1)
        if not self._pending:
            self.busy_changed.emit(False, "")

    @property
    def busy(self) -> bool:
        return self._pending > 0

    @property
    def is_open(self) -> bool:
        return self.opened_case is not None

    # -- opening ----------------------------------------------------------------------------
    def open(self, case_path: str | Path) -> None:
        """Open a case (and its gallery and engine) in the worker; then verify it on the side."""
        path = Path(case_path).expanduser().absolute()
        self.close()

        def work(_job):
            from engine.casefile import CaseFile
            from engine.engines import build_engine
            from engine.errors import CaseFileError
            from engine.gallery.store import Gallery
            from engine.interview.loop import Interview

            case = CaseFile.open(path)
            try:
                folder = case.meta("gallery_path")
                if not folder:
                    raise CaseFileError(f"{path} names no gallery; it cannot be opened for an interview.")
                gallery = Gallery.open(folder)
                # the selector and questioner the case was made with; a LLaVA questioner loads in
                # the background (infogain suggests until it is ready)
                chosen = case.metadata().get("engine") or {}
                engine = build_engine(gallery, selector=chosen.get("selector") or "kmeans",
                                      questioner=chosen.get("questioner") or "infogain", load_questioner=False)
                interview = Interview(gallery, engine, case=case)
                state = None
                if case.meta("initial_description"):
                    state = interview.resume()
                cams, stamps = load_row_metadata(gallery)
                opened = OpenedCase(path, case.meta("title") or path.stem, case.meta("investigator") or "",
                                    gallery.folder, len(gallery), engine.describe(), engine.kind,
                                    list(gallery.shas()), cams, stamps, case.current_marks(),
                                    case.witness_views(), case.meta("initial_description") or "", state,
                                    list(engine.notes))
            except BaseException:
                case.close()
                raise
            return case, gallery, engine, interview, opened

        def done(result):
            self.case, self.gallery, self.engine, self.interview, opened = result
            self.opened_case = opened
            self.state = opened.state
            self.marks = opened.marks
            self.opened.emit(opened)
            self.marks_changed.emit(self.marks)
            if self.state is not None:
                self.state_changed.emit(self.state)
            self._refresh_histories()
            self.verify()
            self._load_questioner()

        self._run(work, done, "Opening the case…")

    def _load_questioner(self) -> None:
        """Start loading a LLaVA questioner in its own thread and say when it is ready (or failed)."""
        q = self.engine.questioner if self.engine is not None else None
        if q is None or not hasattr(q, "start_loading") or q.loaded:
            return
        q.start_loading()
        self.info.emit("Loading the LLaVA questioner in the background; infogain suggests questions until it is "
                       "ready.")
        timer = QTimer(self)
        timer.setInterval(250)

        def poll():
            if self.engine is None or self.engine.questioner is not q:  # the case was closed
                timer.stop()
            elif q.loaded:
                timer.stop()
                self.questioner_ready.emit(f"LLaVA questioner ready (loaded in {q.load_seconds:.1f} s); it suggests "
                                           "the next question.")
            elif q.load_error is not None:
                timer.stop()
                self.error.emit(f"The LLaVA questioner could not be loaded ({q.load_error}); infogain suggests the "
                                "questions instead.")

        timer.timeout.connect(poll)
        timer.start()

    def verify(self) -> None:
        """Re-check the audit chain and re-hash the gallery images (own connection, side pool)."""
        path = self.opened_case.path

        def work(_job):
            from engine.casefile import CaseFile

            with CaseFile.open(path) as case:
                return case.verify()

        self._run(work, self.verified.emit, "Verifying the case and re-hashing its images…", self.side_pool,
                  blocking=False)

    def close(self) -> None:
        if self.case is None:
            return
        self.engine_queue.wait()
        self.side_pool.wait()
        for thing in (self.case, self.gallery):
            try:
                thing.close()
            except Exception:  # noqa: BLE001  (closing twice or after an error is harmless)
                log.debug("close failed", exc_info=True)
        self.case = self.gallery = self.engine = self.interview = None
        self.opened_case = None
        self.state = None

    # -- the interview -------------------------------------------------------------------------
    def _interview_step(self, fn: Callable[[], Any], label: str) -> None:
        def work(_job):
            return fn()

        def done(state):
            self.state = state
            self.state_changed.emit(state)
            self._refresh_histories()

        self._run(work, done, label)

    def start(self, description: str) -> None:
        def begin():
            state = self.interview.start(description)
            self.opened_case.initial_description = self.interview.initial
            return state

        self._interview_step(begin, "Searching the gallery…")

    def ask(self, question: str, answer: str) -> None:
        self._interview_step(lambda: self.interview.answer(answer, asked=question), "Re-ranking…")

    def dont_know(self, question: str) -> None:
        self._interview_step(lambda: self.interview.dont_know(asked=question), "Recording “don't know”…")

    def skip(self) -> None:
        self._interview_step(self.interview.skip, "Choosing another question…")

    def undo(self) -> None:
        self._interview_step(self.interview.undo, "Undoing the last round…")

    def correct(self, key: str, replacement: str = "") -> None:
        """Remove (or replace) a constraint the software understood; recorded in the case, re-ranks."""
        self._interview_step(lambda: self.interview.correct(key, replacement), "Applying your correction…")

    # -- marks, witness views, details ------------------------------------------------------
    def mark(self, sha256: str, mark: str, note: str = "") -> None:
        def work(_job):
            self.case.mark(sha256, mark, note)
            return self.case.current_marks()

        def done(marks):
            self.marks = marks
            self.marks_changed.emit(marks)
            self._refresh_histories()

        self._run(work, done, "Saving the mark…")

    def show_to_witness(self, sha256: str, note: str = "") -> None:
        def work(_job):
            self.case.record_witness_view(sha256, note)
            return self.case.witness_views()

        def done(views):
            self.witness_views_changed.emit(views)
            self.info.emit("Recorded in the case file: this image was shown to the witness.")

        self._run(work, done, "Recording the witness view…")

    def details(self, row: int, callback: Callable[[ImageDetails], None]) -> None:
        def work(_job):
            from engine.casefile.case import InterviewRecords

            img = self.gallery.image(row)
            history = rank_histories(InterviewRecords(self.case).rankings(), [row])[row]
            views = [v for v in self.case.witness_views() if v["sha256"] == img.sha256]
            return ImageDetails(img, history, self.case.current_marks().get(img.sha256), views)

        self._run(work, callback, "Reading the image's details…")

    def _refresh_histories(self) -> None:
        if self.case is None:
            return
        shas = [s for s, m in self.marks.items() if m["mark"] in ("match", "possible")]

        def work(_job):
            from engine.casefile.case import InterviewRecords

            rows = [r for r in (self.gallery.row_of(s) for s in shas) if r is not None]
            return rank_histories(InterviewRecords(self.case).rankings(), rows)

        self._run(work, self.histories_changed.emit, "Reading rank history…")

    # -- files ------------------------------------------------------------------------------
    def save_copy(self, out: str | Path) -> None:
        """Write a consistent copy of the case file (SQLite backup), e.g. for an evidence drive."""
        out = Path(out)

        def work(_job):
            import sqlite3

            dest = sqlite3.connect(str(out))
            try:
                self.case.conn.backup(dest)
            finally:
                dest.close()
            self.case.log_event("case", "case.copied", {"to": str(out)})
            return out

        self._run(work, lambda p: self.info.emit(f"Saved a copy of the case to {p}."), "Saving a copy…")

    def export_report(self, out: str | Path, done: Callable[[Path], None] | None = None) -> None:
        path = self.opened_case.path

        def work(_job):
            from engine.report import write_report

            return write_report(path, out)

        def finished(p):
            self.info.emit(f"Report written to {p}.")
            if done is not None:
                done(p)

        self._run(work, finished, "Writing the report…")
