"""Making a short answer self-contained for the lite parser.

The retrieval query holds only the witness's cleaned answers, never the questions (docs/architecture.md).
A full sentence ("His trousers were blue.") parses on its own, but the lite parser cannot place a
bare "Black." (an answer to "Were his shoes A) grey or B) white?") or a bare "Yes."/"No.". For the
lite engine only, such answers borrow the question's garment: "Black." → "Shoes: black.",
"Yes." to "Was his top red?" → "Was his top red", "No." to it → "His top not red.". The CLIP
retriever of the full engine keeps the paper's rule unchanged.

An answer that speaks of another garment than the one asked about ("What colour were his shoes?" -
"He wore a navy blue jacket") is marked with the question's attribute (``parser.asked_marker``): the
parser counts what it says about the other garments as hedged, and shows it as "not what was asked".
"""

from __future__ import annotations

import re

from .parser import ON_QUESTION, asked_marker, off_question, parse
from .vocabulary import GARMENTS

_YES = re.compile(r"^\s*yes\b", re.IGNORECASE)
#: "No." but not "No idea." (a witness who does not know has said nothing)
_NO = re.compile(r"^\s*no\b(?![\s,]+(?:idea|clue|memory|recollection|notion)\b)", re.IGNORECASE)
#: a question that asks for a description ("What colour was his jacket?"), not a yes or no: a bare "Yes" or
#: "No" to it says nothing (the garment it names implies long sleeves or trousers, which it did not ask about)
_OPEN_QUESTION = re.compile(r"^\s*(?:what|which|how|who|where|when|why|describe|tell)\b", re.IGNORECASE)
DEFAULT_NOUNS = {"head": "hair", "upper": "top", "lower": "trousers", "feet": "shoes"}
CUE_PHRASES = {("lower_length", "short"): "shorts", ("lower_length", "long"): "long trousers",
               ("sleeves", "short"): "short sleeves", ("sleeves", "long"): "long sleeves"}


def contextualise(question: str, answer: str, cleaned: str, attribute: str | None = None) -> str:
    """The text that joins the lite query for one answered question (``cleaned`` when it parses),
    marked when it speaks of other garments than the one asked about."""
    text = _self_contained(question, answer, cleaned, attribute)
    asked = asked_attribute(question, attribute)
    if asked is None or not text or not off_question(parse(text), asked):
        return text
    return asked_marker(asked, text)


def asked_attribute(question: str, attribute: str | None = None) -> str | None:
    """The attribute a question asks about: ``attribute`` when it is one the engine reads, else the one
    garment the typed question names; None for an open question."""
    return attribute if attribute in ON_QUESTION else _asked_about(question)


def _asked_about(question: str) -> str | None:
    """The body region a typed question asks about, when it names exactly one garment ("What colour was
    the main part of his jacket?" -> upper); None for an open question ("anything else? a bag, a hat,
    their hair?") or one naming several."""
    named = [GARMENTS[t] for t in re.findall(r"[a-z]+", question.lower()) if GARMENTS.get(t)]
    regions = {r for rs in named for r in rs}
    return next(iter(regions)) if len(named) == 1 and len(regions) == 1 else None


def _self_contained(question: str, answer: str, cleaned: str, attribute: str | None) -> str:
    said = parse(cleaned)
    if said.nouns or (said and not said.colours):
        return cleaned  # names its garment (or only states a shape cue): stands on its own
    asked = parse(question)
    region = attribute if attribute in DEFAULT_NOUNS else next(iter(asked.nouns), None)
    if not said:
        if _OPEN_QUESTION.match(question):
            return cleaned
        if _YES.match(answer) and asked and len([c for c in asked.colours if c.positive]) <= 1:
            # a yes/no question; "Yes" to a multiple-choice question says nothing
            return question.strip().rstrip("?").strip() + "."
        if _NO.match(answer) and asked:
            parts = [f"{asked.nouns.get(c.region, DEFAULT_NOUNS[c.region])} not {c.colour}"
                     for c in asked.colours if c.positive]
            for c in ([] if parts else asked.cues):  # a shape question ("Was she wearing shorts?")
                opposite = "long" if c.value == "short" else "short"
                parts.append(CUE_PHRASES[(c.cue, opposite)])
            return (". ".join(parts) + ".").capitalize() if parts else cleaned
        return cleaned
    if region is None:
        # "Brown." to "What colour was her bag?": the bag's colour, not a garment's
        thing = next((t for t in re.findall(r"[a-z]+", question.lower()) if GARMENTS.get(t) == ()), None)
        return f"{thing.capitalize()}: {cleaned.rstrip(' .!')}." if thing else cleaned
    noun = asked.nouns.get(region, DEFAULT_NOUNS[region])
    # the garment first: "Shoes: brownish, I think." (a garment after a trailing clause is not reached)
    return f"{noun.capitalize()}: {cleaned.rstrip(' .!')}."
