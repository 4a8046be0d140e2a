"""The retrieval query at round t (docs/architecture.md): the initial description + cleaned answers.

Questions are not added. A retriever with the optional ``Contextualiser`` capability
(``engine.retriever``) makes a bare answer ("Black.") self-contained; the lite engine does, the
CLIP retriever does not; it also marks an answer that contradicts what the witness said firmly before
(``Reconciler``). "I don't know" adds nothing. Shared by the interview loop and training.
"""

from __future__ import annotations

from typing import Sequence

from ..retriever import contextualiser, reconciler
from .answers import clean_answer, is_dont_know
from .protocols import Turn


def build_query(initial: str, turns: Sequence[Turn], retriever=None) -> str:
    """Space-joined initial description and cleaned answers of ``turns``."""
    return " ".join(p for p in statement_texts(initial, turns, retriever) if p)


def statement_texts(initial: str, turns: Sequence[Turn], retriever=None) -> list[str]:
    """The query's parts, one per statement: the initial description, then each turn's answer as it joins
    the query ("" for one that adds nothing), each read in the light of the statements before it."""
    parts = [initial.strip()]
    context, reconcile = contextualiser(retriever), reconciler(retriever)
    hook = context.contextualise if context is not None else None
    for turn in turns:
        cleaned = clean_answer(turn.answer)
        if hook is not None and not is_dont_know(turn.answer):
            cleaned = hook(turn.question, turn.answer, cleaned, turn.attribute)
        if reconcile is not None and cleaned:
            cleaned = reconcile.reconcile(" ".join(p for p in parts if p), cleaned, turn.question, turn.attribute)
        parts.append(cleaned)
    return parts


def readable_query(query: str) -> str:
    """The query as a reader should see it: the witness's words, without the lite engine's markers
    (``[drop KEY]`` for a removed constraint, ``[asked ATTR] ... [/asked]`` around an answer that
    named another garment than the one asked, ``[contradicts ...] ... [/contradicts]`` around one that
    contradicts earlier words, ``[repeats ...] ... [/repeats]`` around one that says again, unasked, what
    was said before). What the engine took from it is shown beside it."""
    from ..lite.parser import ANSWER, ASKED, CONTRA, DROP, REPEATS  # the markers' one definition

    text = REPEATS.sub(lambda m: m.group(2), query)
    text = ANSWER.sub(lambda m: m.group(1), CONTRA.sub(lambda m: m.group(2), DROP.sub(" ", text)))
    return " ".join(ASKED.sub(lambda m: m.group(2), text).split())
