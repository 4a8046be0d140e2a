"""Round-latency rows for ``interreid bench speed``: the real interview loop on big synthetic galleries.

For each size and engine a synthetic gallery is written to a temporary folder: real gallery
database rows whose vectors are synthetic (for the full engine, people of a few crops each who share
attributes, anchored on the pack's text tower: synthetic_people.py; random lite 46-d vectors for the
lite engine) and whose images all point at one small thumbnail (synthetic rows have no image files;
the questioner reads that thumbnail where it reads images). The full engine is a tiny random-weight
model pack (the text tower is what a round runs; its cost is in the CLIP rows). The full engine's
round is measured twice, in separate processes: with the exact index and with the bits index (a
sign-bit prefilter re-scored exactly, what ``auto`` chooses from 200,000 rows); the bits row also
gives the index's build time and its recall@200 against the exact reference.

Each measurement runs in its own process, so its peak memory (ru_maxrss) is its own:

* gallery open: ``Gallery.open`` + ``Interview(...)`` (which maps the vectors and, for the full engine,
  warms it: engine/interview/warmup.py; its own cost is ``warm_up_ms``), ms;
* round: ``Interview.start`` (the first ranking, ``first_ranking_ms``) then answers; each round = encode +
  top-K search + select + question (median of the first 3 answered rounds; each is in ``rounds_ms``, and
  its CPU time, every thread's, in ``rounds_cpu_ms``), ms;
* reference round: the same query encoded, every row scored by brute force (torch for the full
  engine, the lite retriever's reference formula for the lite engine) and fully sorted, plus the
  same select time and the question step as it was (the full engine's infogain questioner computing
  the top rows' lite colours from their images instead of reading them from the gallery's
  per-row file). ``ratio_vs_reference`` = reference / ours (> 1: ours is faster).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DESCRIPTION = "A man in a red jacket, blue jeans and white shoes, short dark hair."
ANSWERS = ("He carried a black backpack.", "Dark grey trousers.", "He had short black hair.")
CHUNK = 100_000


def _row(name: str, value: float, unit: str, ratio: float | None = None, **extra) -> dict:
    return {"group": "round", "name": name, "value": round(float(value), 4), "unit": unit,
            "ratio_vs_reference": None if ratio is None else round(float(ratio), 3), **extra}


def build_synthetic_gallery(folder: Path, n: int, engine: str, pack: Path | None = None,
                            model: str = "people") -> None:
    """A gallery of ``n`` synthetic rows (vectors, ids, one shared thumbnail; no image files), as
    ``interreid gallery synthetic`` writes it (engine/gallery/synthetic.py)."""
    from ..gallery.synthetic import build

    encoder = None
    if engine == "lite":
        from ..lite.embedder import LiteEmbedder

        ident = LiteEmbedder.identity
    else:
        from ..full.pack import open_pack

        opened = open_pack(pack)
        ident = opened.identity()
        encoder = opened.retriever() if model == "people" else None
    build(folder, n, ident, engine == "lite", model=model, text_encoder=encoder)


def measure_round(folder: Path, pack: Path | None = None, rounds: int = 3, index: str | None = None) -> dict:
    """Open the gallery, run the interview for ``rounds`` rounds, and the reference path; ``index``
    sets the gallery's index backend first (its build, when it has one, is timed apart)."""
    from ..engines import build_engine
    from ..gallery.store import Gallery
    from ..interview.loop import Interview
    from ..retriever import text_encoder

    if index:
        with Gallery.open(folder) as g:
            g.set_index_backend(index)
    t0 = time.perf_counter()
    gallery = Gallery.open(folder)
    open_s = time.perf_counter() - t0
    engine = build_engine(gallery, pack=str(pack) if pack else None)
    t0 = time.perf_counter()
    interview = Interview(gallery, engine)  # maps the vectors; warms the engine (interview/warmup.py)
    open_ms = (open_s + time.perf_counter() - t0) * 1000
    tick = time.perf_counter()
    state = interview.start(DESCRIPTION)  # the first ranking (builds the index when there is none yet)
    start_ms = (time.perf_counter() - tick) * 1000
    ours, parts, cpu = [], [], []
    for answer in ANSWERS[:rounds]:
        tick, tock = time.perf_counter(), time.process_time()
        asked = None if state.suggestion and state.suggestion.text else "What else do you remember?"
        state = interview.answer(answer, asked=asked)  # the suggestion, or a plain question when none is left
        ours.append((time.perf_counter() - tick) * 1000)
        cpu.append((time.process_time() - tock) * 1000)  # every thread's: steadier than the wall on a busy machine
        parts.append(dict(state.timings_ms))
    round_peak = _peak_rss_mb()  # before the reference below scores every row
    query = interview.query()
    vectors = interview.vectors
    # the reference scores float32 vectors; a gallery kept at fp16/int8 is decoded once, untimed, unless that
    # copy would not fit in half the free memory (10M x 512: 20 GB): then it is decoded block by block, timed
    dense = vectors if isinstance(vectors, np.ndarray) or 4 * np.prod(vectors.shape) > _available_bytes() / 2 \
        else vectors[:]
    encoder = text_encoder(engine.retriever)

    def reference() -> np.ndarray:
        if encoder is not None:
            import torch

            q = torch.from_numpy(np.asarray(encoder.encode_text([query]), dtype=np.float32)[0])
            scores = (torch.from_numpy(np.ascontiguousarray(dense)) @ q if isinstance(dense, np.ndarray)
                      else torch.from_numpy(dense @ q.numpy()))
            return torch.sort(scores, descending=True, stable=True).indices.numpy()
        scores = np.asarray(engine.retriever.score_exact(query, dense), dtype=np.float32)
        return np.lexsort((np.arange(len(scores)), -scores))

    reference()
    ref = []
    for _ in range(rounds):
        tick = time.perf_counter()
        order = reference()
        ref.append((time.perf_counter() - tick) * 1000)
    # the question step as it was: the lite colours of the top rows computed from their images
    ask_ref = ask_ours = 0.0
    if engine.kind == "full":
        import dataclasses

        from ..gallery import colour_cache
        from ..interview.protocols import QuestionContext
        from ..retriever import posterior

        ctx = QuestionContext(interview.initial, list(interview.dialogue), state.round_index, state.rows[:state.k],
                              posterior(state.scores[:state.k], engine.retriever.temperature),
                              [c.row for c in state.candidates], vectors, gallery.load_image,
                              lite_vectors=lambda r: colour_cache.vectors_of(gallery, r))
        times = {}
        for name, c in (("file", ctx), ("images", dataclasses.replace(ctx, lite_vectors=None))):
            engine.questioner.ask(c)
            tick = time.perf_counter()
            for _ in range(rounds):
                engine.questioner.ask(c)
            times[name] = (time.perf_counter() - tick) * 1000 / rounds
        ask_ours, ask_ref = times["file"], times["images"]
    top = interview.rank(query).rows[:200]
    same_top = bool(np.array_equal(order[:len(state.rows)][:200], top))
    recall = len(set(order[:200].tolist()) & set(top.tolist())) / max(1, min(200, len(top)))
    select_ask = float(np.median([p.get("select", 0) + p.get("ask", 0) for p in parts]))
    return {"open_ms": open_ms, "warm_up_ms": interview.warm_up_ms.get("total", 0.0), "start_ms": start_ms,
            "rounds_ms": [round(x, 2) for x in ours], "rounds_cpu_ms": [round(x, 2) for x in cpu],
            "round_ms": float(np.median(ours)), "ref_search_ms": float(np.median(ref)),
            "select_ask_ms": select_ask, "ask_file_ms": ask_ours, "ask_images_ms": ask_ref,
            "retrieve_ms": float(np.median([p.get("retrieve", 0) for p in parts])),
            "peak_rss_mb": _peak_rss_mb(), "round_peak_rss_mb": round_peak,
            "vector_mb": vectors.nbytes / 2**20, "same_top200": same_top, "recall_at_200": recall,
            "index": interview.searcher.index.backend if text_encoder(engine.retriever) is not None else None}


def build_index(folder: Path, backend: str) -> dict:
    """Set the gallery's index backend and build the index beside it (its own process: its memory is its own)."""
    from ..gallery.index import open_index
    from ..gallery.store import Gallery

    with Gallery.open(folder) as g:
        g.set_index_backend(backend)
        t0 = time.perf_counter()
        index = open_index(g)
        return {"build_s": time.perf_counter() - t0, "backend": index.backend, "peak_rss_mb": _peak_rss_mb(),
                "index_mb": getattr(index, "nbytes", 0) / 2**20}


def _available_bytes() -> int:
    from ..host import available_ram

    available = available_ram()
    return (1 << 62) if available is None else available


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(args: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                                      os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-m", "interreid.engine.bench.speed_round", *args], capture_output=True,
                         text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"round benchmark step failed: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def round_rows(sizes=(10_000,), engines=("lite", "full"), progress=None, model: str = "people") -> list[dict]:
    """Round latency, gallery open time and peak memory at each size, lite and full engines."""
    say = progress or (lambda _m: None)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        pack = None
        if "full" in engines:
            try:
                from ..full.build import build_pack
            except ImportError:
                engines = tuple(e for e in engines if e != "full")
            else:
                say("bench round: building a tiny random model pack...")
                pack = Path(tmp) / "tiny-pack"
                build_pack(pack, random_weights=True, config="clip-reid-tiny", name="bench-tiny", version="1.0")
        for n in sizes:
            for engine in engines:
                folder = Path(tmp) / f"{engine}-{n}"
                say(f"bench round: writing a synthetic {engine} gallery of {n:,} rows...")
                t0 = time.perf_counter()
                _child(["build", str(folder), str(n), engine, str(pack or ""), model])
                build_s = time.perf_counter() - t0
                say(f"bench round: {engine} engine, {n:,} rows...")
                m = _child(["measure", str(folder), str(pack if engine == "full" else ""),
                            "exact" if engine == "full" else ""])
                label = f"{engine} engine, {n:,} synthetic rows" + (f" ({model})" if engine == "full" else "")
                # the reference asks as before: lite colours computed from the top rows' images
                ref_round = m["ref_search_ms"] + m["select_ask_ms"] - m["ask_file_ms"] + m["ask_images_ms"]
                rows += [
                    _row(f"round: brute force + full sort, reference ({label})", ref_round, "ms", 1.0,
                         search_ms=round(m["ref_search_ms"], 3)),
                    _row(f"round: interview (encode+search+select+question) ({label})", m["round_ms"], "ms",
                         ref_round / m["round_ms"], retrieve_ms=round(m["retrieve_ms"], 3),
                         select_question_ms=round(m["select_ask_ms"], 3), same_top200=m["same_top200"],
                         rounds_ms=m["rounds_ms"], rounds_cpu_ms=m["rounds_cpu_ms"],
                         first_ranking_ms=round(m["start_ms"], 2)),
                    _row(f"round: gallery open + read vectors ({label})", m["open_ms"], "ms",
                         warm_up_ms=m["warm_up_ms"]),
                    *([_row(f"round: question step, lite colours from the top images, reference ({label})",
                            m["ask_images_ms"], "ms", 1.0),
                       _row(f"round: question step, lite colours kept per row ({label})", m["ask_file_ms"], "ms",
                            m["ask_images_ms"] / max(m["ask_file_ms"], 1e-9))] if engine == "full" else []),
                    _row(f"round: peak memory ({label})", m["peak_rss_mb"], "MB",
                         rounds_only_mb=round(m["round_peak_rss_mb"], 1),
                         vector_mb=round(m["vector_mb"], 1),
                         ratio_to_vectors=round(m["peak_rss_mb"] / max(m["vector_mb"], 1e-9), 2)),
                    _row(f"round: writing the synthetic gallery ({label})", build_s, "s"),
                ]
                if engine == "full":
                    rows += _bits_rows(folder, pack, label, ref_round, say)
    return rows


def _bits_rows(folder: Path, pack: Path, label: str, ref_round: float, say) -> list[dict]:
    """The full round again with the bits index (own process): round, build, recall, peak memory."""
    say(f"bench round: full engine with the bits index ({label})...")
    built = _child(["index", str(folder), "bits"])
    m = _child(["measure", str(folder), str(pack), "bits"])
    ref_round_here = m["ref_search_ms"] + m["select_ask_ms"] - m["ask_file_ms"] + m["ask_images_ms"]
    return [
        _row(f"round: brute force + full sort, reference, bits run ({label})", ref_round_here, "ms", 1.0,
             search_ms=round(m["ref_search_ms"], 3)),
        _row(f"round: interview with the bits index (encode+search+select+question) ({label})", m["round_ms"], "ms",
             ref_round_here / m["round_ms"], retrieve_ms=round(m["retrieve_ms"], 3),
             select_question_ms=round(m["select_ask_ms"], 3), same_top200=m["same_top200"],
             ratio_vs_first_reference=round(ref_round / m["round_ms"], 3), rounds_ms=m["rounds_ms"],
             rounds_cpu_ms=m["rounds_cpu_ms"], first_ranking_ms=round(m["start_ms"], 2)),
        _row(f"round: gallery open + interview warm-up, bits index ({label})", m["open_ms"], "ms",
             warm_up_ms=m["warm_up_ms"]),
        _row(f"round: bits index recall@200 vs exact ({label})", m["recall_at_200"], "fraction"),
        _row(f"round: bits index build (sign codes of every row) ({label})", built["build_s"], "s",
             index_mb=round(built["index_mb"], 1), build_peak_rss_mb=round(built["peak_rss_mb"], 1)),
        _row(f"round: peak memory through the rounds, bits index ({label})", m["round_peak_rss_mb"], "MB",
             vector_mb=round(m["vector_mb"], 1), ratio_to_vectors=round(m["round_peak_rss_mb"] / max(m["vector_mb"], 1e-9), 2),
             with_reference_mb=round(m["peak_rss_mb"], 1)),
    ]


def main(argv: list[str]) -> int:
    """``build DIR N ENGINE PACK [MODEL]``, ``index DIR BACKEND`` or ``measure DIR PACK [BACKEND]`` (any backend of
    engine/gallery/index.py's BACKENDS, e.g. bits or bits-ivf); one JSON line on stdout."""
    action, folder = argv[0], Path(argv[1])
    if action == "build":
        build_synthetic_gallery(folder, int(argv[2]), argv[3], Path(argv[4]) if argv[4] else None,
                                argv[5] if len(argv) > 5 else "people")
        print(json.dumps({"ok": True}))
    elif action == "index":
        print(json.dumps(build_index(folder, argv[2])))
    else:
        index = argv[3] if len(argv) > 3 and argv[3] else None
        print(json.dumps(measure_round(folder, Path(argv[2]) if argv[2] else None, index=index)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
