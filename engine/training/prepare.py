"""Looking-forward supervision (paper §4.2.2, Eq. 9; docs/training.md): the questioner's training file.

For every training sample and round r = 0..R-1: among the annotated answers not yet in the
dialogue, append each to the current query, rank the gallery with the retriever, and pick the
one that gives the target identity the best (lowest) rank, first on ties. Its question is round
r's training target; its answer joins the dialogue. Stop when fewer than ``min_remaining`` (2)
remain. ``ordering: random`` picks uniformly instead (the paper's Table 3 ablation).

"I don't know" augmentation: a share of samples is written a second time with some of the
dialogue's answers replaced by "I don't know.", so the questioner learns not to repeat a
question the witness could not answer; the targets stay those of the original order.

Output (``prepared.jsonl``, one sample per line, appended as it goes so a run resumes)::

    {"key": "17" | "17:idk", "index": 17, "id": 5, "file_path": ..., "initial": ..., "ordering": ...,
     "augment": null | "idk", "rank0": 12,
     "rounds": [{"question": ..., "answer": ..., "rank_before": 12, "rank": 3,
                 "candidates": [file_path, ...]}, ...]}

``candidates`` of a round are the top gallery images for the dialogue *before* its question
(what the questioner sees when it asks it), best first. ``stats.json`` has the mean target rank
by round.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import UserError
from ..interview.protocols import Turn
from .data import DONT_KNOW, Dataset, build_query, load_split, rank_rows, target_rank
from .run import LOG, RunDir

OUTPUT = "prepared.jsonl"
STATS = "stats.json"
ORDERINGS = ("lookforward", "random")


class GalleryRanker:
    """The training split as a gallery, ranked for a text query by a retriever."""

    def __init__(self, dataset: Dataset, retriever, vectors: np.ndarray):
        self.dataset = dataset
        self.retriever = retriever
        self.vectors = vectors
        self.ids = dataset.ids
        self._cache: dict[str, np.ndarray] = {}

    def order(self, query: str) -> np.ndarray:
        rows = self._cache.get(query)
        if rows is None:
            rows = rank_rows(self.retriever.score(query, self.vectors))
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[query] = rows
        return rows

    def rank(self, query: str, target_id: int) -> int:
        return target_rank(self.order(query), self.ids, target_id)


def make_ranker(dataset: Dataset, pack: str | None, cache_dir: Path, batch_size: int = 64,
                progress: Callable[[int, int], None] | None = None) -> GalleryRanker:
    """Lite retriever by default; the CLIP retriever of model pack ``pack`` when given. Gallery
    vectors are cached in ``cache_dir`` (keyed by the embedder's identity and the image list)."""
    import hashlib

    if pack:
        from ..full import load_embedder, load_retriever

        embedder, retriever = load_embedder(pack), load_retriever(pack)
    else:
        from ..lite.embedder import LiteEmbedder
        from ..lite.retriever import LiteRetriever

        embedder, retriever = LiteEmbedder(), LiteRetriever()
    ident = embedder.identity
    key = hashlib.sha256(json.dumps([ident.name, ident.version, ident.dim,
                                     [r.file_path for r in dataset.records]]).encode()).hexdigest()[:16]
    cache = Path(cache_dir) / f"gallery-{ident.name}-{key}.npy"
    if cache.exists():
        vectors = np.load(cache)
    else:
        chunks = []
        n = len(dataset)
        for start in range(0, n, batch_size):
            images = [dataset.load_image(i) for i in range(start, min(n, start + batch_size))]
            chunks.append(embedder.embed_images(images))
            if progress:
                progress(min(n, start + batch_size), n)
        vectors = np.concatenate(chunks).astype(np.float32)
        np.save(cache, vectors)
    return GalleryRanker(dataset, retriever, vectors)


def order_questions(ranker: GalleryRanker, initial: str, questions: list[str], answers: list[str], target_id: int,
                    ordering: str, rounds: int, min_remaining: int, rng: np.random.Generator
                    ) -> tuple[int, list[dict]]:
    """(rank with the initial description, the chosen rounds) for one sample (Eq. 9)."""
    remaining = list(range(len(questions)))
    turns: list[Turn] = []
    rank0 = ranker.rank(build_query(initial, [], ranker.retriever), target_id)
    before = rank0
    chosen: list[dict] = []
    for _r in range(rounds):
        if len(remaining) < min_remaining:
            break
        if ordering == "random":
            pick = remaining[int(rng.integers(len(remaining)))]
            best = ranker.rank(build_query(initial, turns + [Turn(questions[pick], answers[pick])], ranker.retriever),
                               target_id)
        else:
            pick, best = -1, math.inf
            for j in remaining:  # first on ties: strict improvement only
                rank = ranker.rank(build_query(initial, turns + [Turn(questions[j], answers[j])], ranker.retriever),
                                   target_id)
                if rank < best:
                    pick, best = j, rank
        chosen.append({"index": pick, "question": questions[pick], "answer": answers[pick],
                       "rank_before": before, "rank": int(best)})
        turns.append(Turn(questions[pick], answers[pick]))
        remaining.remove(pick)
        before = int(best)
    return rank0, chosen


def _candidates(ranker: GalleryRanker, initial: str, turns: list[Turn], n: int) -> list[str]:
    rows = ranker.order(build_query(initial, turns, ranker.retriever))[:n]
    return [ranker.dataset.records[int(r)].file_path for r in rows]


def sample_lines(ranker: GalleryRanker, index: int, cfg: dict) -> list[dict]:
    """The JSONL rows of training sample ``index``: the sample, and its "I don't know" duplicate
    when the augmentation picks it."""
    rec = ranker.dataset.records[index]
    seed = int(cfg["seed"])
    ordering = cfg["ordering"]
    rng = np.random.default_rng([seed, index])
    rank0, chosen = order_questions(ranker, rec.initial_description, rec.questions, rec.answers, rec.id, ordering,
                                    int(cfg["rounds"]), int(cfg["min_remaining"]), rng)
    n_cand = int(cfg["store_candidates"])
    base = {"index": index, "id": rec.id, "file_path": rec.file_path, "initial": rec.initial_description,
            "ordering": ordering, "rank0": rank0}
    turns: list[Turn] = []
    rounds = []
    for c in chosen:
        rounds.append({**{k: c[k] for k in ("question", "answer", "rank_before", "rank")},
                       "candidates": _candidates(ranker, rec.initial_description, turns, n_cand)})
        turns.append(Turn(c["question"], c["answer"]))
    lines = [{"key": str(index), **base, "augment": None, "rounds": rounds}]

    aug = cfg.get("idk") or {}
    arng = np.random.default_rng([seed, index, 1])
    if len(chosen) >= 2 and float(aug.get("share", 0.0)) > 0 and arng.random() < float(aug["share"]):
        # replace some answers (never the last round's: it is no one's history) with "I don't know."
        replace = arng.random(len(chosen) - 1) < float(aug.get("answer_prob", 0.3))
        if not replace.any():
            replace[int(arng.integers(len(replace)))] = True
        answers = [DONT_KNOW if i < len(replace) and replace[i] else c["answer"] for i, c in enumerate(chosen)]
        turns, rounds = [], []
        before = rank0
        for c, a in zip(chosen, answers):
            rounds.append({"question": c["question"], "answer": a, "rank_before": before,
                           "candidates": _candidates(ranker, rec.initial_description, turns, n_cand)})
            turns.append(Turn(c["question"], a))
            before = ranker.rank(build_query(rec.initial_description, turns, ranker.retriever), rec.id)
            rounds[-1]["rank"] = before
        lines.append({"key": f"{index}:idk", **base, "augment": "idk", "rounds": rounds})
    return lines


def read_prepared(path: str | Path) -> list[dict]:
    """The rows of a prepared file (a truncated last line, from an interrupted run, is skipped)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"Prepared training file {path} does not exist; run 'interreid train prepare' first.")
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def _existing_keys(path: Path) -> set[str]:
    """Keys already written; a partial last line (interrupted write) is cut off the file."""
    if not path.exists():
        return set()
    keys: set[str] = set()
    good = 0
    with path.open("rb") as f:
        data = f.read()
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        try:
            keys.add(json.loads(line)["key"])
        except (json.JSONDecodeError, KeyError):
            break
        good += len(line)
    if good != len(data):
        with path.open("r+b") as f:
            f.truncate(good)
    return keys


def statistics(rows: list[dict], rounds: int) -> dict:
    """Mean target rank with the initial description and after each round (original samples)."""
    originals = [r for r in rows if not r.get("augment")]
    by_round = []
    for t in range(rounds):
        ranks = [r["rounds"][t]["rank"] for r in originals if len(r["rounds"]) > t]
        if ranks:
            by_round.append(round(float(np.mean(ranks)), 3))
    all_ranks = [rd["rank"] for r in originals for rd in r["rounds"]]
    r1 = [r["rounds"][-1]["rank"] == 1 for r in originals if r["rounds"]]
    return {"samples": len(originals), "idk_duplicates": len(rows) - len(originals),
            "training_rounds": sum(len(r["rounds"]) for r in rows),
            "mean_rank_initial": round(float(np.mean([r["rank0"] for r in originals])), 3) if originals else None,
            "mean_rank_by_round": by_round,
            "mean_rank": round(float(np.mean(all_ranks)), 3) if all_ranks else None,
            "r1_after_last_round": round(100.0 * float(np.mean(r1)), 2) if r1 else None}


def run_prepare(cfg: dict, out: str | Path, resume: bool = False, pack: str | None = None,
                progress_factory=None) -> dict:
    """Write ``prepared.jsonl`` + ``stats.json`` into ``out``; returns the statistics."""
    if cfg["ordering"] not in ORDERINGS:
        raise UserError(f"ordering must be one of {', '.join(ORDERINGS)} (got '{cfg['ordering']}').")
    data = cfg["data"]
    dataset = load_split(data["annotations"], data.get("images"), data.get("split", "train"))
    run = RunDir(out, {**cfg, "pack": pack}, resume=resume, stage="prepare", ignore_on_resume=("limit",))
    bar = progress_factory("gallery", len(dataset)) if progress_factory else None
    ranker = make_ranker(dataset, pack or cfg.get("pack"), run.path, progress=bar.update if bar else None)
    if bar:
        bar.close()
    path = run.file(OUTPUT)
    done = _existing_keys(path) if resume else set()
    if not resume and path.exists():
        path.unlink()
    limit = cfg.get("limit")
    indices = list(range(len(dataset)))[: int(limit) if limit else None]
    todo = [i for i in indices if str(i) not in done]
    bar = progress_factory("prepare", len(indices)) if progress_factory else None
    with path.open("a", encoding="utf-8") as f:
        for n, i in enumerate(todo):
            for line in sample_lines(ranker, i, cfg):
                if line["key"] not in done:
                    f.write(json.dumps(line, ensure_ascii=False) + "\n")
            f.flush()
            if bar:
                bar.update(len(indices) - len(todo) + n + 1)
    if bar:
        bar.close()
    rows = read_prepared(path)
    stats = statistics(rows, int(cfg["rounds"]))
    stats.update({"ordering": cfg["ordering"], "retriever": "pack" if (pack or cfg.get("pack")) else "lite",
                  "gallery_images": len(dataset), "skipped_already_written": len(indices) - len(todo),
                  "output": str(path)})
    run.file(LOG).unlink(missing_ok=True)
    for t, mean in enumerate(stats["mean_rank_by_round"]):
        run.log({"round": t + 1, "mean_rank": mean})
    run.plot("round", f"prepare ({cfg['ordering']}): mean target rank after each round")
    run.write_json(STATS, stats)
    return stats
