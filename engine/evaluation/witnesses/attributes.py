"""The ground-truth witness of a synthetic dataset: exact answers from its attribute side file.

Which attribute a free-text question asks about is decided by keyword rules over the lite
engine's vocabulary (``engine.lite.vocabulary``: garments by body region, hair, hat and bag words,
colour words), so the witness and the lite parser read the same words the same way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Sequence

from ...lite.vocabulary import BAG_WORDS, CARRY_WORDS, COLOUR_WORDS, HAIR_WORDS, HAT_WORDS, region_words
from ..annotations import Record
from .common import DONT_KNOW

_AUX = re.compile(r"^\s*(is|was|were|are|did|does|do|has|had|have|can|could)\b", re.IGNORECASE)
_COLOUR_Q = re.compile(r"\bcolou?rs?\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?")
_HAT = HAT_WORDS
_BAG = BAG_WORDS | CARRY_WORDS
_HAIR = HAIR_WORDS
_FEET = region_words("feet")
_LOWER = region_words("lower")
_UPPER = region_words("upper") - {"sleeve", "sleeves"}  # a sleeve question has its own rule
_GENDER = {"gender", "sex", "male", "female"}
_LOWER_NOUN = {"trousers": ("long trousers", "trousers", True), "shorts": ("shorts", "shorts", True),
               "skirt": ("a short skirt", "skirt", False)}


def _colour_terms(words: Sequence[str]) -> set[str]:
    """Basic colour terms named by the words of a question ("navy" -> blue)."""
    return {term for w in words for term, _ in COLOUR_WORDS.get(w, ())}


def question_attributes(question: str) -> list[str]:
    """The ground-truth attributes a free-text question asks about (keyword rules), in a fixed
    order; [] when it names none. "What is she wearing on her legs?" asks both ``lower`` (colour)
    and ``lower_length``; "Does she wear a short-sleeved top?" asks ``sleeves`` only."""
    q = question.lower().replace("\u2019", "'")
    words = _WORD.findall(q)
    ws = set(words) | {p for w in words for p in w.split("-")}
    colour = bool(_colour_terms(words)) or bool(_COLOUR_Q.search(q))
    descriptive = q.lstrip().startswith(("what", "describe", "tell", "how"))
    found: list[str] = []
    if ws & _GENDER or re.search(r"\b(man|boy) or (a )?(woman|girl)\b|\b(woman|girl) or (a )?(man|boy)\b", q):
        found.append("gender")
    if ws & _HAIR:
        found.append("head")
    if ws & _HAT:
        found.append("hat")
    if ws & _BAG:
        found.append("bag")
    if "sleeve" in q:
        length = ws & {"long", "short", "sleeveless"}
        named = _colour_terms(words)
        if length or not named:
            found.append("sleeves")
        if named and (ws & _UPPER or not length):  # "Were his sleeves pink?" asks the top's colour
            found.append("upper")
    elif ws & _UPPER:
        found.append("upper")
    if ws & _LOWER:
        if colour:
            found.append("lower")
        elif descriptive:
            found += ["lower", "lower_length"]
        else:
            found.append("lower_length")
    elif ws & {"long", "short"} and "sleeve" not in q and not ws & (_UPPER | _HAIR):
        found.append("lower_length")
    if ws & _FEET:
        found.append("feet")
    return list(dict.fromkeys(found))


class AttributesAnswerer:
    """Exact answers from ground-truth attributes ({file_path: attributes}, ``attributes.json``).

    The attribute comes from the questioner when it says (``attribute``), else from keyword rules
    (:func:`question_attributes`). Yes/no questions get "Yes, " / "No, " before the full sentence;
    multiple-choice and descriptive questions get the full sentence. A question about no known
    attribute, or a record without attributes, gets "I don't know."."""

    name = "attributes"

    def __init__(self, attributes: dict[str, dict]):
        self.attributes = attributes

    @classmethod
    def from_file(cls, path: str | Path) -> "AttributesAnswerer":
        from ...synth.dataset import load_attributes  # noqa: PLC0415

        return cls(load_attributes(path))

    def answer(self, question: str, record: Record, attribute: str | None = None) -> str:
        truth = self.attributes.get(record.file_path)
        if truth is None:
            return DONT_KNOW
        asked = [attribute] if attribute in _PHRASES else question_attributes(question)
        asked = [a for a in asked if a in _PHRASES]
        if not asked:
            return DONT_KNOW
        if "lower" in asked and "lower_length" in asked:
            asked = [a for a in asked if a != "lower_length"]
            parts = [_lower_full(truth) if a == "lower" else _PHRASES[a](truth) for a in asked]
        else:
            parts = [_PHRASES[a](truth) for a in asked]
        text = " ".join(parts)
        if len(asked) == 1 and _is_yes_no(question):
            return f"{'Yes' if _confirms(question, asked[0], truth) else 'No'}, {text[0].lower()}{text[1:]}"
        return text


def _words(t: dict) -> tuple[str, str]:
    return ("She", "Her") if t.get("gender") == "female" else ("He", "His")


def _an(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _lower_full(t: dict) -> str:
    pron, _ = _words(t)
    c = t["lower"]
    phrase = {"trousers": f"{c} long trousers", "shorts": f"{c} shorts", "skirt": f"{_an(c)} {c} short skirt"}
    return f"{pron} is wearing {phrase.get(t.get('lower_type'), c + ' trousers')}."


def _lower_colour(t: dict) -> str:
    _, poss = _words(t)
    _, noun, plural = _LOWER_NOUN.get(t.get("lower_type"), ("", "trousers", True))
    return f"{poss} {noun} {'are' if plural else 'is'} {t['lower']}."


def _presence(kind: str, verb: str, absent: str) -> Callable[[dict], str]:
    def phrase(t: dict) -> str:
        pron, _ = _words(t)
        value = t.get(kind)
        return f"{pron} {verb} {_an(value)} {value} {kind}." if value else f"{pron} {absent} {kind}."
    return phrase


_PHRASES: dict[str, Callable[[dict], str]] = {
    "head": lambda t: f"{_words(t)[1]} hair is {t['head']}.",
    "upper": lambda t: f"{_words(t)[1]} top is {t['upper']}.",
    "lower": _lower_colour,
    "feet": lambda t: f"{_words(t)[1]} shoes are {t['feet']}.",
    "lower_length": lambda t: f"{_words(t)[0]} is wearing "
                              f"{_LOWER_NOUN.get(t.get('lower_type'), ('long trousers',))[0]}.",
    "sleeves": lambda t: f"{_words(t)[1]} top has {t['sleeves']} sleeves.",
    "bag": _presence("bag", "carries", "is not carrying a"),
    "hat": _presence("hat", "wears", "is not wearing a"),
    "gender": lambda t: f"{_words(t)[0]} is a {'woman' if t.get('gender') == 'female' else 'man'}.",
}


def _is_yes_no(question: str) -> bool:
    """An auxiliary-verb question offering no alternatives ("Was her top red?", not "A) red or B) blue")."""
    q = question.lower()
    return bool(_AUX.match(q)) and " or " not in q and not re.search(r"\b[a-d]\)", q)


def _confirms(question: str, attribute: str, t: dict) -> bool:
    """Whether the single attribute a yes/no question proposes is true of the person."""
    q = question.lower()
    words = _WORD.findall(q)
    ws = set(words) | {p for w in words for p in w.split("-")}
    if attribute in ("head", "upper", "lower", "feet"):
        named = _colour_terms(words)
        return t[attribute] in named if named else True
    if attribute in ("bag", "hat"):
        if not t.get(attribute):
            return False
        named = _colour_terms(words)
        return t[attribute] in named if named else True
    if attribute == "sleeves":
        return t["sleeves"] in ws
    if attribute == "lower_length":
        kind = t.get("lower_type", "trousers")
        proposed = {"trousers": {"trousers", "pants", "jeans"}, "shorts": {"shorts"}, "skirt": {"skirt", "skirts"}}
        named = {k for k, v in proposed.items() if ws & v}
        if named:
            return kind in named
        if "long" in ws or "short" in ws:
            return t.get("lower_length") in ws
        return True
    if attribute == "gender":
        female = bool(ws & {"woman", "girl", "female", "she", "lady"})
        male = bool(ws & {"man", "boy", "male", "he", "gentleman"})
        return (t.get("gender") == "female") == female if female != male else True
    return True
