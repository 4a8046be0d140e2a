#!/usr/bin/env python3
"""recall@200 of the bits-ivf index against exact search, at several probe counts and shortlists (docs/scale.md,
section "The partitioned bits index"). Usage:

    python scripts/ivf_recall_sweep.py GALLERY PACK PROBES SHORTLISTS [bits]

PROBES and SHORTLISTS are comma-separated lists (e.g. 192,320 8192,16384); ``bits`` adds the bits index's
row. Environment: FPS (rows kept by the Hamming pass per shortlisted row, comma-separated, default 4),
CORR=0 (the asymmetric stage without the per-row factors). Queries: 16 descriptions through the pack's text
tower and 8 gallery rows; the exact top 200 is cached beside the gallery folder (GALLERY-exact.npy). One
JSON line per setting: mean and lowest recall@200 of the text and image queries, median search wall and
CPU time (each query searched twice, the second timed). Opening sets the gallery's index to bits-ivf
(built when missing).
"""

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from interreid.engine.engines import build_engine
from interreid.engine.gallery import bits_index
from interreid.engine.gallery import ivf_index as ivf
from interreid.engine.gallery.index import open_index
from interreid.engine.gallery.store import Gallery
from interreid.engine.retriever import text_encoder

DESCRIPTIONS = [
    "A man in a red jacket, blue jeans and white shoes, short dark hair.",
    "A man in a red jacket, blue jeans and white shoes, short dark hair. He carried a black backpack. "
    "Dark grey trousers. He had short black hair.",
    "a woman with long hair wearing a white dress", "an old man in a grey coat carrying a bag",
    "a young woman in a black t-shirt and blue shorts", "a person in a green hoodie and black trousers",
    "a man wearing a yellow shirt and brown pants", "a girl with a pink backpack and a purple skirt",
    "a woman in a blue coat with a handbag", "a man with a white cap and a black jacket",
    "a tall man in an orange vest", "a woman wearing a red skirt and a white blouse",
    "someone in dark clothes with a suitcase", "a boy in a striped shirt and jeans",
    "a man in a suit with a briefcase", "a woman with short blond hair in a beige jacket"]


def main(argv):
    folder, pack = argv[0], argv[1]
    probes = [int(x) for x in argv[2].split(",")]
    keeps = [int(x) for x in argv[3].split(",")]
    g = Gallery.open(folder)
    encoder = text_encoder(build_engine(g, pack=pack).retriever)
    vectors = g.vectors()
    n = len(vectors)
    texts = np.asarray(encoder.encode_text(DESCRIPTIONS), dtype=np.float32)
    images = np.asarray(vectors[np.sort(np.random.default_rng(1).integers(0, n, 8))], dtype=np.float32)
    queries = np.concatenate([texts, images])
    kinds = np.array(["text"] * len(texts) + ["image"] * len(images))
    cache = Path(folder).parent / (Path(folder).name + "-exact.npy")
    if cache.exists():
        truth = np.load(cache)
    else:
        scores = np.empty((len(queries), n), np.float32)
        for s in range(0, n, 262_144):
            scores[:, s:s + 262_144] = (np.asarray(vectors[s:s + 262_144], dtype=np.float32) @ queries.T).T
        truth = np.stack([np.argsort(-row, kind="stable")[:200] for row in scores])
        np.save(cache, truth)
    g.set_index_backend("bits-ivf")
    index = open_index(g)

    def run(search):
        rec, wall, cpu = [], [], []
        for q, exact in zip(queries, truth):
            search(q)
            t, c = time.perf_counter(), time.process_time()
            found = search(q)
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            rec.append(len(set(exact.tolist()) & set(found.rows[:200].tolist())) / 200)
        rec = np.array(rec)
        return {"text_mean": round(rec[kinds == "text"].mean(), 4), "text_min": rec[kinds == "text"].min(),
                "image_mean": round(rec[kinds == "image"].mean(), 4), "image_min": rec[kinds == "image"].min(),
                "wall_ms": round(float(np.median(wall)), 2), "cpu_ms": round(float(np.median(cpu)), 2)}

    ivf.CORRECTED = os.environ.get("CORR", "1") == "1"
    for p in probes:
        for keep in keeps:
            for f in [int(x) for x in os.environ.get("FPS", "4").split(",")]:
                ivf.FIRST_STAGE_PER_SHORTLIST = f
                out = run(lambda q, p=p, keep=keep: index.search(q, 200, nprobe=p, keep=keep))
                print(json.dumps({"lists": index.lists, "nprobe": p, "shortlist": keep, "fps": f, **out}), flush=True)
    if len(argv) > 4 and argv[4] == "bits":
        plain = bits_index.open_bits(g, vectors, vectors.shape[1])
        print(json.dumps({"backend": "bits", **run(lambda q: plain.search(q, 200))}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
