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
from typing import Any, Callable, Sequence

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from interreid.engine.gallery.store import GalleryImage

from .errors import app_wording
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
    shas: Sequence[str]  # the gallery's hashes in row order, read by row (engine.gallery.lazy.RowShas)
    cameras: Sequence[str | None]  # camera by row, read by row (engine.gallery.lazy.RowFacts)
    timestamps: Sequence[str | None]  # ISO time by row, read by row
    marks: dict[str, dict]
    witness_views: list[dict]
    initial_description: str
    state: Any  # RoundState or None (interview not started)
    notes: list[str] = field(default_factory=list)  # the engine's notes (e.g. a pack without a questioner)
    tracks: Any = field(default_factory=dict)  # row -> person track (crops cut from video): .get, read by row
    warnings: list[str] = field(default_factory=list)  # e.g. the gallery's images changed since the case was made
    kept_top: int = 0  # rows of each ranking the case keeps (the interview's depth); ranks below it are counted
    facts: Any = None  # the lazy camera/time reader behind ``cameras`` and ``timestamps``


@dataclass
class ImageDetails:
    """A gallery image (the engine's GalleryImage) with what this case knows about it."""

    image: GalleryImage
    history: list[tuple[int, int, float]]  # (after_round, rank, score)
    mark: dict | None
    shown_to_witness: list[dict]
    neighbours: tuple[list[int], list[int]] = ([], [])  # rows before / after it in its source folder
    video: dict | None = None  # provenance of a crop cut from video, with its track's boxes
    matches: list[float | None] | None = None  # match percent at each history point (retriever.relative_match)


def load_row_metadata(gallery):
    """Camera and timestamp of the gallery's rows, read by row when the grid lists them
    (``engine.gallery.lazy.RowFacts``): opening a case reads none of them, whatever the gallery's size."""
    from interreid.engine.gallery.lazy import RowFacts

    return RowFacts(gallery)


def prefetch_listed(opened: "OpenedCase", state) -> None:
    """Read (in the worker) the camera, time and track of the rows the grid is about to list, so that the
    window's thread finds them read: the ranking's kept top, or the gallery's first page before a search."""
    from .models.ranking_model import UNRANKED_LIMIT

    rows = ([int(r) for r in state.rows] if state is not None
            else list(range(min(opened.gallery_size, UNRANKED_LIMIT))))
    opened.facts.many(rows)
    prefetch = getattr(opened.tracks, "prefetch", None)
    if prefetch is not None:
        prefetch(rows)


def case_title(path: str | Path) -> str:
    """A case file's title, read without changing it; "" when it cannot be read."""
    try:
        from interreid.engine.casefile import CaseFile

        with CaseFile.open(path) as case:
            return case.meta("title") or ""
    except Exception:  # noqa: BLE001  (a missing or foreign file just has no title to show)
        return ""


def remove_case_file(path: Path) -> None:
    """Remove a case file this app has just created (and SQLite's side files), e.g. after a failure."""
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
              path.with_name(path.name + "-journal")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            log.warning("could not remove %s after a failed new case", p, exc_info=True)


def rank_histories(rankings: list[dict], rows: list[int], searcher=None,
                   counted: list[dict] | None = None) -> dict[int, list[tuple[int, int, float]]]:
    """For each gallery row: (after_round, 1-based rank, score) in every stored ranking.

    A case keeps the top of each ranking; below it, a row's rank is the one the case counted and stored
    (``counted``: the case's rank points, format 4), else, with the engine's ``searcher``, re-scored from
    that round's query (else it has no point for that round)."""
    stored = {(int(p["after_round"]), int(p["gallery_row"])): (int(p["rank"]), float(p["score"]))
              for p in counted or []}
    out: dict[int, list[tuple[int, int, float]]] = {r: [] for r in rows}
    for ranking in rankings:
        order = ranking["rows"]
        after = int(ranking["after_round"])
        ranked = None
        for r in rows:
            hit = np.flatnonzero(order == r)
            if len(hit):
                pos = int(hit[0])
                out[r].append((after, pos + 1, float(ranking["scores"][pos])))
            elif (after, r) in stored:
                out[r].append((after, *stored[(after, r)]))
            elif searcher is not None and 0 <= r < searcher.vectors.shape[0]:
                if ranked is None:
                    ranked = searcher.stored(ranking["query"], order, ranking["scores"])
                out[r].append((after, ranked.rank_of(r), ranked.score_of(r)))
    return out


def history_matches(history: list[tuple[int, int, float]], rankings: list[dict], retriever) -> list[float | None]:
    """Each history point's match percentage against the best image of that round's ranking
    (``retriever.relative_match``, at the retriever's temperature); None where it cannot be said."""
    from interreid.engine.retriever import relative_match

    temperature = getattr(retriever, "temperature", None)
    best = {int(r["after_round"]): float(r["scores"][0]) for r in rankings if len(r["scores"])}
    out: list[float | None] = []
    for after, _rank, score in history:
        if temperature is None or after not in best or not np.isfinite(score):
            out.append(None)
        else:
            out.append(float(relative_match(np.array([score]), best[after], float(temperature))[0]))
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
    open_failed = Signal(str)  # a case could not be opened or created; the open case (if any) is unchanged
    #: a case could not be opened because its gallery is not where it names it: (case path, that folder, sentence)
    gallery_moved = Signal(object, str, str)
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
        #: (interview, gallery) of the case whose files are mapped: the open case, or one opened by a job whose
        #: report has not reached the window yet (read and written by the engine queue's thread only, and by
        #: ``close`` once that queue is idle)
        self._held: tuple | None = None
        self._lost_previous = False  # the open case could not map its files again after a failed opening

    # -- plumbing ---------------------------------------------------------------------------
    def _run(self, fn: Callable[[Job], Any], done: Callable[[Any], None] | None, label: str,
             queue: JobRunner | None = None, blocking: bool = True,
             on_error: Callable[[str], None] | None = None, quiet: bool = False, of_case: bool = True) -> Job:
        """Run ``fn`` in a worker. ``blocking`` jobs disable the interview controls meanwhile.

        A job ``of_case`` (all but opening one) belongs to the case open when it started: if that case
        has been closed or replaced by the time it reports (closing waits 30 s at most, and a first
        search may build an index for minutes), its result and its error are not shown against
        another case or an empty window, only logged."""
        if blocking:
            self._pending += 1
            self.busy_changed.emit(True, label)
        elif not quiet:
            self.background.emit(label)
        case_then = self.case

        def gone() -> bool:
            return of_case and case_then is not None and self.case is not case_then

        def finish(result):
            if blocking:
                self._settle()
            if gone():
                log.info("%s finished after its case was closed; its result is not shown", label)
                return
            if done is not None:
                done(result)

        def fail(message, _exc):
            if blocking:
                self._settle()
            if gone():
                log.warning("%s failed after its case was closed (not shown): %s", label, message)
                return
            if on_error is not None:
                on_error(message)
            else:
                self.error.emit(app_wording(message))

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
    def _open_work(self, path: Path) -> tuple:
        """Open a case with its gallery, engine and interview (worker thread); nothing half-open stays."""
        from interreid.engine.interview.loop import Interview
        from interreid.engine.session import open_case

        # the selector, questioner and T-ReID model the case was made with; a LLaVA questioner
        # loads in the background (infogain suggests until it is ready)
        session = open_case(path, load_questioner=False)  # the case file, its gallery and its checks
        case, gallery, engine = session.case, session.gallery, session.engine
        held = self._let_go_of_held()  # before this case maps the gallery's files (its interview's warm-up)
        try:
            interview = Interview(gallery, engine, case=case)
            state = None
            if case.meta("initial_description"):
                state = interview.resume()
            facts = load_row_metadata(gallery)  # lazy: camera, time and track are read for the rows listed
            opened = OpenedCase(path, case.meta("title") or path.stem, case.meta("investigator") or "",
                                gallery.folder, len(gallery), engine.describe(), engine.kind,
                                interview.shas, facts.cameras, facts.timestamps, case.current_marks(),
                                case.witness_views(), case.meta("initial_description") or "", state,
                                list(engine.notes), tracks=interview.track_of,
                                warnings=list(session.warnings), kept_top=interview.depth, facts=facts)
            prefetch_listed(opened, state)
            if not case.stores_ranks() and case.version >= 2:  # format 1 is offered its upgrade on opening
                opened.notes.append("This case was made by an earlier interreid: the rank of a marked image below "
                                    f"the {interview.depth:,} best-ranked images is not stored in it (nor shown in its "
                                    "report) until it is upgraded with 'interreid case migrate'.")
        except BaseException:
            try:
                session.close()
            except Exception:  # noqa: BLE001  (already failing; the first error is the one to show)
                log.debug("close after a failed opening failed", exc_info=True)
            self._take_back(held)
            raise
        self._held = (interview, gallery)
        return case, gallery, engine, interview, opened

    def _let_go_of_held(self) -> tuple | None:
        """(engine thread) Let the case open now drop its gallery's mapped files (vectors, index codes, colour
        file) before another case maps them: it stays open (its case file and database), and takes them
        back if the other case fails to open. Both mapped at once, the same files were counted twice in the
        app's resident memory: 10.1 GB while switching between two cases of a 10M-row gallery whose vector
        file is 4.9 GB."""
        held, self._held = self._held, None
        self._lost_previous = False
        if held is not None:
            interview, gallery = held
            interview.release()
            gallery.let_go_of_files()
        return held

    def _take_back(self, held: tuple | None) -> None:
        """(engine thread) Another case failed to open: the case still open maps its gallery's files again
        (unchanged on screen). If it cannot (its gallery became unreadable meanwhile), it is closed once this
        job reports; everything it recorded is in its case file already."""
        if held is None:
            return
        try:
            held[0].reattach()
            self._held = held
        except Exception:  # noqa: BLE001  (the user is told the case was closed; the cause is logged)
            log.warning("the open case could not map its gallery again after a failed opening", exc_info=True)
            self._lost_previous = True

    def open(self, case_path: str | Path) -> None:
        """Open a case (and its gallery and engine) in the worker; then verify it on the side.

        The case that is open now stays open until the new one has opened completely: a case that
        cannot be opened leaves the window exactly as it was (``open_failed`` says why). Once the new
        case's file and gallery have passed their checks, the open case lets go of its gallery's mapped
        files so that the two never map them at once (``_let_go_of_held``), and takes them back if the new
        case still fails.
        """
        path = Path(case_path).expanduser().absolute()
        from interreid.engine.errors import GalleryMovedError

        def work(_job):
            try:
                return self._open_work(path)
            except GalleryMovedError as exc:  # the window offers to locate it (nothing was opened)
                return exc

        def done(result):
            if isinstance(result, GalleryMovedError):
                self.gallery_moved.emit(path, result.folder, app_wording(str(result)))
            else:
                self._install(result)

        self._run(work, done, "Opening the case…", on_error=lambda message: self._open_failed(path, message),
                  of_case=False)

    def relocate_gallery(self, case_path: Path, folder: str) -> None:
        """Record the case's gallery's new folder (audited; refused unless it holds the same gallery), then
        open the case."""
        def work(_job):
            from interreid.engine.session import relocate_gallery

            return relocate_gallery(case_path, folder)

        def done(message):
            self.info.emit(message)
            self.open(case_path)

        self._run(work, done, "Recording the gallery's new folder…",
                  on_error=lambda message: self._open_failed(case_path, message), of_case=False)

    def create_and_open(self, request) -> None:
        """Create a new case file for ``request`` (a NewCaseRequest) and open it, as one step.

        If anything fails after the file was written, the new file is removed again: a failed
        new case never leaves a stray case file behind, and the case open now stays open.
        """
        path = Path(request.case_path).expanduser().absolute()

        def work(_job):
            from interreid.engine.session import new_case

            existed = path.exists()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                # checks the choice of selector and questioner; the case loads a LLaVA questioner itself,
                # and a T-ReID model computes its gallery vectors once here
                new_case(path, request.title, request.investigator, request.gallery_folder,
                         selector=request.selector, questioner=request.questioner, load_questioner=False,
                         treid=request.treid, treid_weight=request.treid_weight).close()
                return self._open_work(path)
            except BaseException:
                if not existed:
                    remove_case_file(path)
                raise

        self._run(work, self._install, "Creating the case…",
                  on_error=lambda message: self._open_failed(path, message, new=True), of_case=False)

    def _install(self, result) -> None:
        """A case opened completely: close the previous one and make this the open case."""
        self.close()
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

    def _open_failed(self, path: Path, message: str, new: bool = False) -> None:
        what = "The new case could not be created" if new else f"The case {path.name} could not be opened"
        still = (f" “{self.opened_case.title}” is still open." if self.opened_case is not None else "")
        if self._lost_previous and self.opened_case is not None:
            still = (f" “{self.opened_case.title}” was closed too, because its gallery could not be read again; "
                     "everything recorded in it is saved in its case file: open it again once its gallery is "
                     "readable.")
            self.close()
        self.open_failed.emit(f"{what}: {app_wording(message)}{still}")

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

    def migrate(self) -> None:
        """Upgrade a case made by an earlier interreid (recorded in its audit log), then verify it."""
        def work(_job):
            return self.case.migrate()

        def done(steps):
            self.info.emit("Case upgraded to the current format: " + "; ".join(steps) + ".")
            self.verify()

        self._run(work, done, "Upgrading the case…")

    def verify(self, report: str | Path | None = None) -> None:
        """Re-check the audit chain and re-hash the gallery images (own connection, side pool); with
        ``report``, also check the case still holds the head that report recorded."""
        path = self.opened_case.path

        def work(_job):
            from interreid.engine.casefile import CaseFile

            with CaseFile.open(path) as case:
                if report is not None:  # another case's report, or no report: one sentence, the case not blamed
                    from interreid.engine.casefile.anchors import report_mismatch
                    from interreid.engine.errors import UserError

                    wrong = report_mismatch(report, case.meta("case_id") or "")
                    if wrong:
                        raise UserError(wrong)
                return case.verify(report=report)

        def done(verification):
            if self.opened_case is not None and self.opened_case.path == path:  # still the open case
                self.verified.emit(verification)

        self._run(work, done, "Verifying the case and re-hashing its images…", self.side_pool, blocking=False)

    def close(self) -> None:
        if self.case is None:
            return
        self.engine_queue.wait()
        self.side_pool.wait()
        if self._held is not None and self._held[0] is self.interview:
            self._held = None
        self._lost_previous = False
        if self.interview is not None:
            self.interview.release()
        for thing in (self.case, self.gallery):
            try:
                thing.close()
            except Exception:  # noqa: BLE001  (closing twice or after an error is harmless)
                log.debug("close failed", exc_info=True)
        self.case = self.gallery = self.engine = self.interview = None
        self.opened_case = None
        self.state = None

    # -- the interview -------------------------------------------------------------------------
    def _need_open(self) -> bool:
        """True when a case is open; otherwise say so (in the window's words) and do nothing."""
        if self.interview is not None and self.case is not None:
            return True
        self.error.emit("No case is open, so nothing was recorded; open or create a case from the File menu "
                        "(what you typed is still in the window).")
        return False

    def _interview_step(self, fn: Callable[[Any], Any], label: str) -> None:
        if not self._need_open():
            return
        interview = self.interview  # the case open now, even if another is opened meanwhile

        opened = self.opened_case

        def work(_job):
            state = fn(interview)
            prefetch_listed(opened, state)
            return state

        def done(state):
            if interview is not self.interview:  # a different case was opened meanwhile
                return
            self.state = state
            self.state_changed.emit(state)
            self._refresh_histories()

        self._run(work, done, label)

    def start(self, description: str) -> None:
        def begin(interview):
            state = interview.start(description)
            self.opened_case.initial_description = interview.initial
            return state

        self._interview_step(begin, "Searching the gallery…")

    def ask(self, question: str, answer: str) -> None:
        self._interview_step(lambda iv: iv.answer(answer, asked=question), "Re-ranking…")

    def dont_know(self, question: str) -> None:
        self._interview_step(lambda iv: iv.dont_know(asked=question), "Recording “don't know”…")

    def skip(self) -> None:
        self._interview_step(lambda iv: iv.skip(), "Choosing another question…")

    def undo(self) -> None:
        self._interview_step(lambda iv: iv.undo(), "Undoing the last round…")

    def correct(self, key: str, replacement: str = "") -> None:
        """Remove (or replace) a constraint the software understood; recorded in the case, re-ranks."""
        self._interview_step(lambda iv: iv.correct(key, replacement), "Applying your correction…")

    # -- marks, witness views, details ------------------------------------------------------
    def mark(self, sha256: str, mark: str, note: str = "") -> None:
        if not self._need_open():
            return

        case = self.case

        def work(_job):
            case.mark(sha256, mark, note)
            return case.current_marks()

        def done(marks):
            if case is not self.case:
                return
            self.marks = marks
            self.marks_changed.emit(marks)
            self._refresh_histories()

        self._run(work, done, "Saving the mark…")

    def show_to_witness(self, shas: str | list[str], reason: str,
                        ready: Callable[[list[list[str]]], None] | None = None) -> None:
        """Record that these images are shown to the witness (who, when, which, why), then call
        ``ready`` with each image's original files, in the order given, to put them on screen.

        One image is a single showing; several are a line-up (each image recorded with its
        position, and one audit event naming the whole line-up in order). No reason, no showing.
        """
        shas = [shas] if isinstance(shas, str) else list(shas)
        reason = reason.strip()
        if not reason:
            self.error.emit("Nothing was shown: give the reason for showing images to the witness.")
            return
        if not shas or not self._need_open():
            return
        case, gallery, interview = self.case, self.gallery, self.interview

        def work(_job):
            if len(shas) > 1:
                case.log_event("witness", "lineup.shown", {"images": shas, "reason": reason})
                for i, sha in enumerate(shas, start=1):
                    case.record_witness_view(sha, f"{reason} (line-up of {len(shas)}, position {i})")
            else:
                case.record_witness_view(shas[0], reason)
            interview.record_ranks()  # their ranks in the rounds so far, stored with the case (format 4)
            sources = []
            for sha in shas:
                row = gallery.row_of(sha)
                sources.append(list(gallery.image(row).sources) if row is not None else [])
            return case.witness_views(), sources

        def done(result):
            if case is not self.case:  # recorded in its case; that case is no longer on screen
                return
            views, sources = result
            self.witness_views_changed.emit(views)
            self.info.emit("Recorded in the case file: " + ("this image was" if len(shas) == 1 else
                           f"a line-up of {len(shas)} images was") + " shown to the witness.")
            if ready is not None:
                ready(sources)

        self._run(work, done, "Recording what is shown to the witness…")

    def find_similar(self, row: int, callback: Callable[[Any], None]) -> None:
        """Side search: the gallery ranked by similarity to one image; recorded in the case."""
        if not self._need_open():
            return
        case, gallery = self.case, self.gallery

        def work(_job):
            from interreid.engine.similar import find_similar, record_similar

            from interreid.engine.search import DEFAULT_DEPTH

            # the most similar images, as many as a ranking keeps (never a list of the whole gallery)
            result = find_similar(gallery, row, top=DEFAULT_DEPTH + 1)
            record_similar(case, result, gallery)
            return result

        self._run(work, callback, "Finding similar-looking images…")

    def details(self, row: int, callback: Callable[[ImageDetails], None]) -> None:
        def work(_job):
            from interreid.engine.casefile.case import InterviewRecords

            img = self.gallery.image(row)
            rec = InterviewRecords(self.case)
            rankings = rec.rankings()
            history = rank_histories(rankings, [row], self.interview.searcher, rec.rank_points())[row]
            matches = history_matches(history, rankings, self.interview.engine.retriever)
            from interreid.engine.gallery.neighbours import folder_neighbours

            views = [v for v in self.case.witness_views() if v["sha256"] == img.sha256]
            from interreid.engine.video.frames import track_boxes
            from interreid.engine.video.query import crop_provenance

            video = crop_provenance(self.gallery, img.sha256)
            if video is not None:
                video["track_boxes"] = track_boxes(self.gallery, video["track"])
            return ImageDetails(img, history, self.case.current_marks().get(img.sha256), views,
                                folder_neighbours(self.gallery, row), video, matches)

        self._run(work, callback, "Reading the image's details…")

    def _refresh_histories(self) -> None:
        if self.case is None:
            return
        shas = [s for s, m in self.marks.items() if m["mark"] in ("match", "possible")]
        case, gallery, interview = self.case, self.gallery, self.interview
        searcher = interview.searcher

        def work(_job):
            from interreid.engine.casefile.case import InterviewRecords

            interview.record_ranks()  # marked and shown images' ranks not stored yet (format 4; audited)
            rows = [r for r in (gallery.row_of(s) for s in shas) if r is not None]
            rec = InterviewRecords(case)
            return rank_histories(rec.rankings(), rows, searcher, rec.rank_points())

        def done(histories):
            if case is self.case:  # never the chart of a case that has been closed meanwhile
                self.histories_changed.emit(histories)

        # not blocking: the controls stay enabled (and focused) while the chart's data is read
        self._run(work, done, "Reading rank history…", blocking=False, quiet=True)

    # -- files ------------------------------------------------------------------------------
    def save_copy(self, out: str | Path) -> None:
        """Write a consistent copy of the case file (SQLite backup), e.g. for an evidence drive."""
        out = Path(out)

        def work(_job):
            return self.case.save_copy(out)  # a byte copy: encrypted as the case is, 0600

        self._run(work, lambda p: self.info.emit(f"Saved a copy of the case to {p}."), "Saving a copy…")

    def export_report(self, out: str | Path, done: Callable[[Path], None] | None = None) -> None:
        path = self.opened_case.path

        def work(_job):
            from interreid.engine.report import write_report

            return write_report(path, out)

        def finished(p):
            self.info.emit(f"Report written to {p}.")
            if done is not None:
                done(p)

        self._run(work, finished, "Writing the report…")
