"""The lite retriever's log-likelihood at gallery scale: one small matrix product per chunk, chunks
scored on several threads, and a refinement that makes the top K exact.

The reference formula (``retriever._log_likelihood``) first decodes every row into region colour
distributions (N, 4, 11) and then reads each constraint from them. Every quantity it needs is a
linear function of the stored vector divided by another one:

* a region's colour share seen through a constraint's kernel is ``(v_region · kernel) / (v_region · 1)``
  (the block sum undoes the L2 normalisation, see ``layout.decode``);
* a cue's probability is ``v_cue / mean(block sums)``.

So one product ``chunk @ W`` with W (DIM, 4 + constraints) gives every number a chunk needs; the rest
is element-wise work on a few columns. numpy releases the GIL for both, so chunks scored on a thread
pool use every core. The result equals the reference up to float32 rounding (|difference| well below
1e-5 for scores of this size); :func:`refine_top` removes even that difference from the top K: it
re-scores, with the reference formula, every row whose fast score is within a tolerance of the K-th
best, which contains the exact top K (see its docstring).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .calibration import FLOOR, colour_weight, cue_weight, kernel_row
from .layout import COLOUR_DIM, DIM, N_TERMS, REGIONS, cue_index, region_index
from .parser import Constraints
from .retriever import DETAIL_MAX, region_shares

CHUNK = 65_536  # rows per thread-pool task
BLOCK = 2048  # rows per product: its temporaries stay in the processor cache, and BLAS stays on one thread
#: margin on the K-th best fast score inside which rows are re-scored exactly; the fast path's
#: float32 error is below 1e-5 for any realistic query (a few dozen constraints), so twice it is safe
TOLERANCE = 1e-4


def threads() -> int:
    """Threads for scoring (``INTERREID_THREADS`` overrides; default: every core, at most 8)."""
    value = os.environ.get("INTERREID_THREADS", "")
    return max(1, int(value)) if value.isdigit() else max(1, min(8, os.cpu_count() or 1))


class _Plan:
    """The constraints of one query as a projection matrix and per-column weights."""

    def __init__(self, cons: Constraints):
        n_reg = len(REGIONS)
        cols = [np.zeros(DIM, np.float32) for _ in range(n_reg)]
        for r in range(n_reg):  # block sums
            cols[r][r * N_TERMS:(r + 1) * N_TERMS] = 1.0
        self.colours = []  # (column, region, weight, positive)
        share = region_shares(cons)
        for c in cons.colours:
            col = np.zeros(DIM, np.float32)
            r = region_index(c.region)
            col[r * N_TERMS:(r + 1) * N_TERMS] = kernel_row(c.colour, c.shade)
            cols.append(col)
            # the region share too, as in the reference formula (it was missing here: a region described
            # twice scored differently in the fast path than in the exact re-rank of the top)
            w = colour_weight(c.region, c.colour, c.positive, c.weight, share.get(c.region, 1.0), c.answered)
            self.colours.append((len(cols) - 1, r, np.float32(w), c.positive))
        # per region with a stated detail colour ("red on the shoulders"): the rows of its other positive
        # colours, judged on the part of the region the detail does not explain (retriever.explained)
        self.explain = []  # (main rows, detail rows)
        for region in {c.region for c in cons.colours if c.detail and c.positive}:
            mains = [i for i, c in enumerate(cons.colours) if c.region == region and c.positive and not c.detail]
            details = [i for i, c in enumerate(cons.colours) if c.region == region and c.positive and c.detail]
            if mains:
                self.explain.append((np.array(mains), np.array(details)))
        self.cues = []  # (vector column, weight, first value?)
        from .layout import CUES

        for c in cons.cues:
            self.cues.append((COLOUR_DIM + cue_index(c.cue), np.float32(cue_weight(c.cue, c.weight, c.answered)),
                              c.value == CUES[c.cue]))
        self.w = np.stack(cols, axis=1)  # (DIM, 4 + colours)
        self.wt = np.ascontiguousarray(self.w.T)  # (4 + colours, DIM)
        self.region = np.array([r for _c, r, _w, _p in self.colours], dtype=np.int64)
        self.negative = np.array([not p for *_x, p in self.colours] + [not f for _c, _w, f in self.cues], dtype=bool)
        self.cue_cols = np.array([c - COLOUR_DIM for c, _w, _f in self.cues], dtype=np.int64)
        self.weights = np.array([w for _c, _r, w, _p in self.colours] + [w for _c, w, _f in self.cues],
                                dtype=np.float32)

    def score(self, v: np.ndarray) -> np.ndarray:
        """(n,) float32 for a chunk of rows: one product, then every constraint's column at once."""
        n_reg = len(REGIONS)
        # (4 + colours, n), rows contiguous; the product stays small enough that BLAS runs it on the
        # calling thread (larger ones start BLAS threads that spin against this module's own)
        p = (np.asarray(v, dtype=np.float32) @ self.w).T.copy()
        sums = np.maximum(p[:n_reg], np.float32(1e-12))
        q = np.empty((len(self.weights), p.shape[1]), dtype=np.float32)
        nc = len(self.colours)
        if nc:
            np.divide(p[n_reg:], sums[self.region], out=q[:nc])
            np.minimum(q[:nc], np.float32(1.0), out=q[:nc])
            for mains, details in self.explain:
                d = np.minimum(q[details].max(0), np.float32(DETAIL_MAX))
                q[mains] = np.minimum(q[mains] / (np.float32(1.0) - d), np.float32(1.0))
        if len(self.cues):
            scale = np.maximum(p[:n_reg].mean(0), np.float32(1e-12))
            np.divide(np.asarray(v[:, COLOUR_DIM:], dtype=np.float32).T[self.cue_cols], scale, out=q[nc:])
            np.clip(q[nc:], np.float32(0.0), np.float32(1.0), out=q[nc:])
        if self.negative.any():
            q[self.negative] = np.float32(1.0) - q[self.negative]
        q *= np.float32(1.0 - FLOOR)
        q += np.float32(FLOOR)
        np.log(q, out=q)
        return self.weights @ q


def fast_scores(cons: Constraints, vectors: np.ndarray, n_threads: int | None = None) -> np.ndarray:
    """Every row's log-likelihood (float32 (N,)), chunked and multi-threaded."""
    n = len(vectors)
    out = np.zeros(n, dtype=np.float32)
    if not cons or n == 0:
        return out
    plan = _Plan(cons)
    starts = range(0, n, CHUNK)

    def work(start: int) -> None:
        for s in range(start, min(n, start + CHUNK), BLOCK):
            out[s:s + BLOCK] = plan.score(vectors[s:min(s + BLOCK, start + CHUNK)])

    workers = n_threads or threads()
    if workers == 1 or n <= CHUNK:
        for s in starts:
            work(s)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(work, starts))
    return out


def refine_top(fast: np.ndarray, exact, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The exact top ``k`` (rows best first, ties by row; their exact scores) from every row's fast
    scores and ``exact(rows) -> scores`` (the reference formula on those rows).

    With ``s_k`` the K-th best fast score and every fast score within ``err`` of its exact value, the
    rows whose fast score is at least ``s_k - tol`` (tol > 2 err) include K rows whose exact score is
    at least ``s_k - err``, and every row left out has an exact score below ``s_k - tol + err``,
    strictly lower: no row left out can belong to the exact top K, ties included."""
    n = len(fast)
    k = min(int(k), n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    kth = float(np.partition(fast, n - k)[n - k])
    tol = TOLERANCE * (1.0 + abs(kth))
    cand = np.flatnonzero(fast >= kth - tol)
    scores = np.asarray(exact(cand), dtype=np.float32)
    order = np.lexsort((cand, -scores))[:k]
    return cand[order].astype(np.int64), scores[order]
