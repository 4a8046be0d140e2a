"""Interfaces of the pluggable parts of the loop: selectors and questioners."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np


@dataclass
class Turn:
    """One answered round of the dialogue."""

    question: str
    answer: str
    attribute: str | None = None  # the attribute the question was about, when known


@dataclass
class QuestionContext:
    """Everything a questioner may look at when it suggests the next question.

    ``topk`` are gallery row indices in rank order (length k = ceil(200 / t) or fewer),
    ``topk_posterior`` the posterior restricted to them and renormalised, ``candidates`` the
    c = 4 rows shown (rank 1 first). ``vectors`` is the gallery's (N, D) embedding array.
    ``load_image(row)`` returns the RGB PIL image of a gallery row (for image questioners).
    """

    initial_description: str
    dialogue: list[Turn]
    round_index: int  # 1-based round t
    topk: np.ndarray
    topk_posterior: np.ndarray
    candidates: list[int]
    vectors: np.ndarray
    load_image: Callable[[int], object] | None = None
    asked_attributes: set[str] = field(default_factory=set)
    query: str = ""  # the retrieval query the current ranking came from
    asked_questions: set[str] = field(default_factory=set)  # question texts skipped (never suggest again)
    #: lite colour vectors of gallery rows (full-engine galleries keep them per row, see
    #: gallery/colour_cache.py); None: a lite questioner computes them from ``load_image``
    lite_vectors: Callable[[np.ndarray], np.ndarray] | None = None


@dataclass
class SuggestedQuestion:
    text: str
    rationale: str = ""
    attribute: str | None = None
    kind: str = "descriptive"  # descriptive | yesno | choice
    questioner: str = ""


class Questioner(Protocol):
    name: str

    def ask(self, context: QuestionContext) -> SuggestedQuestion:
        """Suggest the next question. Never repeats an asked or "don't know" attribute."""
        ...


class Selector(Protocol):
    name: str

    def select(self, topk: np.ndarray, vectors: np.ndarray, c: int = 4,
               query_vector: np.ndarray | None = None) -> list[int]:
        """Pick c gallery rows from ``topk`` (rank order): rank 1 + (c-1) chosen from ranks 2..k.

        Returns gallery row indices in rank order, rank 1 first. Fewer when k < c.
        """
        ...


def rows_in_rank_order(rows: Sequence[int], topk: np.ndarray) -> list[int]:
    """Sort chosen rows by their position in ``topk``."""
    pos = {int(r): i for i, r in enumerate(topk)}
    return sorted((int(r) for r in rows), key=lambda r: pos[r])
