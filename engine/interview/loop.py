"""The interview loop (docs/architecture.md, paper §3.1) as one engine object.

The CLI, the desktop app and the benchmark drive it the same way::

    iv = Interview(gallery, engine, case=case)
    state = iv.start("a man in a red jacket")      # ranking after round 0, round 1's question
    state = iv.answer("Yes, and blue jeans.")       # round 1 recorded, ranking after round 1, ...
    state = iv.undo()                               # back to round 1

Round t (1-based) shows the ranking after round t - 1 (query D_{t-1}), its top-k with
k = ceil(200 / t), c = 4 candidates (rank 1 + 3 chosen by the selector) and a suggested
question. Only cleaned answers join the retrieval query (docs/architecture.md). When a case file is
given, every ranking, every set of candidates shown and every answered round is written to it
through its audit log, and :meth:`resume` continues exactly where the case stopped.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..casefile.case import CaseFile, InterviewRecords
from ..errors import UserError
from ..gallery import colour_cache
from ..gallery.vector_format import round_view
from ..clock import utc_now
from ..retriever import posterior, relative_match, text_encoder, understander
from ..search import DEFAULT_DEPTH, Ranking, Searcher, query_embedding, rank_by_counting
from .answers import DONT_KNOW
from .query import build_query
from .protocols import QuestionContext, SuggestedQuestion, Turn
from .understood import understood_statements

log = logging.getLogger(__name__)

DEFAULT_MAX_ROUNDS = 5
DEFAULT_CANDIDATES = 4
POOL_SIZE = 200
RECORDED_TOP_SHAS = 20  # hashes of a ranking's best rows kept in its audit entry (for reports)


def k_for_round(t: int, pool: int = POOL_SIZE) -> int:
    """Top-k size at round t (1-based): ceil(200 / t)."""
    return math.ceil(pool / t)


@dataclass
class Candidate:
    row: int
    sha256: str
    rank: int  # 1-based
    score: float
    reasons: str
    match: float = 0.0  # percent, relative to the best image of the ranking (retriever.relative_match)


@dataclass
class RoundState:
    """What the investigator sees before answering round ``round_index``."""

    round_index: int
    k: int
    query: str
    rows: np.ndarray  # the top of the ranking, best first (gallery rows; up to the interview's depth)
    scores: np.ndarray  # scores aligned with ``rows``
    candidates: list[Candidate]
    suggestion: SuggestedQuestion | None
    dialogue: list[Turn]
    max_rounds: int
    timings_ms: dict = field(default_factory=dict)
    ranking: Ranking | None = None  # ranks rows beyond ``rows`` on demand
    #: what the engine understood, one entry per statement (the description, then each answer):
    #: {"said": text, "constraints": ["top: black (sure)", ...], "unused": ["bag", ...]}; empty when
    #: the engine cannot say (the full engine reads free text)
    understood: list[dict] = field(default_factory=list)

    temperature: float = 1.0  # the retriever's, for match percentages

    @property
    def matches(self) -> np.ndarray:
        """Match percentage of every ranked image relative to the best (``retriever.relative_match``)."""
        if len(self.scores) == 0:
            return np.zeros(0)
        return relative_match(self.scores, float(self.scores[0]), self.temperature)

    @property
    def constrains_nothing(self) -> bool:
        """True when the engine reports what it understood and nothing in the query constrains the
        ranking: every image then scores the same, and the order means nothing."""
        return bool(self.understood) and not any(u["constraints"] for u in self.understood)

    @property
    def over_cap(self) -> bool:
        """True once the round cap is reached (the investigator may still continue)."""
        return self.round_index > self.max_rounds

    def rank_of(self, row: int) -> int:
        """1-based rank of a gallery row in the current ranking (also beyond the rows kept)."""
        if self.ranking is not None:
            return self.ranking.rank_of(row)
        return int(np.flatnonzero(self.rows == row)[0]) + 1


class Interview:
    """The interview loop over one gallery with one engine, optionally recorded in a case file.

    Creating one warms the engine for the gallery (``warm``; once per open gallery and engine, writing
    nothing: interview/warmup.py), so that the first ranking does not pay for imports, opening the index
    and first calls; ``warm_up_ms`` says what that cost."""

    def __init__(self, gallery, engine, case: CaseFile | None = None, max_rounds: int = DEFAULT_MAX_ROUNDS,
                 c: int = DEFAULT_CANDIDATES, depth: int = DEFAULT_DEPTH, warm: bool = True):
        if len(gallery) == 0:
            raise UserError(f"Gallery {gallery.folder} holds no images; import some first with "
                            "'interreid gallery import'.")
        self.gallery = gallery
        self.engine = engine
        self.case = case
        self.records = InterviewRecords(case) if case is not None else None
        self.max_rounds = max_rounds
        self.c = c
        self.vectors = gallery.vectors()
        self._round_vectors = self.vectors  # the current round's top rows, decoded once (_next_round)
        from ..gallery.lazy import RowShas
        from ..video.query import TrackLookup

        # read by row when a round needs them: opening a gallery of millions of rows reads neither
        self.shas = RowShas(gallery)
        self.track_of = TrackLookup(gallery)  # row -> person track, for crops cut from video
        self.depth = max(int(depth), POOL_SIZE)  # rows kept per round (shown, stored in the case)
        self.searcher = Searcher(gallery, engine.retriever, self.vectors)
        self.initial = ""
        self.dialogue: list[Turn] = []
        self.skipped_attributes: set[str] = set()
        self.skipped_questions: set[str] = set()
        #: the investigator's corrections of what the engine understood: {"remove", "label", "add", "round", "at"}
        self.corrections: list[dict] = []
        self.state: RoundState | None = None
        #: what the warm-up cost, per step (ms): the first round's one-time costs paid here (warmup.py)
        self.warm_up_ms: dict = {}
        if warm:
            from .warmup import warm_up

            try:
                self.warm_up_ms = warm_up(self)
            except Exception as exc:  # noqa: BLE001  (only a speed-up: the first round meets the same fault and says so)
                log.warning("the interview's warm-up failed; the first round pays its costs", exc_info=True)
                self.warm_up_ms = {"skipped": f"failed: {type(exc).__name__}: {exc}"}

    # -- the query -----------------------------------------------------------------------
    def query(self, dialogue: list[Turn] | None = None) -> str:
        """Initial description + cleaned answers, space-joined (questions are not added).

        A retriever with the optional ``Contextualiser`` capability makes a bare answer ("Black.")
        self-contained; the lite engine does, the CLIP retriever does not."""
        query = build_query(self.initial, self.dialogue if dialogue is None else dialogue, self.engine.retriever)
        return " ".join([query] + [self._correction_text(c) for c in self.corrections]).strip()

    def _correction_text(self, c: dict) -> str:
        reader = understander(self.engine.retriever)
        marker = reader.drop_marker(c["remove"]) if c.get("remove") and reader is not None else ""
        return " ".join(p for p in (marker, c.get("add", "")) if p)

    def understood(self) -> list[dict]:
        """Per statement (the description, then each answer as it joined the query, then each correction): the
        constraints the engine took from it and the words it could not use (``understood.understood_statements``,
        which the report reads too). Empty when the engine cannot say."""
        return understood_statements(self.engine.retriever, self.initial, self.dialogue, self.corrections)

    def correct(self, key: str, replacement: str = "") -> RoundState:
        """The investigator removes a constraint the engine took (``key``, from ``understood()``), and
        may say what is right instead (``replacement``, e.g. "black"). Recorded in the case (audited),
        used for ranking from now on; the current round is re-ranked."""
        state = self._require_state()
        if understander(self.engine.retriever) is None:
            raise UserError("This engine reads the witness's words as free text; type the correction as an "
                            "answer instead.")
        known = {k: label for u in state.understood for k, label in zip(u.get("keys", []), u["constraints"])}
        if key not in known:
            raise UserError("That constraint is not part of the current search; choose one of those listed.")
        add = ""
        if replacement.strip():
            region = key.split()[0]
            nouns = {"head": "hair", "upper": "top", "lower": "trousers", "feet": "shoes"}
            add = replacement.strip().rstrip(".")
            add = f"{nouns[region].capitalize()}: {add}." if region in nouns else f"{add}."
        entry = {"remove": key, "label": known[key], "add": add, "round": state.round_index, "at": utc_now()}
        self.corrections.append(entry)
        if self.case is not None:
            self.case.log_event("interview", "constraint.corrected",
                                {"round": state.round_index, "removed": known[key], "replacement": add})
            self.case.set_meta("corrections", json.dumps(self.corrections))
        if self.records is not None:  # the corrected ranking and candidates replace this round's (kept, marked)
            self.records.supersede(state.round_index)
        return self._next_round(record=True)

    def rank(self, query: str, depth: int | None = None) -> Ranking:
        """The top ``depth`` rows for a query (the engine's one search verb), best first; ties keep
        gallery order; ``rank_of`` gives any other row's rank. With a T-ReID model attached (paper
        Table 2) every row's score is fused with its scores for the initial description first; a
        case ranks only the images its snapshot holds ('case extend' adds more)."""
        k = depth or self.depth
        fuse = getattr(self.engine, "treid", None) is not None and bool(self.initial)
        allowed = self._case_rows()
        if not fuse and allowed is None:
            return self.searcher.search(query, k)
        return Ranking.of_scores(self._every_score(query, self.initial), k, allowed)

    def _every_score(self, query: str, initial: str) -> np.ndarray:
        """Every row's score for ``query``, fused with the T-ReID model's scores for ``initial`` when one is
        attached (paper Table 2)."""
        scores = self.searcher.every_score(query)
        treid = getattr(self.engine, "treid", None)
        if treid is not None and initial:
            scores = treid.fuse(scores, self.engine.retriever.temperature, initial)
        return scores

    def case_scores(self, query: str, held: int | None = None) -> np.ndarray:
        """Every row's score for ``query`` as this interview ranks them (T-ReID fused when attached; rows the
        case does not search at -inf), for counting ranks below the rows a case keeps. ``held``: only the
        gallery's first rows, as many as the case searched when an earlier ranking was made."""
        initial = self.initial or (self.case.meta("initial_description") if self.case is not None else "") or ""
        scores = self._every_score(query, initial)
        allowed = self._case_rows()
        if held is not None and held < len(self.vectors):
            allowed = np.arange(len(self.vectors)) < held
        return np.asarray(scores if allowed is None else np.where(allowed, scores, -np.inf), dtype=np.float32)

    def _held_when_ranked(self) -> dict[int, int]:
        """ranking id -> how many of the gallery's rows the case searched when that ranking was saved (a
        case citing the gallery manifest; 'case extend' may have added rows since), from the audit log."""
        held, out = None, {}
        for e in self.case.audit_entries():
            params = e.params if isinstance(e.params, dict) else {}
            if e.event in ("case.created", "case.extended") and isinstance(params.get("gallery_manifest"), dict):
                held = int(params["gallery_manifest"]["rows"])
            elif e.event == "ranking.saved" and params.get("table") == "rankings" and held is not None:
                out[int(params["id"])] = held
        return out

    def tracked_rows(self) -> dict[str, tuple[int, str]]:
        """The images whose rank the case records in every round: each marked image (match, possible,
        excluded) and each image shown to the witness, as sha -> (gallery row, why)."""
        if self.case is None:
            return {}
        why: dict[str, list[str]] = {}
        for sha in self.case.current_marks():
            why.setdefault(sha, []).append("marked")
        for v in self.case.witness_views():
            if "shown" not in why.setdefault(v["sha256"], []):
                why[v["sha256"]].append("shown")
        if not why:
            return {}
        held = self.case.held_rows()
        limit = len(self.vectors) if held is None else min(held, len(self.vectors))
        rows = self.gallery.rows_of_shas(list(why))
        return {sha: (int(row), ", ".join(why[sha])) for sha, row in rows.items() if 0 <= row < limit}

    def record_ranks(self, current: tuple[int, Ranking] | None = None) -> int:
        """Store the rank of every marked and every shown image in each active ranking of the case that does
        not hold it yet (audited; format 4). ``current``: (its id, the Ranking) of the ranking just made,
        whose ranks are counted on its own scores ("with the round"); an earlier ranking's stored query is
        re-scored ("later": an image marked or shown after that round). Returns how many were stored."""
        if self.records is None or not self.case.stores_ranks():
            return 0
        tracked = self.tracked_rows()
        if not tracked:
            return 0
        have = {(p["ranking_id"], p["sha256"]) for p in self.records.rank_points()}
        points = []
        held_when: dict[int, int] | None = None
        for r in self.records.rankings():
            todo = [(sha, row, why) for sha, (row, why) in tracked.items() if (r["id"], sha) not in have]
            if not todo:
                continue
            live = current[1] if current is not None and current[0] == r["id"] else None
            scores = None
            for sha, row, why in todo:
                hit = np.flatnonzero(r["rows"] == row)
                if len(hit):
                    rank, score = int(hit[0]) + 1, float(r["scores"][int(hit[0])])
                elif live is not None:
                    rank, score = live.rank_of(row), live.score_of(row)
                else:
                    if held_when is None:
                        held_when = self._held_when_ranked()
                    if row >= held_when.get(r["id"], row + 1):
                        continue  # an image the case did not search yet when that ranking was made: no rank
                    if scores is None:
                        scores = self.case_scores(r["query"], held_when.get(r["id"]))
                    rank, score = rank_by_counting(scores, row), float(scores[row])
                points.append({"ranking_id": r["id"], "after_round": r["after_round"], "sha256": sha,
                               "gallery_row": row, "rank": rank, "score": score, "kept": len(r["rows"]),
                               "why": why, "counted": "with the round" if live is not None else "later"})
        return self.records.save_ranks(points)

    def _case_rows(self) -> np.ndarray | None:
        """Mask of the gallery rows the case's snapshot holds; None when there is no case or it holds all."""
        if self.case is None:
            return None
        held = self.case.held_rows()
        if held is not None:  # a case citing the gallery manifest searches the gallery's first rows: O(1)
            if held >= len(self.vectors):
                return None
            return np.arange(len(self.vectors)) < held
        if getattr(self, "_allowed", None) is None or len(self._allowed) != len(self.vectors):
            held = {sha for _i, sha, _p in self.case.gallery_snapshot()}
            self._allowed = np.fromiter((sha in held for sha in self.gallery.shas()), dtype=bool,
                                        count=len(self.vectors))
        return None if self._allowed.all() else self._allowed

    # -- the loop ------------------------------------------------------------------------
    def release(self) -> None:
        """Let go of the gallery's mapped files (vectors, index codes) once the case is closed: an object
        still referring to this interview (a finished job, a signal) then holds no mapping. At 10M rows the
        mapped files are 5.8 GB; each case opened in the app kept another copy counted as the process's
        resident memory. The interview cannot run a round afterwards."""
        from ..search import forget_index

        forget_index(self.gallery)
        if self.state is not None and self.state.ranking is not None:
            self.state.ranking = None  # its lazy full scores refer to the searcher and the vectors
        self.searcher = None
        self.vectors = self._round_vectors = None

    def reattach(self) -> None:
        """Map the gallery's files again after :meth:`release`, for an interview whose case stays open (the
        app lets go of them before it opens another case, and takes them back when that one fails to open).
        The current round keeps its rows, scores, candidates and question; a rank below its kept rows is
        re-scored from its query, as for a resumed case."""
        if self.searcher is not None:
            return
        self.vectors = self.gallery.vectors()
        self.searcher = Searcher(self.gallery, self.engine.retriever, self.vectors)
        self._round_vectors = self.vectors
        if self.state is not None:
            self._round_vectors = round_view(self.vectors, self.state.rows[:self.state.k])
            self.state.ranking = self.searcher.stored(self.state.query, self.state.rows, self.state.scores)

    def start(self, initial_description: str) -> RoundState:
        """Begin with the witness's initial description: rank, pick candidates, suggest Q1."""
        if not initial_description.strip():
            raise UserError("The witness's initial description is empty; type what the witness said first.")
        if self.dialogue or (self.records and self.records.rounds()):
            raise UserError("This interview has already started; resume it or open a new case.")
        self.initial = initial_description.strip()
        if self.case is not None:
            self.case.set_meta("initial_description", self.initial)
        return self._next_round(record=True)

    def answer(self, answer: str, asked: str | None = None) -> RoundState:
        """Record the witness's answer to the current question (``asked`` if the investigator
        edited or replaced the suggestion), re-rank, and prepare the next round."""
        state = self._require_state()
        suggestion = state.suggestion or SuggestedQuestion("")
        asked_text = (asked if asked is not None else suggestion.text).strip()
        if not asked_text:
            raise UserError("There is no question to record; type the question you asked the witness.")
        answer = answer.strip() or DONT_KNOW
        attribute = suggestion.attribute if asked_text == suggestion.text else None
        turn = Turn(asked_text, answer, attribute)
        if self.records is not None:
            self.records.save_round({
                "round": state.round_index, "suggested": suggestion.text, "asked": asked_text, "answer": answer,
                "questioner": suggestion.questioner, "rationale": suggestion.rationale,
                "attribute": suggestion.attribute or "", "kind": suggestion.kind, "k": state.k,
                "suggested_at": getattr(suggestion, "suggested_at", "") or "", "answered_at": utc_now()})
        self.dialogue.append(turn)
        if suggestion.attribute:
            # asked about it (even when edited) or answered "don't know": never suggest it again
            self.skipped_attributes.add(suggestion.attribute)
        return self._next_round(record=True)

    def dont_know(self, asked: str | None = None) -> RoundState:
        """The witness does not know: a valid answer, which leaves the ranking unchanged."""
        return self.answer(DONT_KNOW, asked)

    def skip(self) -> RoundState:
        """Skip the suggested question without asking it: suggest another one instead."""
        state = self._require_state()
        if state.suggestion is not None:
            if state.suggestion.attribute:
                self.skipped_attributes.add(state.suggestion.attribute)
            if state.suggestion.text:
                self.skipped_questions.add(state.suggestion.text)
            if self.case is not None:
                self.case.log_event("interview", "question.skipped",
                                    {"round": state.round_index, "question": state.suggestion.text,
                                     "attribute": state.suggestion.attribute or ""})
        state.suggestion = self._suggest(state)
        return state

    def undo(self) -> RoundState:
        """Undo the last answered round: its ranking and the next round's candidates are undone."""
        if not self.dialogue:
            raise UserError("There is no answered round to undo.")
        last_round = len(self.dialogue)
        if self.records is not None:
            self.records.undo_round(last_round)
        turn = self.dialogue.pop()
        self.skipped_attributes.discard(turn.attribute or "")
        return self._next_round(record=False)

    def resume(self) -> RoundState:
        """Continue a case's interview exactly where it stopped (no new records are written)."""
        if self.case is None:
            raise UserError("There is no case file to resume from.")
        self.initial = self.case.meta("initial_description") or ""
        if not self.initial:
            raise UserError("This case has no interview yet; start one with the witness's description.")
        self.dialogue = [Turn(r["asked"], r["answer"], r["attribute"] or None) for r in self.records.rounds()]
        self.skipped_attributes = {r["attribute"] for r in self.records.rounds() if r["attribute"]}
        self.corrections = json.loads(self.case.meta("corrections") or "[]")
        for e in self.case.audit_entries():  # skipped suggestions stay skipped after reopening the case
            if e.event == "question.skipped" and isinstance(e.params, dict):
                if e.params.get("question"):
                    self.skipped_questions.add(e.params["question"])
                if e.params.get("attribute"):
                    self.skipped_attributes.add(e.params["attribute"])
        return self._next_round(record=False)

    # -- internals -----------------------------------------------------------------------
    def _require_state(self) -> RoundState:
        if self.state is None:
            raise UserError("The interview has not started; give the witness's initial description first.")
        return self.state

    def _next_round(self, record: bool) -> RoundState:
        t = len(self.dialogue) + 1
        timings: dict = {}
        tick = time.perf_counter()
        query = self.query()
        stored = self.records.ranking(t - 1) if self.records is not None else None
        if stored is not None and not record:
            ranking = self.searcher.stored(query, stored[0], stored[1])
        else:
            ranking = self.rank(query)
            if self.records is not None:
                ranking_id = self.records.save_ranking(t - 1, query, ranking.rows, ranking.scores,
                                                       self.shas.many(ranking.rows[:RECORDED_TOP_SHAS]))
                self.record_ranks(current=(ranking_id, ranking))
        rows, scores = ranking.rows, ranking.scores
        timings["retrieve"] = (time.perf_counter() - tick) * 1000
        k = min(k_for_round(t), len(rows))
        tick = time.perf_counter()
        # the round's top-k decoded once (one gather of an fp16/int8 file) for the selector and questioner
        self._round_vectors = round_view(self.vectors, rows[:k])
        stored_candidates = self.records.candidates(t) if self.records is not None else []
        if stored_candidates and not record:
            chosen = [c["gallery_row"] for c in stored_candidates]
        else:
            # the learned selector reads the query's text embedding (full engine only)
            query_vector = ranking.query_vector
            encoder = text_encoder(self.engine.retriever)
            if query_vector is None and encoder is not None:
                query_vector = query_embedding(encoder, query)
            # never two candidates from one person track: only a track's best-ranked crop is offered
            from ..video.query import one_per_track

            pool = np.asarray(one_per_track(rows[:k], self.track_of), dtype=np.int64)
            chosen = self.engine.selector.select(pool, self._round_vectors, c=self.c, query_vector=query_vector)
        timings["select"] = (time.perf_counter() - tick) * 1000
        position = {int(r): i for i, r in enumerate(rows[:k])}
        best = float(scores[0]) if len(scores) else 0.0
        temperature = self.engine.retriever.temperature
        candidates = [Candidate(int(r), self.shas[int(r)], position[int(r)] + 1, float(scores[position[int(r)]]),
                                self.engine.retriever.explain(query, self._round_vectors[int(r)]),
                                float(relative_match(scores[position[int(r)]], best, temperature)))
                      for r in chosen]
        if self.records is not None and not stored_candidates:
            self.records.save_candidates(t, [{"sha256": c.sha256, "gallery_row": c.row, "rank": c.rank,
                                              "score": c.score, "reasons": c.reasons} for c in candidates])
        self.state = RoundState(t, k, query, rows, scores, candidates, None, list(self.dialogue),
                                self.max_rounds, timings, ranking, self.understood(), float(temperature))
        tick = time.perf_counter()
        self.state.suggestion = self._suggest(self.state)
        timings["ask"] = (time.perf_counter() - tick) * 1000
        return self.state

    def _suggest(self, state: RoundState) -> SuggestedQuestion:
        topk = state.rows[:state.k]
        post = posterior(state.scores[:state.k], self.engine.retriever.temperature)
        context = QuestionContext(self.initial, list(self.dialogue), state.round_index, topk, post,
                                  [c.row for c in state.candidates], self._round_vectors,
                                  self.gallery.load_image,
                                  set(self.skipped_attributes), query=state.query,
                                  asked_questions=set(self.skipped_questions),
                                  lite_vectors=lambda rows: colour_cache.vectors_of(self.gallery, rows))
        suggestion = self.engine.questioner.ask(context)
        if not suggestion.questioner:
            suggestion.questioner = self.engine.questioner.name
        suggestion.suggested_at = utc_now()  # type: ignore[attr-defined]
        return suggestion

