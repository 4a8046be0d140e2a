#!/usr/bin/env python3
"""Correctness of the Qdrant backend's embedded store at 10k / 100k vectors, against exact search.

    python scripts/qdrant_check.py --sizes 10000,100000 --dim 512 --out /tmp/somewhere

qdrant-client's local mode is a brute-force store written in Python: these figures say that it
returns what exact search returns (recall@200, top-200 order, camera/time filters, after reopening)
and what it costs, not that it is fast; a server is the deployment (docs/deployment.md). Times are
ratios against exact numpy search in the same run.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=5)
    ap.add_argument("--out", default=None, help="scratch folder (default: a temporary one, removed after)")
    args = ap.parse_args()

    from interreid.engine.bench.synthetic_vectors import clustered_vectors
    from interreid.engine.gallery.filters import RowFilter, time_number
    from interreid.engine.gallery.index import ExactIndex
    from interreid.engine.gallery.qdrant_index import QdrantIndex, close_local

    scratch = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="qdrant-check-"))
    k = 200
    print("| vectors | write | reopen | query (exact numpy) | filtered query | recall@200 | same top-200 order "
          "| filters equal exact | store size |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        data = clustered_vectors(n + args.queries, args.dim, seed=7)
        base, queries = data[:n], data[n:]
        cams = [f"cam{i % 5:02d}" for i in range(n)]
        stamps = [f"2024-05-0{1 + i % 3}T{(i // 60) % 24:02d}:{i % 60:02d}:00" for i in range(n)]
        folder = scratch / f"g{n}"
        shutil.rmtree(folder, ignore_errors=True)
        exact = ExactIndex(args.dim)
        exact.add(base, 0)
        t = time.perf_counter()
        index = QdrantIndex(args.dim, "check", path=folder / "qdrant")
        index.add(base, 0, [{"row": i, "sha256": f"{i:064x}", "camera": cams[i], "time": time_number(stamps[i])}
                            for i in range(n)])
        write_s = time.perf_counter() - t
        close_local(folder)
        t = time.perf_counter()
        index = QdrantIndex(args.dim, "check", path=folder / "qdrant")
        assert len(index) == n
        reopen_s = time.perf_counter() - t
        where = RowFilter(frozenset({"cam01", "cam03"}), time_number("2024-05-02T00:00:00"),
                          time_number("2024-05-02T12:00:00"))
        keep = where.mask(cams, stamps)
        recalls, same, filt_ok, tq, te, tf = [], 0, 0, [], [], []
        for q in queries:
            t = time.perf_counter()
            want = exact.search(q, k)
            te.append(time.perf_counter() - t)
            t = time.perf_counter()
            got = index.search(q, k)
            tq.append(time.perf_counter() - t)
            recalls.append(len(set(got.rows.tolist()) & set(want.rows.tolist())) / k)
            same += int(np.array_equal(got.rows, want.rows))
            t = time.perf_counter()
            fgot = index.search(q, k, where=where)
            tf.append(time.perf_counter() - t)
            fwant = np.argsort(-np.where(keep, base @ q, -np.inf), kind="stable")[:k]
            fwant = fwant[keep[fwant]]  # fewer than k rows may pass the filter
            filt_ok += int(np.array_equal(fgot.rows, fwant))
        size = sum(p.stat().st_size for p in (folder / "qdrant").rglob("*") if p.is_file())
        close_local(folder)
        qe, qq, qf = (1000 * float(np.median(x)) for x in (te, tq, tf))
        print(f"| {n:,} | {write_s:.1f} s | {reopen_s:.1f} s | {qq:.0f} ms ({qe:.1f} ms, {qq / qe:.0f}x slower) "
              f"| {qf:.0f} ms | {np.mean(recalls):.3f} | {same}/{len(queries)} | {filt_ok}/{len(queries)} "
              f"| {size / 2**20:.0f} MB |", flush=True)
    if not args.out:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
