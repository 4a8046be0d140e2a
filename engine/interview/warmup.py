"""The first round's one-time costs, paid when an interview opens instead.

Measured on the 1M-row full-engine gallery (docs/scale.md, "The first rounds after opening"): the
first round of a process took 150-270 ms where later ones took 20-30 ms, and a second interview in
the same process started at the later rounds' speed, whatever its description. So it was the
process, not the query: the round paid for Python imports done lazily on first use (the tokenizer's
text cleaner ``ftfy`` with its tables, FAISS, ``numpy.ma`` behind ``np.unique``: 90 ms), for opening
the index (its files mapped), for starting the scan's thread pool, and for first calls (the text
session's first run, the first Hamming scan, gather and k-means, with their buffers).

:func:`warm_up` does that work once per open gallery and engine, when ``Interview`` is created (an
evaluation's many interviews on one gallery pay it once): it encodes a neutral description, searches
the index with it, decodes the top rows and runs the selector on them, and reads their lite colours
from the gallery's file, discarding every result. It writes nothing (no case, no gallery setting:
when the index must first be built or extended, that stays with the first search, which may write
the gallery's settings) and changes no state a round reads, so a round gives the same ranking,
candidates and question with or without it (tests/test_round_speed.py). Only engines whose
retriever has a text embedding (the full engine) are warmed; the lite engine's round has none of
these costs.
"""

from __future__ import annotations

import time
import weakref

import numpy as np

from ..gallery.bits_index import PARALLEL_FROM as PREFAULT_FROM  # the size from which the index maps its files

#: a description of no one in particular: what the warm-up encodes and searches for
WARM_TEXT = "A person walking, wearing a jacket, trousers and shoes."
SEARCH_ROWS = 1 << 20  # rows a bits index's warm-up searches: its first calls cost the same, the rest grows with n
EXACT_ROWS = 8192  # rows an exact index's warm-up scores (its round scores every row: too dear to repeat here)

_DONE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # gallery -> {id(engine): timings}


def warm_up(interview) -> dict:
    """Warm the interview's gallery and engine once (see the module docstring); returns what each step
    cost in ms (``{"skipped": reason}`` when nothing was done), also kept as ``interview.warm_up_ms``."""
    from ..retriever import text_encoder

    gallery, engine = interview.gallery, interview.engine
    done = _DONE.setdefault(gallery, {})
    key = id(engine)
    if key in done:
        return {"skipped": "already warm"}
    encoder = text_encoder(engine.retriever)
    if encoder is None:
        return {"skipped": "no text embedding"}
    timings: dict = {}
    started = time.perf_counter()

    def step(name: str, tick: float) -> float:
        now = time.perf_counter()
        timings[name] = round((now - tick) * 1000, 2)
        return now

    tick = time.perf_counter()
    query = np.asarray(encoder.encode_text([WARM_TEXT])[0], dtype=np.float32)
    tick = step("encode", tick)
    searcher = interview.searcher
    if not index_is_ready(searcher):
        timings["index"] = "opened by the first search (it must be built or extended first, or is not a bits or exact index)"
    else:
        index = searcher.index
        tick = step("open_index", tick)
        if getattr(index, "backend", "") == "bits":  # every step of a search, on at most SEARCH_ROWS rows
            part = index.head(SEARCH_ROWS) if len(index) > SEARCH_ROWS else index
            rows = np.asarray(part.search(query, interview.depth).rows, dtype=np.int64)
        elif getattr(index, "backend", "") == "bits-ivf":  # a whole search: it reads a few lists only
            rows = np.asarray(index.search(query, interview.depth).rows, dtype=np.int64)
        else:  # exact search (a product over every row: a whole round at 1M) needs only a few rows to warm
            from ..gallery.index import top_k

            some = np.asarray(interview.vectors[:EXACT_ROWS], dtype=np.float32)
            rows = top_k((some @ query).astype(np.float32), interview.depth).rows
        tick = step("search", tick)
        from ..gallery import colour_cache
        from ..gallery.vector_format import round_view
        from .loop import POOL_SIZE

        top = rows[:POOL_SIZE]
        view = round_view(interview.vectors, top)
        tick = step("decode", tick)
        if len(top) > interview.c:
            engine.selector.select(top, view, c=interview.c, query_vector=query)
        tick = step("select", tick)
        if colour_cache.needed(gallery):
            colour_cache.stored_vectors(gallery, top[:50])
            if len(interview.vectors) >= PREFAULT_FROM:
                colour_cache.prefault(gallery)
        step("colours", tick)
    timings["total"] = round((time.perf_counter() - started) * 1000, 2)
    done[key] = timings
    return timings


def index_is_ready(searcher) -> bool:
    """True when opening the searcher's index builds nothing and writes nothing (it is open already, or
    its file is up to date with the gallery): only then does the warm-up open it."""
    if searcher._index is not None:
        return True
    from ..search import cached_index

    if cached_index(searcher) is not None:
        return True
    from ..gallery.index import choose_backend

    gallery = searcher.gallery
    n = len(searcher.vectors)
    backend = choose_backend(gallery.meta("index_backend") or "auto", n)
    if backend == "exact":
        return True
    if backend == "bits":
        from ..gallery.bits_index import is_current

        return is_current(gallery, n)
    if backend == "bits-ivf":
        from ..gallery import ivf_index

        return ivf_index.is_current(gallery, n, gallery.embedder_identity.dim)
    return False
