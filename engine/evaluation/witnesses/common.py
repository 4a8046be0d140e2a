"""What every simulated witness shares: the one "don't know", sentences, the Answerer interface.

"Don't know" has one meaning across the engine: the answer ``DONT_KNOW`` ("I don't know."), and
``is_dont_know`` (``engine.interview.answers``) to recognise one in any wording ("Not sure.",
"I can't remember."). A witness's reply goes through :func:`settle` before the interview sees it,
so an empty reply or any "don't know" wording reaches the loop as ``DONT_KNOW``.
"""

from __future__ import annotations

import re
from typing import Protocol

from ...interview.answers import DONT_KNOW, is_dont_know
from ..annotations import Record

__all__ = ["DONT_KNOW", "Answerer", "is_dont_know", "sentences", "settle"]

_SENTENCE = re.compile(r"[^.!?]*[.!?]+|[^.!?]+$")


class Answerer(Protocol):
    """A simulated witness. It may also offer ``prepare(records)``, called once with the queries
    about to be run (the sentence-embedder witnesses embed their texts in batches there)."""

    name: str

    def answer(self, question: str, record: Record, attribute: str | None = None) -> str:
        """The witness's answer to ``question`` about the person of ``record``."""
        ...


def sentences(text: str) -> list[str]:
    """A text's sentences, stripped, empty ones dropped."""
    return [s.strip() for s in _SENTENCE.findall(text or "") if s.strip()]



def settle(reply: str | None) -> str:
    """A witness's reply as the interview records it: ``DONT_KNOW`` for an empty reply or one that
    only says the witness does not know; otherwise the reply, stripped."""
    reply = (reply or "").strip()
    return DONT_KNOW if not reply or is_dont_know(reply) else reply
