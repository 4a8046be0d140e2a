"""Witnesses that answer from what was written about the person, by sentence similarity.

- ``annotated``: the annotated answer of the record's most similar annotated question (cosine of
  all-MiniLM-L6-v2 sentence embeddings); "I don't know." below a similarity threshold.
- ``memory``: the most similar sentence(s) of the record's fine-grained description (the witness's
  memory); "I don't know." below a threshold.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..annotations import Record
from .common import DONT_KNOW, sentences
from .sentence_embedder import SentenceEmbedder, shared_sentence_embedder

ANNOTATED_THRESHOLD = 0.8  # question-question cosine; "What colour is her top?" vs "...are her shoes?" is 0.72
MEMORY_THRESHOLD = 0.4  # question-sentence cosine ("Is she carrying a bag?" vs "She carries an orange bag." is 0.70)


class AnnotatedAnswerer:
    """Answers with the annotated answer of the record's most similar annotated question."""

    name = "annotated"

    def __init__(self, threshold: float = ANNOTATED_THRESHOLD, embedder: SentenceEmbedder | None = None):
        self.threshold = threshold
        self.embedder = embedder or shared_sentence_embedder()

    def prepare(self, records: Sequence[Record]) -> None:
        """Embed every annotated question of ``records`` at once (batched; optional speed-up)."""
        self.embedder.encode([q for r in records for q in r.questions])

    def answer(self, question: str, record: Record, attribute: str | None = None) -> str:
        if not question.strip() or not record.questions:
            return DONT_KNOW
        vecs = self.embedder.encode([question.strip()] + list(record.questions))
        sims = vecs[1:] @ vecs[0]
        best = int(np.argmax(sims))  # first on ties
        return record.answers[best] if sims[best] >= self.threshold else DONT_KNOW


class MemoryAnswerer:
    """Answers with the most similar sentence(s) of the record's fine-grained description."""

    name = "memory"

    def __init__(self, threshold: float = MEMORY_THRESHOLD, max_sentences: int = 1,
                 embedder: SentenceEmbedder | None = None):
        self.threshold = threshold
        self.max_sentences = max_sentences
        self.embedder = embedder or shared_sentence_embedder()

    def prepare(self, records: Sequence[Record]) -> None:
        """Embed every memory sentence of ``records`` at once (batched; optional speed-up)."""
        self.embedder.encode([s for r in records for s in sentences(r.fine_grained_description)])

    def answer(self, question: str, record: Record, attribute: str | None = None) -> str:
        memory = sentences(record.fine_grained_description)
        if not question.strip() or not memory:
            return DONT_KNOW
        vecs = self.embedder.encode([question.strip()] + memory)
        sims = vecs[1:] @ vecs[0]
        order = [int(i) for i in np.argsort(-sims, kind="stable")[:self.max_sentences] if sims[i] >= self.threshold]
        if not order:
            return DONT_KNOW
        return " ".join(memory[i] for i in sorted(order))  # in the order the witness remembers them
