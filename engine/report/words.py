"""Audit events in words for a reader of the report or the window; the technical names stay beside them."""

from __future__ import annotations

EVENT_WORDS = {
    "case.created": "Case created",
    "case.meta": "Case detail recorded",
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
