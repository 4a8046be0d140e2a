"""The interactive benchmark: one simulated interview per query image of a split (paper §5.2).

The gallery is every image of the split, imported once into a cached gallery folder keyed by a
hash of the image list and the embedder's identity. The query is TEXT: each image's initial
description, so the query image itself stays in the gallery (as in text-to-image re-ID) and the
targets are all gallery images of the query's person id. After round r (round 0 = the initial
description only) the full ranking gives the positions of the targets, from which
:mod:`.metrics` computes R@k, mAP, mINP, the first-correct rank and BRI.

Methods:

- ``initial``: no questions; every round keeps the initial ranking.
- ``template`` / ``infogain`` / ``llava``: the questioner suggests, the simulated witness
  (:mod:`.answerers`) answers, and the answer goes to :meth:`Interview.answer`: the benchmark
  drives the product's interview loop with the chosen selector (``top``, ``uniform``,
  ``kmeans``, ``learned``).
- ``oracle``: the looking-forward upper bound (paper Eq. 9): at each round, among the record's
  annotated answers not yet used, the one that gives the target the best rank (first on ties).

Everything is deterministic given ``seed`` (it picks the ``limit`` queries and seeds sampling
models). A KeyboardInterrupt stops after the current query and returns the queries finished so far.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import UserError
from ..interview.loop import Interview
from ..interview.protocols import Turn
from ..search import Ranking
from .annotations import Record, load_annotations
from .witnesses import Answerer, make_answerer, settle
from .metrics import bri, first_rank, round_metrics

METHODS = ("initial", "template", "infogain", "llava", "oracle")
QUESTION_METHODS = ("template", "infogain", "llava")
SELECTORS = ("top", "uniform", "kmeans", "learned")

Progress = Callable[[int, int, str], None]  # (done, total, what is running)


@dataclass
class BenchSettings:
    """What to run. ``answerer`` ``auto`` means ``attributes`` when the dataset has an
    ``attributes.json`` (beside the annotations or in the image root), else ``memory``."""

    annotations: Path
    images: Path
    split: str = "test"
    engine: str = "lite"  # lite | full
    pack: str | None = None
    methods: tuple[str, ...] = ("initial", "infogain")
    selectors: tuple[str, ...] = ("kmeans",)
    rounds: int = 5
    answerer: str = "auto"
    attributes: Path | None = None
    limit: int | None = None
    seed: int = 0
    cache_dir: Path | None = None
    treid: tuple[str, ...] = ()  # T-ReID models (packs or "lite") to fuse with (paper Table 2)
    treid_weight: float = 0.5
    witness_prompt: Path | None = None  # an llm: witness's prompt file (None: the paper's)

    def as_dict(self) -> dict:
        return {"annotations": str(self.annotations), "images": str(self.images), "split": self.split,
                "engine": self.engine, "pack": self.pack, "methods": list(self.methods),
                "selectors": list(self.selectors), "rounds": self.rounds, "answerer": self.answerer,
                "attributes": str(self.attributes) if self.attributes else None, "limit": self.limit,
                "seed": self.seed, "treid": list(self.treid), "treid_weight": self.treid_weight,
                "witness_prompt": str(self.witness_prompt) if self.witness_prompt else None}


@dataclass(frozen=True)
class RunSpec:
    """One column of the comparison: a method, and the selector when the method uses one."""

    method: str
    selector: str | None

    def label(self, several_selectors: bool) -> str:
        return f"{self.method}/{self.selector}" if self.selector and several_selectors else self.method


@dataclass
class QueryResult:
    """One query's interview under one run: target ranks and positions after rounds 0..R."""

    index: int  # record index in the annotation file
    file_path: str
    person_id: int
    positions: list[list[int]]  # per round: 1-based positions of all correct gallery images
    questions: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    fused: dict[str, list[list[int]]] = field(default_factory=dict)  # T-ReID name -> positions per round

    @property
    def ranks(self) -> list[int]:
        return [first_rank(p) for p in self.positions]

    def as_dict(self) -> dict:
        return {"index": self.index, "file_path": self.file_path, "id": self.person_id, "ranks": self.ranks,
                "correct_positions": self.positions, "questions": self.questions, "answers": self.answers,
                **({"treid_positions": self.fused} if self.fused else {})}


@dataclass
class RunResult:
    spec: RunSpec
    label: str
    queries: list[QueryResult] = field(default_factory=list)
    seconds: float = 0.0

    def per_round(self) -> list[dict]:
        """Metrics after each round 0..R over the finished queries."""
        if not self.queries:
            return []
        n_rounds = len(self.queries[0].positions)
        return [{"round": r, **round_metrics([q.positions[r] for q in self.queries])} for r in range(n_rounds)]

    def bri(self) -> float | None:
        if not self.queries or len(self.queries[0].positions) < 2:
            return None
        return bri(np.array([q.ranks for q in self.queries]))

    def as_dict(self) -> dict:
        return {"method": self.spec.method, "selector": self.spec.selector, "queries": len(self.queries),
                "seconds": round(self.seconds, 3), "BRI": self.bri(), "per_round": self.per_round(),
                "per_query": [q.as_dict() for q in self.queries]}


@dataclass
class BenchResult:
    settings: BenchSettings
    runs: list[RunResult]
    queries_planned: int
    gallery: dict
    answerer: str
    interrupted: bool = False
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    treid: list[dict] = field(default_factory=list)  # per T-ReID model: name, identity, positions alone

    @property
    def queries_done(self) -> int:
        return len(self.runs[0].queries) if self.runs else 0

    def as_dict(self) -> dict:
        return {"settings": self.settings.as_dict(), "answerer": self.answerer, "gallery": self.gallery,
                "queries_planned": self.queries_planned, "queries_done": self.queries_done,
                "interrupted": self.interrupted, "elapsed_s": round(self.elapsed_s, 3), "notes": self.notes,
                "runs": {r.label: r.as_dict() for r in self.runs},
                **({"treid": treid_summary(self)} if self.treid else {})}


# -- set-up ------------------------------------------------------------------------------------
def plan_runs(methods: tuple[str, ...], selectors: tuple[str, ...]) -> list[RunSpec]:
    """Runs in the order asked: question methods once per selector, the others once."""
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise UserError(f"Unknown method '{bad[0]}'; choose from: {', '.join(METHODS)}.")
    bad = [s for s in selectors if s not in SELECTORS]
    if bad:
        raise UserError(f"Unknown selector '{bad[0]}'; choose from: {', '.join(SELECTORS)}.")
    if not methods:
        raise UserError("No method to run; give --method, such as initial,infogain.")
    if not selectors:
        raise UserError("No selector given; give --selector, such as kmeans.")
    specs: list[RunSpec] = []
    for m in dict.fromkeys(methods):
        if m in QUESTION_METHODS:
            specs += [RunSpec(m, s) for s in dict.fromkeys(selectors)]
        else:
            specs.append(RunSpec(m, None))
    return specs


def split_records(records: list[Record], split: str) -> list[tuple[int, Record]]:
    chosen = [(i, r) for i, r in enumerate(records) if r.split == split]
    if not chosen:
        splits = sorted({r.split for r in records})
        raise UserError(f"The annotations have no '{split}' records; splits present: {', '.join(splits) or 'none'}.")
    return chosen


def choose_queries(n: int, limit: int | None, seed: int) -> list[int]:
    """Indices of the queries to run: all, or ``limit`` of them drawn with ``seed`` (in file order)."""
    if limit is None or limit >= n:
        return list(range(n))
    if limit < 1:
        raise UserError(f"--limit must be at least 1 (got {limit}).")
    return sorted(np.random.default_rng(seed).choice(n, size=limit, replace=False).tolist())


def resolve_answerer(settings: BenchSettings) -> tuple[str, Path | None]:
    """(answerer spec, attributes file) with ``auto`` resolved."""
    attributes = settings.attributes
    if attributes is None:
        for candidate in (Path(settings.annotations).parent / "attributes.json",
                          Path(settings.images) / "attributes.json"):
            if candidate.is_file():
                attributes = candidate
                break
    spec = settings.answerer
    if spec == "auto":
        spec = "attributes" if attributes is not None else "memory"
    return spec, attributes


def _make_embedder(engine: str, pack: str | None):
    from ..embedder import create_embedder  # noqa: PLC0415

    if engine == "full":
        if not pack:
            raise UserError("The full engine needs a model pack; give --pack DIR (or use --engine lite).")
        return create_embedder("full", pack=pack)
    if engine != "lite":
        raise UserError(f"Unknown engine '{engine}'; choose lite or full.")
    return create_embedder("lite")


def default_cache_dir() -> Path:
    from ..paths import data_dir  # noqa: PLC0415

    return data_dir() / "bench-galleries"


def prepare_gallery(files: list[Path], embedder, cache_dir: Path, progress: Progress | None = None):
    """The cached gallery of exactly ``files`` for ``embedder`` (imported, or resumed, as needed).

    Returns (gallery, row of each file)."""
    from ..session import import_into  # noqa: PLC0415

    missing = [f for f in files if not f.is_file()]
    if missing:
        raise UserError(f"{len(missing)} of the split's {len(files)} images are missing (first: {missing[0]}); "
                        "check --images (the root that the annotations' file_path is relative to).")
    ident = embedder.identity
    key = hashlib.sha256(json.dumps({"embedder": ident.as_dict(), "files": sorted(str(f) for f in files)},
                                    sort_keys=True).encode()).hexdigest()[:20]
    folder = Path(cache_dir) / f"{ident.name}-{key}"
    report, gallery = import_into(
        folder, files, embedder=embedder, keep_open=True,
        progress=(lambda p: progress(p.done, p.total, "gallery import")) if progress else None)
    rows = gallery.rows_of_sources([str(f) for f in files])
    if any(r is None for r in rows):
        gallery.close()
        bad = [(str(f), why) for f, why in report.skipped][:1] or [(str(files[rows.index(None)]), "not imported")]
        raise UserError(f"Image {bad[0][0]} could not be added to the benchmark gallery ({bad[0][1]}).")
    return gallery, [int(r) for r in rows]


# -- running -----------------------------------------------------------------------------------
class _Runner:
    def __init__(self, gallery, row_ids: np.ndarray, rounds: int, answerer: Answerer, engine_for,
                 treid: list | None = None, treid_weight: float = 0.5):
        self.gallery = gallery
        self.row_ids = row_ids
        self.rounds = rounds
        self.answerer = answerer
        self.engine_for = engine_for
        self.treid = list(treid or [])
        self.treid_weight = treid_weight

    def positions(self, ranking, person_id: int) -> list[int]:
        """1-based positions, ascending, of the person's images in the full ranking (computed on
        demand beyond the rows the interview keeps)."""
        relevant = np.flatnonzero(self.row_ids == person_id)
        if not len(relevant):
            raise ValueError("none of the correct images is in the ranking")
        return np.sort(ranking.ranks_of(relevant)).tolist()

    def _record(self, result: QueryResult, state, rec: Record, temperature: float) -> None:
        """Positions after a round; with T-ReID models, also those of the paper's Table 2 re-ranking:
        the round's dialogue scores fused with each model's scores for the initial description."""
        result.positions.append(self.positions(state.ranking, rec.id))
        if not self.treid:
            return
        from ..treid import fuse  # noqa: PLC0415

        full = state.ranking.every_score()
        for model in self.treid:
            fused = fuse(full, temperature, model.scores(rec.initial_description), model.temperature,
                         self.treid_weight)
            result.fused.setdefault(model.name, []).append(self.positions(Ranking.of_scores(fused, 0), rec.id))

    def run(self, spec: RunSpec, index: int, rec: Record) -> QueryResult:
        result = self._run(spec, index, rec)
        for positions in result.fused.values():  # the questioner ran out: the ranking stays
            positions += [positions[-1]] * (self.rounds + 1 - len(positions))
        return result

    def _run(self, spec: RunSpec, index: int, rec: Record) -> QueryResult:
        result = QueryResult(index, rec.file_path, rec.id, [])
        engine = self.engine_for(spec)
        iv = Interview(self.gallery, engine, max_rounds=self.rounds)
        temperature = engine.retriever.temperature
        state = iv.start(rec.initial_description)
        self._record(result, state, rec, temperature)
        if spec.method == "initial":
            result.positions += [result.positions[0]] * self.rounds
            return result
        if spec.method == "oracle":
            return self._oracle(iv, rec, result, temperature)
        for _t in range(self.rounds):
            suggestion = state.suggestion
            if suggestion is None or not suggestion.text.strip():
                break
            reply = settle(self.answerer.answer(suggestion.text, rec, suggestion.attribute))
            state = iv.answer(reply)
            result.questions.append(suggestion.text)
            result.answers.append(reply)
            self._record(result, state, rec, temperature)
        while len(result.positions) < self.rounds + 1:  # the questioner ran out: the ranking stays
            result.positions.append(result.positions[-1])
        return result

    def _oracle(self, iv: Interview, rec: Record, result: QueryResult, temperature: float) -> QueryResult:
        """Paper Eq. 9: each round, the unused annotated answer that ranks the target best."""
        relevant = np.flatnonzero(self.row_ids == rec.id)
        remaining = list(range(len(rec.questions)))
        for _t in range(self.rounds):
            if not remaining:
                break
            best, best_rank = -1, math.inf
            for j in remaining:  # first on ties: strict improvement only
                ranking = iv.rank(iv.query(iv.dialogue + [Turn(rec.questions[j], rec.answers[j])]))
                rank = int(ranking.ranks_of(relevant).min())
                if rank < best_rank:
                    best, best_rank = j, rank
            remaining.remove(best)
            state = iv.answer(rec.answers[best], asked=rec.questions[best])
            result.questions.append(rec.questions[best])
            result.answers.append(rec.answers[best])
            self._record(result, state, rec, temperature)
        while len(result.positions) < self.rounds + 1:
            result.positions.append(result.positions[-1])
        return result


def run_benchmark(settings: BenchSettings, progress: Progress | None = None,
                  answerer: Answerer | None = None) -> BenchResult:
    """Run every method x selector on the split's queries; see the module docstring.

    Raises UserError (one sentence) on bad input. A KeyboardInterrupt ends the run early with
    ``interrupted`` set and every query finished by all runs kept."""
    from ..engines import build_engine  # noqa: PLC0415

    start = time.perf_counter()
    if settings.rounds < 1:
        raise UserError(f"--rounds must be at least 1 (got {settings.rounds}).")
    if settings.treid:
        from ..treid import check_weight  # noqa: PLC0415

        check_weight(settings.treid_weight)
    specs = plan_runs(tuple(settings.methods), tuple(settings.selectors))
    if settings.engine != "full" and any(s.method == "llava" for s in specs):
        raise UserError("The 'llava' method needs the full engine with a model pack that has a questioner; "
                        "give --engine full --pack DIR, or drop llava from --method.")
    if settings.engine != "full" and any(s.selector == "learned" for s in specs):
        raise UserError("The 'learned' selector needs the full engine with a model pack; give --engine full "
                        "--pack DIR, or choose top, uniform or kmeans.")
    records = split_records(load_annotations(settings.annotations), settings.split)
    spec_name, attributes = resolve_answerer(settings)
    needs_witness = any(s.method in QUESTION_METHODS for s in specs)
    if answerer is None and needs_witness:
        answerer = make_answerer(spec_name, attributes, seed=settings.seed, prompt=settings.witness_prompt)
    answerer_name = getattr(answerer, "name", spec_name) if needs_witness else "none"

    embedder = _make_embedder(settings.engine, settings.pack)
    images = Path(settings.images).expanduser().absolute()
    files = [images / r.file_path for _, r in records]
    gallery, rows = prepare_gallery(files, embedder, Path(settings.cache_dir or default_cache_dir()), progress)
    row_ids = np.full(len(gallery), -1, dtype=np.int64)
    for (_, rec), row in zip(records, rows):
        if row_ids[row] < 0:  # an image shared by two records keeps its first person id
            row_ids[row] = rec.id

    notes: list[str] = []
    engines: dict[tuple, object] = {}

    def engine_for(spec: RunSpec):
        questioner = spec.method if spec.method in QUESTION_METHODS else "template"
        key = (spec.selector or "top", questioner)
        if key not in engines:
            eng = build_engine(gallery, key[0], key[1], pack=settings.pack if settings.engine == "full" else None)
            if spec.method == "llava" and eng.questioner.name != "llava":
                raise UserError("The model pack has no LLaVA questioner, so the 'llava' method cannot run; "
                                "use a pack with a questioner component, or drop llava from --method.")
            notes.extend(n for n in eng.notes if n not in notes)
            engines[key] = eng
        return engines[key]

    for spec in specs:  # fail early on a missing pack component
        engine_for(spec)

    several = len({s.selector for s in specs if s.selector}) > 1
    runs = [RunResult(s, s.label(several)) for s in specs]
    chosen = choose_queries(len(records), settings.limit, settings.seed)
    prepare = getattr(answerer, "prepare", None)
    if prepare is not None:
        prepare([records[qi][1] for qi in chosen])
    treid_models = []
    if settings.treid:
        from ..treid import load_treid  # noqa: PLC0415

        treid_models = [load_treid(spec, gallery) for spec in dict.fromkeys(settings.treid)]
    treid_alone: list[dict] = [{"name": m.name, "identity": m.identity, "positions": []} for m in treid_models]
    runner = _Runner(gallery, row_ids, settings.rounds, answerer, engine_for, treid_models, settings.treid_weight)
    total = len(chosen) * len(runs)
    interrupted = False
    done = 0
    try:
        for qi in chosen:
            index, rec = records[qi]
            _seed_sampling(settings.seed, index)
            finished = []
            for run in runs:
                if progress:
                    progress(done, total, run.label)
                tick = time.perf_counter()
                finished.append(runner.run(run.spec, index, rec))
                run.seconds += time.perf_counter() - tick
                done += 1
            for run, res in zip(runs, finished):  # a query counts once every run has finished it
                run.queries.append(res)
            for model, alone in zip(treid_models, treid_alone):  # the T-ReID model on the initial description
                scores = model.scores(rec.initial_description)
                alone["positions"].append(runner.positions(Ranking.of_scores(scores, 0), rec.id))
        if progress:
            progress(done, total, "done")
    except KeyboardInterrupt:
        interrupted = True
    info = {"folder": str(gallery.folder), "images": len(gallery), "identities": int(len(set(row_ids.tolist()))),
            "embedder": gallery.embedder_identity.as_dict(), "split": settings.split}
    return BenchResult(settings, runs, len(chosen), info, answerer_name, interrupted,
                       time.perf_counter() - start, notes, treid_alone)


def treid_summary(result: BenchResult) -> list[dict]:
    """Paper Table 2 per T-ReID model: the model alone on the initial descriptions, and each run's
    dialogue fused with it, per round (the last round is Table 2's "+ interaction" row)."""
    out = []
    for alone in result.treid:
        n = len(alone["positions"])
        runs = {}
        for run in result.runs:
            per_round = [q.fused.get(alone["name"]) for q in run.queries[:n]]
            if not per_round or any(p is None for p in per_round):
                continue
            rounds = len(per_round[0])
            runs[run.label] = [{"round": r, **round_metrics([p[r] for p in per_round])} for r in range(rounds)]
        out.append({"name": alone["name"], "identity": alone["identity"], "weight": result.settings.treid_weight,
                    "alone": round_metrics(alone["positions"]) if n else {}, "fused": runs})
    return out


def _seed_sampling(seed: int, index: int) -> None:
    """Seed torch's sampler (LLaVA questioner, local LLM answerer) per query, if torch is loaded."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed * 1_000_003 + index)
