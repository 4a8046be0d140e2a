"""Lite questioners: information gain over the candidate posterior, and a fixed-template baseline.

Attributes are the lite layout's: the colour of each body region (head, upper, lower, feet) and
the garment-shape cues (lower_length, sleeves). For candidate i with posterior weight π_i and
value distribution p_i(v) (read from its vector), the witness's answer A has the mixture
distribution m = Σ π_i p_i, and the expected information gain about which candidate is the person
is the mutual information I(candidate; A) = H(m) − Σ π_i H(p_i), in bits.
"""

from __future__ import annotations

import numpy as np

from ..interview.answers import clean_answer
from ..interview.protocols import QuestionContext, SuggestedQuestion
from .calibration import RELIABILITY, satisfied
from .colours import COLOUR_TERMS
from .layout import CUE_VALUES, REGIONS, cue_index, decode, region_index
from .parser import Constraints, parse

ATTRIBUTES: tuple[str, ...] = ("upper", "lower", "lower_length", "feet", "head", "sleeves")
LABELS = {"head": "hair colour", "upper": "upper-body colour", "lower": "lower-body colour", "feet": "shoe colour",
          "lower_length": "lower-garment length", "sleeves": "sleeve length"}
DEFAULT_NOUNS = {"head": "hair", "upper": "top", "lower": "trousers", "feet": "shoes"}
YESNO_SHARE = 0.6  # one value holding this much of the mass: ask yes/no about it
CHOICE_SHARE = 0.75  # 2-4 values (each >= CHOICE_MIN) holding this much: multiple choice
CHOICE_MIN = 0.08
DISAGREE_BELOW = 0.2  # a settled attribute is asked again only when the top candidates match it less than this
MIN_GAIN = 0.02  # bits (after weighing by reliability): below this a question is not worth the witness's time
#: below this reliability a colour question names no colours ("What colour were his trousers?"): offering
#: colours read from noisy pixels leads the witness. With the reliabilities fitted on real crops
#: (all below 0.7) every colour question is open; choices are offered on clean (synthetic) crops only.
OFFER_MIN_RELIABILITY = 0.7
GENERIC = "Is there anything else you remember about the person — a bag, a hat, their hair?"


def attribute_values(attribute: str, vectors: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """Value names and per-row value distributions (N, V), rows summing to 1, for lite vectors (N, D)."""
    dists, cues = decode(vectors)
    if attribute in REGIONS:
        return COLOUR_TERMS, dists[:, region_index(attribute)].astype(np.float64)
    p = cues[:, cue_index(attribute)].astype(np.float64)
    return CUE_VALUES[attribute], np.stack([p, 1.0 - p], axis=1)  # p is of CUE_VALUES[attribute][0]


def information_gain(weights: np.ndarray, dists: np.ndarray) -> tuple[float, np.ndarray]:
    """Expected information gain in bits of an answer with per-candidate distributions ``dists``
    (k, V) under candidate weights (k,), and the answer's mixture distribution (V,)."""
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    mix = w @ dists
    return float(_entropy(mix) - w @ _entropy(dists)), mix


def _entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1.0)
    return -(p * np.log2(p)).sum(-1)


class _Words:
    """Pronouns and garment nouns for phrasing, from what the witness said."""

    def __init__(self, initial: str, cons: Constraints):
        toks = set(initial.lower().replace(",", " ").replace(".", " ").split())
        if toks & {"woman", "girl", "lady", "she", "her", "female"}:
            self.pron, self.poss = "she", "her"
        elif toks & {"man", "boy", "guy", "he", "his", "male", "gentleman"}:
            self.pron, self.poss = "he", "his"
        else:
            self.pron, self.poss = "the person", "their"
        self.nouns = cons.nouns

    def noun(self, region: str) -> tuple[str, bool]:
        """(noun, plural) for a region."""
        noun = self.nouns.get(region, DEFAULT_NOUNS[region])
        if noun in ("tshirt", "tshirts"):
            noun = "T-shirt"
        return noun, noun.endswith("s") and noun != "dress"


def phrase(attribute: str, kind: str, values: list[str], words: _Words) -> str:
    """The question for ``attribute`` of ``kind`` (descriptive | yesno | choice) offering ``values``."""
    if attribute == "lower_length":
        if kind == "yesno":
            wear = "shorts or a skirt" if values[0] == "short" else "long trousers"
            return f"Was {words.pron} wearing {wear}?"
        return f"Was {words.pron} wearing long trousers, shorts or a skirt?"
    if attribute == "sleeves":
        if kind == "yesno":
            return f"Did {words.poss} top have {values[0]} sleeves?"
        return f"Did {words.poss} top have long or short sleeves?"
    noun, plural = words.noun(attribute)
    be = "were" if plural else "was"
    if kind == "yesno":
        return f"{be.capitalize()} {words.poss} {noun} {values[0]}?"
    if kind == "choice":
        labelled = [f"{'ABCD'[i]}) {v}" for i, v in enumerate(values)]
        options = f"{labelled[0]} or {labelled[1]}" if len(labelled) == 2 else \
            ", ".join(labelled[:-1]) + f", or {labelled[-1]}"
        return f"{be.capitalize()} {words.poss} {noun} {options}?"
    return f"What colour {be} {words.poss} {noun}?"


def question_kind(values: tuple[str, ...], mix: np.ndarray, attribute: str | None = None) -> tuple[str, list[str]]:
    """Choose the question type from the answer's mixture distribution: (kind, values to offer). The
    colour of an attribute the camera shows unreliably (``OFFER_MIN_RELIABILITY``) is asked openly:
    offering colours read from noisy pixels would lead the witness."""
    if attribute in REGIONS and RELIABILITY.get(attribute, 1.0) < OFFER_MIN_RELIABILITY:
        return "descriptive", []
    order = np.argsort(-mix)
    if mix[order[0]] >= YESNO_SHARE:
        return "yesno", [values[order[0]]]
    for n in (2, 3, 4):
        top = order[:n]
        if len(top) == n and mix[top].sum() >= CHOICE_SHARE and mix[top].min() >= CHOICE_MIN:
            return "choice", [values[i] for i in top]
    return "descriptive", []


def _query(context: QuestionContext) -> str:
    if context.query:
        return context.query
    parts = [context.initial_description.strip()] + [clean_answer(t.answer) for t in context.dialogue]
    return " ".join(p for p in parts if p)


def _asked(context: QuestionContext) -> set[str]:
    """Attributes never to ask about again: asked, skipped, or answered "don't know"."""
    return set(context.asked_attributes) | {t.attribute for t in context.dialogue if t.attribute}


def _asked_texts(context: QuestionContext) -> set[str]:
    """Questions already put to the witness or skipped, normalised: never suggested twice."""
    return {_norm(q) for q in list(getattr(context, "asked_questions", ()) or ())
            + [t.question for t in context.dialogue]}


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _closed(context: QuestionContext, cons: Constraints) -> set[str]:
    """Attributes the template baseline skips: asked, or already settled by the witness's words."""
    return _asked(context) | cons.attributes()


def _fallback(name: str, context: QuestionContext, why: str) -> SuggestedQuestion:
    """The open question once; after it was asked or skipped, say plainly that nothing useful is left."""
    if _norm(GENERIC) not in _asked_texts(context):
        return SuggestedQuestion(GENERIC, f"{why}; an open question may bring out something new", None,
                                 "descriptive", name)
    return SuggestedQuestion("", f"Nothing useful is left to ask: {why}. Type your own question, or stop "
                                 "here: everything said so far is saved in the case.", None, "none", name)


def agreement(attribute: str, cons: Constraints, weights: np.ndarray, vectors: np.ndarray) -> float:
    """How far the top candidates (posterior ``weights``) satisfy what the witness said about a settled
    ``attribute``: 1.0 all of them do, 0.0 none does."""
    dists, cues = decode(vectors)
    w = np.asarray(weights, dtype=np.float64) / max(float(np.sum(weights)), 1e-12)
    if attribute in REGIONS:
        said = [c for c in cons.colours if c.region == attribute and c.positive and c.weight >= 0.5]
        if not said:
            return 1.0
        q = np.max([satisfied(dists[:, region_index(attribute)], c.colour, c.shade) for c in said], axis=0)
        return float(w @ q)
    said = [c for c in cons.cues if c.cue == attribute and c.weight >= 0.5]
    if not said:
        return 1.0
    p = cues[:, cue_index(attribute)].astype(np.float64)
    q = p if said[0].value == CUE_VALUES[attribute][0] else 1.0 - p
    return float(w @ q)


class InfoGainQuestioner:
    """Asks about the attribute whose answer is expected to tell the top candidates apart best, the
    expected gain weighed by how reliably the engine sees the attribute (``calibration.RELIABILITY``).

    Never asks about what was asked, skipped or settled by the witness's words (unless the top
    candidates flatly disagree with what was said, and the rationale says so); never suggests the
    same question twice; says so when nothing useful is left."""

    name = "infogain"

    def ask(self, context: QuestionContext) -> SuggestedQuestion:
        cons = parse(_query(context))
        settled = cons.attributes()
        # said only in answer to another question: not settled (it weighs less), but asked about by name
        volunteered = {c.region for c in cons.colours if c.off_question and c.positive} | \
                      {c.cue for c in cons.cues if c.off_question}
        open_attrs = [a for a in ATTRIBUTES if a not in _asked(context)]
        topk = np.asarray(context.topk, dtype=np.int64)
        if not open_attrs or len(topk) == 0:
            return _fallback(self.name, context, "every attribute the engine reads has been asked, skipped "
                                                 "or described")
        weights = np.asarray(context.topk_posterior, dtype=np.float64)[:len(topk)]
        if weights.sum() <= 0:
            weights = np.ones(len(topk))
        vectors = np.asarray(context.vectors[topk], dtype=np.float32)  # the top-k rows only (fp16/int8 files)
        asked_texts = _asked_texts(context)
        words = _Words(context.initial_description, cons)
        best = None
        for attribute in open_attrs:  # ATTRIBUTES order breaks ties
            why = ""
            if attribute in settled:
                agree = agreement(attribute, cons, weights, vectors)
                if agree >= DISAGREE_BELOW:
                    continue  # the witness settled it and the candidates do not contradict it
                why = (f" (the witness described the {LABELS[attribute]}, but the {len(topk):,} best-ranked images "
                       f"do not look like it — {100 * agree:.0f}% of them, weighed by how well they match — so this "
                       "asks to confirm)")
            elif attribute in volunteered:
                why = (f" (the witness mentioned the {LABELS[attribute]} when asked about something else, so this "
                       "asks about it directly)")
            values, dists = attribute_values(attribute, vectors)
            gain, mix = information_gain(weights, dists)
            gain *= RELIABILITY[attribute]
            if gain < MIN_GAIN:
                continue
            kind, offered = question_kind(values, mix, attribute)
            text = phrase(attribute, kind, offered, words)
            if _norm(text) in asked_texts:
                kind, offered = "descriptive", []
                text = phrase(attribute, kind, offered, words)
                if _norm(text) in asked_texts:
                    continue
            if best is None or gain > best[1] + 1e-9:
                best = (attribute, gain, values, mix, kind, text, why)
        if best is None:
            return _fallback(self.name, context, "the best-ranked images look alike in every colour and shape "
                                                 "the software can read")
        attribute, gain, values, mix, kind, text, why = best
        order = np.argsort(-mix)[:2]
        shares = ", ".join(f"{values[i]} {100 * mix[i]:.0f}%" for i in order)
        rationale = (f"the top candidates differ most in {LABELS[attribute]}: {shares} — expected gain {gain:.2f} "
                     f"bits, weighed by how reliably the camera shows it{why}")
        return SuggestedQuestion(text, rationale, attribute, kind, self.name)


class TemplateQuestioner:
    """SimIRV-style baseline: fixed descriptive templates in ``ATTRIBUTES`` order, skipping
    attributes already asked, skipped or settled by the witness's words, and questions already put."""

    name = "template"

    def ask(self, context: QuestionContext) -> SuggestedQuestion:
        cons = parse(_query(context))
        closed = _closed(context, cons)
        asked_texts = _asked_texts(context)
        for attribute in ATTRIBUTES:
            if attribute not in closed:
                text = phrase(attribute, "descriptive", [], _Words(context.initial_description, cons))
                if _norm(text) in asked_texts:
                    continue
                return SuggestedQuestion(text, f"next fixed template: {LABELS[attribute]}", attribute,
                                         "descriptive", self.name)
        return _fallback(self.name, context, "every attribute the engine reads has been asked, skipped or "
                                             "described")


QUESTIONERS = {"infogain": InfoGainQuestioner, "template": TemplateQuestioner}
