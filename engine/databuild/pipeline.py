"""``interreid data build``: the paper's three construction steps over a source of person images.

Per image (paper §3.2):

1. coarse-to-fine captioning: an initial description with a Table 5 instruction (sampled per
   image), then a fine-grained one with Table 6's prompt, both by a vision-language model. Text the
   source already has is used instead (see :func:`starting_text`);
2. sub-caption decomposition: the follow-up description (the fine-grained description less what
   the initial one says; the paper prints no prompt for it, ours is in the prompt file), split into
   single-aspect sentences with Table 7's prompt;
3. dialogue generation: one question and answer per sub-caption with Table 8's prompt, its type
   drawn with the prompt file's shares (50% descriptive, 40% yes/no, 10% multiple choice), the
   pairs in random order.

Then every answer is checked (:mod:`.validate`), the identities are split deterministically, and
the records are written as an Interactive-PEDES file with Table 4-style statistics.

Every model call goes through :class:`.cache.CallCache`, so a build killed at any point and run
again continues where it stopped; image order, parallelism and restarts do not change the result
(each image's random choices derive from ``seed`` and its SHA-256).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from ..errors import UserError
from ..evaluation.annotations import Record, write_annotations
from .cache import CallCache, call_key
from .prompts import (
    PromptSpec,
    load_prompts,
    parse_numbered,
    parse_qa,
    sentences,
    subject_of,
    tidy_text,
)
from .sources import Item, Source, open_source
from .stats import compute_stats, format_stats, plot_stats
from .validate import check_answer, identity_split

STATE_DIR = ".build"
OUTPUTS = ("annotations.json", "build.json", "stats.png", STATE_DIR)
Progress = Callable[[int, int, str], None]


@dataclass
class BuildSettings:
    source: Path
    out: Path
    images: Path | None = None
    identity: str = "image"  # image | folder (folder sources)
    endpoint: str | None = None
    vlm: str | None = None
    text_model: str | None = None
    prompts: Path | None = None
    seed: int = 0
    parallel: int = 4
    splits: dict = field(default_factory=lambda: {"train": 0.8, "val": 0.1, "test": 0.1})
    keep_split: bool = True  # keep the source's splits when every record has one
    invalid: str = "drop"  # drop | flag
    limit: int | None = None
    recaption: bool = False  # write the fine-grained description with the captioner even when the source has one


@dataclass
class BuildReport:
    out: Path
    annotations: Path
    images_root: Path
    records: int
    dropped_records: int
    qa_checked: int
    qa_failed: int
    dialogues_failed: int
    calls: int
    cached_calls: int
    elapsed_s: float
    stats: dict
    plot: Path | None
    models: dict

    def as_dict(self) -> dict:
        return {"out": str(self.out), "annotations": str(self.annotations), "images": str(self.images_root),
                "records": self.records, "dropped_records": self.dropped_records,
                "qa_checked": self.qa_checked, "qa_failed": self.qa_failed,
                "qa_failed_share": round(self.qa_failed / self.qa_checked, 4) if self.qa_checked else 0.0,
                "dialogues_failed": self.dialogues_failed, "calls": self.calls, "cached_calls": self.cached_calls,
                "elapsed_s": round(self.elapsed_s, 2),
                "stats": {k: v for k, v in self.stats.items() if k not in ("initial", "fine")} | {
                    k: {kk: vv for kk, vv in self.stats[k].items() if kk != "lengths"} for k in ("initial", "fine")},
                "plot": str(self.plot) if self.plot else None, "models": self.models}


def make_backend(target: str, kind: str, spec: PromptSpec):
    from .backends import EndpointBackend, LocalTextBackend, LocalVisionBackend

    gen = spec.generation
    kw = {"temperature": float(gen.get("temperature", 0.2)), "top_p": float(gen.get("top_p", 0.9))}
    if kind != "endpoint" and gen.get("local_repetition_penalty"):
        kw["repetition_penalty"] = float(gen["local_repetition_penalty"])
    return {"endpoint": EndpointBackend, "vlm": LocalVisionBackend, "text": LocalTextBackend}[kind](target, **kw)


def starting_text(item: Item) -> tuple[str | None, str | None, str]:
    """(initial, fine, how) from what the source already says about the image.

    Interactive-PEDES fields are used as they are. T-ReID captions (GAP: the paper captions the
    images afresh): the shortest caption is the initial description (as the paper's Table 2 uses
    the datasets' annotations), the other captions joined are the fine-grained one; a single
    caption gives its first sentence as the initial description and the whole caption as the
    fine-grained one. A captioner, when given, writes the fine-grained description instead
    whenever the source has none of its own."""
    if item.initial and item.fine:
        return item.initial, item.fine, "source"
    caps = list(item.captions)
    if item.initial or item.fine:
        caps = [c for c in (item.initial, item.fine) if c] + caps
    if not caps:
        return None, None, "none"
    if len(caps) == 1:
        first = sentences(caps[0])
        return (first[0] if first else caps[0]), caps[0], "captions"
    shortest = min(range(len(caps)), key=lambda i: len(caps[i]))
    return caps[shortest], " ".join(c for i, c in enumerate(caps) if i != shortest), "captions"


class _Builder:
    def __init__(self, settings: BuildSettings, spec: PromptSpec, cache: CallCache, captioner, writer):
        self.s, self.spec, self.cache, self.captioner, self.writer = settings, spec, cache, captioner, writer
        self.calls = 0
        self._lock = threading.Lock()
        self.stop = threading.Event()  # set on an error or Ctrl-C: workers make no further calls

    def call(self, backend, step: str, prompt: str, item: Item, image: bool) -> str:
        settings = {"max_tokens": self.spec.max_tokens(step), "temperature": getattr(backend, "temperature", None),
                    "top_p": getattr(backend, "top_p", None)}
        if getattr(backend, "repetition_penalty", None):
            settings["repetition_penalty"] = backend.repetition_penalty
        model = getattr(backend, "cache_identity", backend.identity)
        key = call_key(item.sha256, self.spec.version, model, step, prompt, settings)
        out = self.cache.get(key)
        if out is not None:
            return out
        if self.stop.is_set():
            raise _Stopped
        data = item.image.read_bytes() if image else None
        out = backend.generate(prompt, data, self.spec.max_tokens(step), seed=int(key[:8], 16))
        self.cache.put(key, out, {"step": step, "image_sha256": item.sha256, "prompt_version": self.spec.version,
                                  "model": backend.identity})
        with self._lock:
            self.calls += 1
        return out

    def process(self, item: Item) -> dict:
        rng = random.Random(f"{self.s.seed}:{item.sha256}")
        spec = self.spec
        initial, fine, how = starting_text(item)
        models = {"initial": "source" if how != "none" else None, "fine": "source" if how != "none" else None}
        if initial is None:
            if self.captioner is None:
                raise UserError(f"Image {item.file_path} has no description and no vision-language model was "
                                "given; give --endpoint or --vlm to describe images, or start from captions.")
            instruction = spec.coarse[rng.randrange(len(spec.coarse))]
            initial = tidy_text(self.call(self.captioner, "coarse", instruction, item, image=True))
            models["initial"] = self.captioner.identity
        else:
            rng.randrange(len(spec.coarse))  # keep the random sequence the same with or without step 1
        if self.captioner is not None and (how in ("none", "captions") and not item.fine or self.s.recaption):
            prompt = spec.fine.replace("<init_query>", initial)
            fine = tidy_text(self.call(self.captioner, "fine", prompt, item, image=True))
            models["fine"] = self.captioner.identity
        if not initial or not fine:
            return {"item": item, "initial": initial or "", "fine": fine or "", "subcaptions": [], "qas": [],
                    "models": models, "subject": "person", "notes": ["the model wrote no description"]}
        subject = subject_of(fine)
        notes = []
        follow = tidy_text(self.call(self.writer, "followup", spec.followup.replace("<init_query>", initial)
                                     .replace("<description>", fine), item, image=False), "Follow-up description")
        if not follow:
            notes.append("empty follow-up description: the fine-grained description was split instead")
            follow = fine
        raw = self.call(self.writer, "split", spec.split.replace("<description>", follow), item, image=False)
        subs = parse_numbered(raw)
        if not subs:
            notes.append("no numbered sentences: the follow-up description was split into its sentences")
            subs = sentences(follow)
        names = list(spec.types)
        weights = [float(spec.types[n]["share"]) for n in names]
        qas = []
        for sub in subs:
            kind = rng.choices(names, weights=weights)[0]
            prompt = (spec.qa.replace("<question_type_prompt>", spec.types[kind]["prompt"])
                      .replace("<subject>", subject).replace("<sub_caption>", sub))
            q, a, options = parse_qa(self.call(self.writer, "qa", prompt, item, image=False))
            if options:
                q = " ".join([q] + options)
            qas.append({"question": q, "answer": a, "type": kind, "sub_caption": sub})
        order = list(range(len(qas)))
        rng.shuffle(order)
        qas = [qas[i] for i in order]
        models["dialogue"] = self.writer.identity
        return {"item": item, "initial": initial, "fine": fine, "subcaptions": subs, "qas": qas,
                "models": models, "subject": subject, "notes": notes}


class _Stopped(Exception):
    """A worker stops because the build is stopping (another error, or Ctrl-C)."""


def _prepare_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; give a folder for the built dataset.")
    if out.exists():
        others = [p.name for p in out.iterdir() if p.name not in OUTPUTS]
        if others:
            raise UserError(f"Folder {out} holds other files ({others[0]}); give a new folder or one that a "
                            "previous 'data build' wrote.")
    (out / STATE_DIR).mkdir(parents=True, exist_ok=True)


def _person_ids(items: list[Item]) -> dict[str, int]:
    names = sorted({it.person for it in items})
    if all(n.lstrip("-").isdigit() for n in names):
        return {n: int(n) for n in names}
    return {n: i for i, n in enumerate(names, start=1)}


def build(settings: BuildSettings, progress: Progress | None = None) -> BuildReport:
    """Run the whole build; see the module docstring. UserError on bad input; a KeyboardInterrupt
    propagates after every finished model call is saved."""
    start = time.perf_counter()
    if settings.invalid not in ("drop", "flag"):
        raise UserError(f"--invalid must be drop or flag (got {settings.invalid!r}).")
    if settings.parallel < 1:
        raise UserError(f"--parallel must be at least 1 (got {settings.parallel}).")
    spec = load_prompts(settings.prompts)
    source: Source = open_source(Path(settings.source), settings.images, settings.identity)
    items = source.items
    if settings.limit is not None:
        if settings.limit < 1:
            raise UserError(f"--limit must be at least 1 (got {settings.limit}).")
        items = items[:settings.limit]
    if settings.endpoint and settings.vlm:
        raise UserError("Give one vision-language model: --endpoint or --vlm, not both.")
    if not (settings.endpoint or settings.vlm or settings.text_model):
        raise UserError("No model given: name an OpenAI-compatible --endpoint, a local --vlm folder, or a "
                        "--text-model (GGUF file or folder) for sources that already have descriptions.")
    captioner = None
    if settings.endpoint:
        captioner = make_backend(settings.endpoint, "endpoint", spec)
    elif settings.vlm:
        captioner = make_backend(settings.vlm, "vlm", spec)
    if captioner is None:
        bare = [it for it in items if starting_text(it)[0] is None]
        if bare:
            raise UserError(f"{len(bare)} of the {len(items)} images have no description (first: "
                            f"{bare[0].file_path}); a text model cannot describe images: give --endpoint or "
                            "--vlm, or start from an annotation file with captions.")
        if settings.recaption:
            raise UserError("--recaption needs a vision-language model: give --endpoint or --vlm.")
    writer = make_backend(settings.text_model, "text", spec) if settings.text_model else captioner

    out = Path(settings.out)
    _prepare_out(out)
    cache = CallCache(out / STATE_DIR / "calls.jsonl")
    builder = _Builder(settings, spec, cache, captioner, writer)
    workers = max(1, min(settings.parallel, min(b.parallel for b in (captioner, writer) if b is not None)))
    results: list[dict | None] = [None] * len(items)
    done = 0
    if progress:
        progress(0, len(items), "")
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        pending = {pool.submit(builder.process, it): i for i, it in enumerate(items)}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                i = pending.pop(fut)
                results[i] = fut.result()
                done += 1
                if progress:
                    progress(done, len(items), f"{cache.hits} cached")
    except BaseException:
        # stop at once: queued images are cancelled and running ones make no further calls; the
        # calls in flight finish and are saved (a local model cannot be interrupted mid-call)
        builder.stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        cache.close()
        raise
    pool.shutdown(wait=True)
    cache.close()
    report = _assemble(settings, spec, source, [r for r in results if r is not None], out)
    report.calls, report.cached_calls = builder.calls, cache.hits
    report.elapsed_s = time.perf_counter() - start
    report.models = {"captioner": captioner.identity if captioner else None, "writer": writer.identity,
                     "prompt_version": spec.version}
    _write_build_json(settings, source, report, spec)
    return report


def _assemble(settings: BuildSettings, spec: PromptSpec, source: Source, results: list[dict], out: Path) -> BuildReport:
    val = spec.validation
    support_min, repeat_min = float(val.get("support_min", 0.6)), float(val.get("repeat_min", 0.9))
    items = [r["item"] for r in results]
    ids = _person_ids(items)
    if settings.keep_split and items and all(it.split for it in items):
        split_of = {it.person: it.split for it in items}
    else:
        split_of = identity_split([it.person for it in items], settings.splits, settings.seed)
    records: list[Record] = []
    checked = failed = dialogues_failed = dropped = 0
    for r in results:
        item = r["item"]
        checks = []
        for qa in r["qas"]:
            c = check_answer(qa["answer"], r["initial"], r["fine"], support_min, repeat_min)
            c["parsed"] = bool(qa["question"] and qa["answer"])
            c["ok"] = c["supported"] and not c["repeats_initial"] and c["parsed"]
            checks.append(c)
        checked += len(checks)
        bad = sum(not c["ok"] for c in checks)
        failed += bad
        dialogues_failed += bool(bad) or not checks
        keep = [i for i, c in enumerate(checks) if c["ok"] or settings.invalid == "flag"]
        if not keep:
            dropped += 1
            continue
        qas = [r["qas"][i] for i in keep]
        extra = {"question_types": [q["type"] for q in qas],
                 "build": {"prompt_version": spec.version, "image_sha256": item.sha256, "models": r["models"],
                           "seed": settings.seed, "subject": r["subject"]},
                 "validation": {"checked": len(checks), "failed": bad,
                                "dropped": 0 if settings.invalid == "flag" else bad}}
        if settings.invalid == "flag":
            extra["validation"]["per_answer"] = [checks[i] for i in keep]
        if r["notes"]:
            extra["build"]["notes"] = r["notes"]
        if str(ids[item.person]) != item.person:
            extra["source_id"] = item.person
        records.append(Record(split=split_of[item.person], id=ids[item.person], file_path=item.file_path,
                              initial_description=r["initial"], fine_grained_description=r["fine"],
                              questions=[q["question"] for q in qas], answers=[q["answer"] for q in qas],
                              captions=list(r["subcaptions"]), extra=extra))
    annotations = out / "annotations.json"
    write_annotations(annotations, records)
    stats = compute_stats(records)
    plot = plot_stats(stats, out / "stats.png") if records else None
    return BuildReport(out, annotations, source.root, len(records), dropped, checked, failed, dialogues_failed,
                       0, 0, 0.0, stats, plot, {})


def _write_build_json(settings: BuildSettings, source: Source, report: BuildReport, spec: PromptSpec) -> None:
    from datetime import datetime

    info = {"format": "interreid data build", "version": 1,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": source.description, "images": str(source.root), "prompts": spec.path,
            "settings": {"seed": settings.seed, "splits": settings.splits, "keep_split": settings.keep_split,
                         "invalid": settings.invalid, "limit": settings.limit, "identity": settings.identity,
                         "recaption": settings.recaption},
            **report.as_dict()}
    path = report.out / "build.json"
    path.write_text(json.dumps(info, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def format_report(report: BuildReport) -> str:
    share = 100 * report.qa_failed / report.qa_checked if report.qa_checked else 0.0
    lines = [format_stats(report.stats), "",
             (f"Validation: {report.qa_failed} of {report.qa_checked} answers ({share:.1f}%) failed "
              f"(not supported by the fine-grained description, restating the initial one, or unreadable); "
              f"{report.dialogues_failed} dialogues had at least one; {report.dropped_records} records were dropped."),
             f"Model calls: {report.calls} made, {report.cached_calls} taken from the cache; {report.elapsed_s:.1f} s.",
             f"Wrote {report.annotations} ({report.records} records); images are read from {report.images_root}."]
    if report.plot:
        lines.append(f"Plot: {report.plot}")
    if not report.records:
        lines.append("No record is left to train or test on: every dialogue failed validation. Use a more "
                     "capable model, or --invalid flag to keep them marked and read why they failed.")
        return "\n".join(lines)
    lines.append(f"Use it with: interreid train retriever --set data.annotations={report.annotations} "
                 f"--set data.images={report.images_root}  or  interreid bench interactive --data "
                 f"{report.annotations} --images {report.images_root}")
    return "\n".join(lines)
