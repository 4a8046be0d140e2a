"""The window's words for what the engine says in technical terms.

The engine's own wording (colour probabilities, information gain in bits, selector and retriever
names, audit event names) stays available in tooltips and details panes; what an investigator
reads first is written here. Every function falls back to the engine's text when it does not
recognise it, so nothing is ever hidden.
"""

from __future__ import annotations

import re

PARTS = {"head": "hair", "upper": "top", "lower": "trousers or skirt", "feet": "shoes",
         "lower length": "trouser length", "lower_length": "trouser length", "sleeves": "sleeves"}

_REASON = re.compile(r"^\s*(?P<part>[a-z_ ]+):\s*(?P<value>[a-z][a-z \-]*?)\s+(?P<p>[01](?:\.\d+)?)"
                     r"(?P<said_not>\s*\(said not\))?\s*$")


def likelihood(p: float) -> str:
    if p >= 0.6:
        return "likely"
    if p >= 0.3:
        return "possible"
    return "unlikely"


def plain_reasons(text: str) -> str:
    """'upper: red 0.62, lower: white 0.09, lower: blue 0.60' ->
    'Top: red likely. Trousers or skirt: white unlikely, blue possible.' (the engine's text if unknown)."""
    if not text or not text.strip():
        return ""
    groups: dict[str, list[str]] = {}
    for piece in text.split(","):
        m = _REASON.match(piece)
        if m is None:
            return text
        part = PARTS.get(m["part"].strip(), m["part"].strip().replace("_", " "))
        value = m["value"].strip()
        p = float(m["p"])
        if m["said_not"]:
            words = f"not {value}: {'confirmed' if p >= 0.6 else 'doubtful' if p < 0.3 else 'unclear'}"
        else:
            words = f"{value} {likelihood(p)}"
        groups.setdefault(part, []).append(words)
    return " ".join(f"{part[0].upper()}{part[1:]}: {', '.join(words)}." for part, words in groups.items())


def plain_rationale(text: str) -> str:
    """The questioner's reason without information-theory units ('— expected gain 0.62 bits')."""
    text = re.sub(r"\s*—\s*expected gain [0-9.]+ bits", "", text or "")
    text = text.replace("the top candidates differ most in", "the best-ranked images differ most in")
    return text[:1].upper() + text[1:] if text else ""


SELECTOR_WORDS = {"kmeans": "varied candidates", "top": "the best-ranked candidates",
                  "uniform": "candidates spread over the ranking", "learned": "candidates chosen by a trained model"}
QUESTIONER_WORDS = {"infogain": "questions on what best separates the candidates",
                    "template": "questions in a fixed order", "llava": "questions from the LLaVA model"}


def plain_engine(kind: str, text: str) -> str:
    """'lite engine; selector kmeans, questioner infogain' -> 'Search by colours · varied candidates · …'."""
    search = "Colour search (no model)" if kind == "lite" else "Image-model search"
    m = re.search(r"selector (\w+), questioner (\w+)", text or "")
    if not m:
        return search
    return " · ".join([search, SELECTOR_WORDS.get(m[1], m[1])])


def plain_event(event: str) -> str:
    """An audit event's name for a reader ('candidates.shown' -> 'Candidates shown to the investigator')."""
    from engine.report.words import event_label

    return event_label(event)
