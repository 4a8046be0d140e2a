"""Words for a synthetic person: initial and fine-grained descriptions, and question-answer pairs of
the paper's three kinds (descriptive, yes/no, multiple choice), all from the ground-truth attributes.

Attributes are the dict of ``Appearance.attributes()``: head, upper, lower, lower_length, lower_type,
sleeves, feet, bag, hat, gender. Every sentence is true of the attributes, so a simulated witness
can answer from them and a retriever can be scored against them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .colours import COLOUR_NAMES

HAIR_COLOURS = ("black", "brown", "grey", "white")
DESCRIPTIVE, YES_NO, MULTIPLE_CHOICE = "descriptive", "yes/no", "multiple-choice"


@dataclass(frozen=True)
class QA:
    topic: str
    kind: str       # DESCRIPTIVE | YES_NO | MULTIPLE_CHOICE
    question: str
    answer: str


def an(word: str) -> str:
    """The indefinite article for ``word`` ("an orange bag", "a red top")."""
    return "an" if word[:1].lower() in "aeiou" else "a"


class _Words:
    def __init__(self, a: dict):
        self.a = a
        female = a["gender"] == "female"
        self.pron, self.poss, self.noun = ("she", "her", "woman") if female else ("he", "his", "man")
        self.Pron, self.Poss = self.pron.capitalize(), self.poss.capitalize()

    def upper_noun(self) -> str:
        return "short-sleeved top" if self.a["sleeves"] == "short" else "long-sleeved top"

    def lower_phrase(self, with_colour: bool = True) -> str:
        c = f"{self.a['lower']} " if with_colour else ""
        return {"trousers": f"{c}long trousers", "shorts": f"{c}shorts",
                "skirt": f"{an(c or 'short')} {c}short skirt"}[self.a["lower_type"]]

    def lower_noun(self) -> tuple[str, bool]:
        """(noun, plural) for the lower garment."""
        return {"trousers": ("trousers", True), "shorts": ("shorts", True), "skirt": ("skirt", False)}[
            self.a["lower_type"]]


def fine_grained_sentences(a: dict) -> list[str]:
    """The fine-grained description as its sentences (these are also the record's ``captions``)."""
    w = _Words(a)
    out = [f"{w.Pron} has {a['head']} hair."]
    out.append(f"{w.Pron} is wearing {an(a['upper'])} {a['upper']} {w.upper_noun()} and {w.lower_phrase()}.")
    out.append(f"{w.Pron} wears {a['feet']} shoes.")
    out.append(f"{w.Pron} carries {an(a['bag'])} {a['bag']} bag." if a["bag"] else f"{w.Pron} is not carrying a bag.")
    out.append(f"{w.Pron} wears {an(a['hat'])} {a['hat']} hat." if a["hat"] else f"{w.Pron} is not wearing a hat.")
    return out


def initial_description(a: dict, rng: np.random.Generator) -> str:
    """A short first description naming one or two attributes, e.g. "A woman wearing a red top."."""
    w = _Words(a)
    options = [("wear", f"{an(a['upper'])} {a['upper']} top", 4.0), ("wear", w.lower_phrase(), 3.0),
               ("with", f"{a['head']} hair", 1.0)]
    if a["bag"]:
        options.append(("with", f"{an(a['bag'])} {a['bag']} bag", 1.5))
    if a["hat"]:
        options.append(("wear", f"{an(a['hat'])} {a['hat']} hat", 1.5))
    p = np.array([o[2] for o in options])
    k = 1 if rng.random() < 0.4 else 2
    chosen = sorted(rng.choice(len(options), size=k, replace=False, p=p / p.sum()).tolist())
    wear = [options[i][1] for i in chosen if options[i][0] == "wear"]
    with_ = [options[i][1] for i in chosen if options[i][0] == "with"]
    text = f"A {w.noun}"
    if with_:
        text += " with " + " and ".join(with_)
    if wear:
        text += (", wearing " if with_ else " wearing ") + " and ".join(wear)
    return text + "."


def _options(rng: np.random.Generator, truth: str, pool: tuple[str, ...]) -> tuple[list[str], int]:
    others = [c for c in pool if c != truth]
    picks = [others[i] for i in rng.choice(len(others), size=2, replace=False)] + [truth]
    order = rng.permutation(3)
    opts = [picks[i] for i in order]
    return opts, opts.index(truth)


def _mc(stem: str, opts: list[str], right: int) -> tuple[str, str]:
    letters = "ABC"
    q = f"{stem} A) {opts[0]}, B) {opts[1]}, or C) {opts[2]}?"
    return q, f"{letters[right]}) {opts[right][0].upper()}{opts[right][1:]}."


def question_pool(a: dict, rng: np.random.Generator) -> list[QA]:
    """Every question this person's attributes can answer, of all three kinds."""
    w = _Words(a)
    lower_noun, plural = w.lower_noun()
    parts = [("head", "hair", False, HAIR_COLOURS), ("upper", "top", False, COLOUR_NAMES),
             ("lower", lower_noun, plural, COLOUR_NAMES), ("feet", "shoes", True, COLOUR_NAMES)]
    if a["bag"]:
        parts.append(("bag", "bag", False, COLOUR_NAMES))
    if a["hat"]:
        parts.append(("hat", "hat", False, COLOUR_NAMES))
    pool: list[QA] = []
    for key, noun, pl, colours in parts:
        be, was = ("are", "Were") if pl else ("is", "Was")
        truth = a[key]
        pool.append(QA(key, DESCRIPTIVE, f"What colour {be} {w.poss} {noun}?",
                       f"{w.Poss} {noun} {be} {truth}."))
        guess = truth if rng.random() < 0.4 else [c for c in colours if c != truth][int(rng.integers(len(colours) - 1))]
        yes = guess == truth
        pool.append(QA(key, YES_NO, f"{be.capitalize()} {w.poss} {noun} {guess}?",
                       f"{'Yes' if yes else 'No'}, {w.poss} {noun} {be} {truth}."))
        opts, right = _options(rng, truth, colours)
        q, ans = _mc(f"{was} {w.poss} {noun}", opts, right)
        pool.append(QA(key, MULTIPLE_CHOICE, q, ans))
    # presence of a hat and a bag
    hat = f"{an(a['hat'])} {a['hat']} hat" if a["hat"] else None
    bag = f"{an(a['bag'])} {a['bag']} bag" if a["bag"] else None
    pool.append(QA("hat", YES_NO, f"Is {w.pron} wearing a hat?",
                   f"Yes, {w.pron} is wearing {hat}." if hat else f"No, {w.pron} is not wearing a hat."))
    pool.append(QA("bag", YES_NO, f"Is {w.pron} carrying a bag?",
                   f"Yes, {w.pron} is carrying {bag}." if bag else f"No, {w.pron} is not carrying a bag."))
    pool.append(QA("bag", DESCRIPTIVE, f"What is {w.pron} carrying?",
                   f"{w.Pron} is carrying {bag}." if bag else f"{w.Pron} is not carrying anything."))
    # garment shapes
    pool.append(QA("lower_length", DESCRIPTIVE, f"What is {w.pron} wearing on {w.poss} legs?",
                   f"{w.Pron} is wearing {w.lower_phrase()}."))
    long = a["lower_type"] == "trousers"
    pool.append(QA("lower_length", YES_NO, f"Is {w.pron} wearing long trousers?",
                   f"Yes, {w.pron} is wearing {w.lower_phrase()}." if long
                   else f"No, {w.pron} is wearing {w.lower_phrase()}."))
    kinds = ["long trousers", "shorts", "a skirt"]
    right = ["trousers", "shorts", "skirt"].index(a["lower_type"])
    order = rng.permutation(3)
    opts = [kinds[i] for i in order]
    q, ans = _mc(f"Was {w.pron} wearing", opts, int(np.where(order == right)[0][0]))
    pool.append(QA("lower_length", MULTIPLE_CHOICE, q, ans))
    short = a["sleeves"] == "short"
    pool.append(QA("sleeves", DESCRIPTIVE, f"Does {w.poss} top have long or short sleeves?",
                   f"{w.Poss} top has {a['sleeves']} sleeves."))
    pool.append(QA("sleeves", YES_NO, f"Does {w.pron} wear a short-sleeved top?",
                   f"{'Yes' if short else 'No'}, {w.pron} wears {an(a['upper'])} {a['upper']} {w.upper_noun()}."))
    return pool


def dialogue(a: dict, rng: np.random.Generator, low: int = 5, high: int = 7) -> list[QA]:
    """``low``..``high`` question-answer pairs, at least one of each kind, at most two per topic."""
    pool = question_pool(a, rng)
    order = [pool[i] for i in rng.permutation(len(pool))]
    n = int(rng.integers(low, high + 1))
    chosen: list[QA] = []
    for kind in (DESCRIPTIVE, YES_NO, MULTIPLE_CHOICE):
        chosen.append(next(q for q in order if q.kind == kind and q not in chosen))
    for q in order:
        if len(chosen) >= n:
            break
        if q not in chosen and sum(c.topic == q.topic for c in chosen) < 2:
            chosen.append(q)
    return [chosen[i] for i in rng.permutation(len(chosen))]
