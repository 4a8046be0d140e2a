"""Lite questioners on a full-engine (CLIP) gallery.

The lite ``infogain`` questioner reads the lite colour layout from the gallery's vectors; a
full-engine gallery holds CLIP vectors instead. :func:`lite_view` computes lite vectors for the
best rows of the top-k (kept per row beside the gallery, engine/gallery/colour_cache.py; else from
their images), so infogain can run there (as the LLaVA questioner's
fallback, or when the investigator chooses it).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..interview.protocols import QuestionContext, SuggestedQuestion


def lite_view(context: QuestionContext, limit: int = 50) -> QuestionContext:
    """The context as the lite infogain questioner needs it: lite colour vectors of the best
    ``limit`` rows of the top-k, computed from their images when the gallery holds CLIP vectors."""
    from ..lite.embedder import LiteEmbedder  # noqa: PLC0415

    dim = LiteEmbedder.identity.dim
    if context.vectors.shape[1] == dim or (context.load_image is None and context.lite_vectors is None):
        return context
    rows = [int(r) for r in np.asarray(context.topk)[:limit]]
    if context.lite_vectors is not None:  # kept per row by the gallery (computed once per row)
        lite = np.asarray(context.lite_vectors(np.asarray(rows, dtype=np.int64)), dtype=np.float32)
    else:
        lite = LiteEmbedder().embed_images([context.load_image(r) for r in rows])
    post = np.asarray(context.topk_posterior, dtype=np.float64)[:len(rows)]
    post = post / post.sum() if post.sum() > 0 else np.full(len(rows), 1.0 / len(rows))
    # a small view: its "gallery" is these rows, renumbered 0..n-1 in rank order
    position = {r: i for i, r in enumerate(rows)}
    return dataclasses.replace(context, topk=np.arange(len(rows)), topk_posterior=post, vectors=lite,
                               candidates=[position[int(c)] for c in context.candidates if int(c) in position],
                               lite_vectors=None,
                               load_image=None if context.load_image is None else lambda i: context.load_image(rows[i]))


class LiteViewQuestioner:
    """Wraps a lite questioner so that it reads lite vectors computed from the candidates' images."""

    def __init__(self, inner, limit: int = 50):
        self.inner = inner
        self.name = inner.name
        self.limit = limit

    def ask(self, context: QuestionContext) -> SuggestedQuestion:
        return self.inner.ask(lite_view(context, self.limit))
