"""The window's words for what the engine says in technical terms.

The engine's own wording (colour probabilities, information gain in bits, selector and retriever
names, audit event names) stays available in tooltips and details panes; what an investigator
reads first is written here. Every function falls back to the engine's text when it does not
recognise it, so nothing is ever hidden.
"""

from __future__ import annotations

import re

from interreid.engine.report.words import PARTS, likelihood, plain_rationale, plain_reasons  # noqa: F401  (re-exported)

SELECTOR_WORDS = {"kmeans": "varied candidates", "top": "the best-ranked candidates",
                  "uniform": "candidates spread over the ranking", "learned": "candidates chosen by a trained model"}
QUESTIONER_WORDS = {"infogain": "questions on what best separates the candidates",
                    "template": "questions in a fixed order", "llava": "questions from the LLaVA model"}


def plain_engine(kind: str, text: str) -> str:
    """'lite engine; selector kmeans, questioner infogain' -> 'Search by colours · varied candidates · …'."""
    search = "Colour search (no model)" if kind == "lite" else "Image-model search"
    pack = re.search(r", pack (.+?); selector", text or "")
    if pack:  # which model, and whether it is untrained, always in view
        search += f" ({pack[1]})"
    m = re.search(r"selector (\w+), questioner (\w+)", text or "")
    if not m:
        return search
    return " · ".join([search, SELECTOR_WORDS.get(m[1], m[1])])


def plain_event(event: str) -> str:
    """An audit event's name for a reader ('candidates.shown' -> 'Candidates shown to the investigator')."""
    from interreid.engine.report.words import event_label

    return event_label(event)
