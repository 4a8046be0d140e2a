"""Audit events in words for a reader of the report or the window; the technical names stay beside them."""

from __future__ import annotations

import re

EVENT_WORDS = {
    "case.created": "Case created",
    "case.meta": "Case detail recorded",
    "case.gallery_moved": "The gallery's new folder recorded",
    "case.copied": "Copy of the case saved",
    "candidates.shown": "Candidates put before the investigator",
    "candidates.undone": "Candidates withdrawn (round undone)",
    "ranking.saved": "Gallery ranked",
    "ranking.undone": "Ranking withdrawn (round undone)",
    "round.answered": "Answer recorded",
    "round.undone": "Round undone",
    "question.skipped": "Question skipped",
    "shown_to_witness": "Image shown to the witness",
    "lineup.shown": "Line-up shown to the witness",
    "mark.match": "Marked as match",
    "mark.possible": "Marked as possible",
    "mark.excluded": "Marked as excluded",
    "mark.cleared": "Mark cleared",
    "similar.searched": "Search for similar-looking images",
    "report.exported": "Report exported",
}


def event_label(event: str) -> str:
    """'candidates.shown' -> 'Candidates put before the investigator'; unknown names made readable."""
    if event in EVENT_WORDS:
        return EVENT_WORDS[event]
    return event.replace("_", " ").replace(".", ": ").capitalize()


SELECTOR_WORDS = {"kmeans": "four varied candidates from among the best-ranked images",
                  "top": "the four best-ranked images", "uniform": "four candidates spread over the best-ranked",
                  "learned": "four candidates chosen by a trained model"}
QUESTIONER_WORDS = {"infogain": "questions about what best separates the candidates",
                    "template": "questions in a fixed order", "llava": "questions written by the LLaVA model"}


def engine_words(engine: dict) -> str:
    """One sentence on how the gallery was searched and what was shown, for a court reader."""
    how = ("by clothing colours measured in each image (no trained model)" if engine.get("kind") == "lite"
           else "with a trained image-and-text model")
    sel = SELECTOR_WORDS.get(str(engine.get("selector")), str(engine.get("selector", "")))
    que = QUESTIONER_WORDS.get(str(engine.get("questioner")), str(engine.get("questioner", "")))
    return f"Images ranked {how}; each round showed {sel}; {que}."


# -- match reasons and the question's reason, in words ----------------------------------------
PARTS = {"head": "hair", "upper": "top", "lower": "trousers or skirt", "feet": "shoes",
         "lower length": "trouser length", "lower_length": "trouser length", "sleeves": "sleeves"}

_REASON = re.compile(r"^\s*(?P<part>[a-z_ ]+):\s*(?P<value>[a-z][a-z \-]*?)\s+(?P<p>[01](?:\.\d+)?)"
                     r"(?P<said_not>\s*\(said not\))?\s*$")


def noun(n: int, one: str, many: str) -> str:
    """The noun for ``n`` things: 'person' for 1, 'people' for any other count."""
    return one if n == 1 else many


def counted(n: int, one: str, many: str) -> str:
    """'1 person', '48 people', '0 crops': a count with its noun for a reader."""
    return f"{n:,} {noun(n, one, many)}"


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
    """The questioner's reason without information-theory units ('— expected gain 0.62 bits, weighed by how
    reliably the camera shows it'), for the CLI's reason line, the app's question panel and the report's body.
    The questioner's own words, number included, stay in the case file and are shown where technical detail
    goes: the CLI's --json transcript, the app's tooltip, the report's technical line."""
    text = re.sub(r"\s*—\s*expected gain [0-9.]+ bits(, weighed by how reliably the camera shows it)?", "",
                  text or "")
    text = text.replace("the top candidates differ most in", "the best-ranked images differ most in")
    text = re.sub(r"^next fixed template: ", "the next question in a fixed order: ", text)
    return text[:1].upper() + text[1:] if text else ""


