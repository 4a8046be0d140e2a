"""Witness words -> soft constraints on body-region colours and garment shape (lite engine).

Rules, in order of application:

* sentences saying the witness does not know ("I don't know", "not sure", ...) are dropped; a
  hedge ("maybe", "I think") halves the weight of a sentence's constraints;
* a colour group ("dark blue", "red and white", "black leather") colours the garment noun that
  directly follows it, else the most recently named garment, else the upper body;
* a negator ("not", "no", "without", "...n't") negates colours up to the end of its clause (a
  comma, a full stop, "but", ...), so "No, it was blue" is a positive blue and "not red" a negative;
* shorts and skirts mean a short lower garment, trousers, jeans and pants a long one; "jeans" with no
  colour given for the lower body suggests blue, weakly; sleeve words give the sleeves cue;
* a colour said of a part ("red on the shoulders", "white stripes") is a detail (``DETAIL_WEIGHT``);
  "a black man" says the skin, not the clothes; a bald or shaved head has no hair colour; a colour
  given to a bag or papers reaches no garment; a long coat also colours the legs (``LONG_COAT_LOWER``);
* an answer's statements about another garment than the one its question asked about ("What colour
  were his shoes?" - "He wore a navy jacket") are not what was asked: they count as hedged
  (``OFF_QUESTION_WEIGHT``), marked so by ``context.contextualise`` (``asked_marker``);
* an answer that contradicts what the witness said firmly before ("shaved head", then "his hair was
  blue"; "a dark jacket", then "a white jacket") counts for less (``CONTRADICTED_WEIGHT``) and says
  so, marked by ``contradictions.reconcile`` (``contradiction_marker``);
* what an answer says again that the witness said before, when its question did not ask about it (an
  open question asks about none), adds nothing: the earlier statement keeps its weight; marked by
  ``contradictions.reconcile`` (``repeats_marker``) and shown as "said before; counted once". What one
  answer says about garments not asked about is one statement, its weight shared among them;
* a hair colour that contradicts a bare head counts nothing (``BARE_HEAD_CONTRADICTED_WEIGHT``): the engine
  cannot score "bald", and a contradiction never outweighs what it contradicts;
* what only an answer says (not the description, nor an earlier statement as firmly) is marked
  ``answered`` (``answer_marker``, set by ``context.contextualise``) and counts less than the same words
  in the description (``calibration.answer_factor``); its label says how much.

Regions and attributes are those of ``layout``: head, upper, lower, feet, lower_length, sleeves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from .vocabulary import (BALD_WORDS, COLOUR_WORDS, DETAIL_WORDS, DONT_KNOW, GARMENTS, HEDGE_PHRASES, HEDGES,
                         INTENSIFIERS, KNOWN_WORDS, LENGTH_NOUNS, LONG_SLEEVE_PHRASES, MODIFIERS, NEGATORS,
                         PERSON_WORDS, REGION_WORDS, SCOPE_ENDS, SHADE_ONLY, SHADE_WORDS, SHORT_SLEEVE_PHRASES,
                         STOPWORDS)

#: colour words that only spell a term another way: not shown as what the witness said
SPELLINGS = frozenset({"gray", "blond"})
LONG_SLEEVE_GARMENTS = frozenset("jacket coat sweater hoodie jumper cardigan sweatshirt parka blazer pullover".split())
SHORT_SLEEVE_GARMENTS = frozenset("tshirt tshirts tee".split())
JEANS_BLUE_WEIGHT = 0.3
#: a colour said of a part of a garment ("red on the shoulders") covers perhaps a quarter of its region
DETAIL_WEIGHT = 0.25
#: a long coat ("a long black coat", "knee-length coat") hides about half of the legs' region: its
#: colour also counts there, at this weight
LONG_COAT_LOWER = 0.5
COATS = frozenset("coat coats overcoat raincoat trenchcoat mac parka".split())
DENIM = frozenset("jeans denim".split())
#: statements that do not answer the question asked (another garment) weigh this much: as much as a hedge.
#: A witness who answers another question than the one asked may be repeating what they said before, or
#: mixing people up; what they volunteer still counts, weakly. An answer that speaks of several garments
#: not asked about ("She had curly blonde hair. She wore a long black coat, blue jeans, light brown shoes."
#: to "What colour was her hair?") is one such statement, not several: if the witness is reciting what
#: they remember of someone else, every part of the recital is wrong together. Its weight is shared among
#: the garments it speaks of (each counts ``OFF_QUESTION_WEIGHT`` / their number; a garment's colour and
#: its length or sleeves are one garment), or among those it says something new about when the rest
#: repeats what was said before (``_reshared``).
OFF_QUESTION_WEIGHT = 0.5
#: a later answer that contradicts what the witness said firmly before weighs this much (see
#: ``contradictions``): one of the two statements is wrong and the engine cannot tell which; the earlier,
#: freer recall is kept at its weight (a question can suggest an answer; a description is unprompted),
#: the later one counts as much as a hedged guess offered with alternatives. Not fitted.
CONTRADICTED_WEIGHT = 0.25
#: ... but never more than what it contradicts: a hair colour after "bald" or "shaved head" contradicts a
#: statement the engine cannot score (a bare head gives no hair colour to read), so a quarter of it would be
#: the only evidence left about the head, and the engine would rank by the later, doubtful statement over
#: the earlier one it cannot see. It is shown, and counts nothing.
BARE_HEAD_CONTRADICTED_WEIGHT = 0.0
#: asked attribute -> the attributes an answer to it may state without leaving the question (a garment's
#: colour and its length or sleeves are about the same garment)
ON_QUESTION: dict[str, frozenset[str]] = {
    "head": frozenset({"head"}), "feet": frozenset({"feet"}),
    "upper": frozenset({"upper", "sleeves"}), "sleeves": frozenset({"sleeves", "upper"}),
    "lower": frozenset({"lower", "lower_length"}), "lower_length": frozenset({"lower_length", "lower"}),
}
_CLAUSE_PUNCT = frozenset(",;:")
_TOKEN = re.compile(r"[a-z']+|[.,;:!?]")


@dataclass(frozen=True)
class ColourConstraint:
    """The witness said ``region`` was (``positive``) or was not ``colour``, with confidence ``weight``."""

    region: str
    colour: str  # a basic colour term, or "dark"/"light" for a shade said on its own
    positive: bool
    weight: float
    shade: str = ""  # "dark", "light" or "": widens the colour towards that family
    detail: bool = False  # said of a part of the garment ("red on the shoulders"): weighs DETAIL_WEIGHT
    off_question: bool = False  # said in answer to a question about another garment: weighs less
    contradicts: str = ""  # the earlier words this statement contradicts ("shaved head"): weighs less
    answered: bool = False  # said in answer to a question (not the description): a lapse is possible
    repeated: bool = False  # said again, unasked, after the witness said it before: adds nothing
    said: str = field(default="", compare=False)  # the witness's colour word when it is not the term ("blonde")

    @property
    def firm(self) -> bool:
        return self.weight >= FIRM_WEIGHT

    def key(self) -> str:
        """A stable name for removing this constraint with a ``[drop KEY]`` correction."""
        return f"{self.region} {self.colour} {'+' if self.positive else '-'}"

    def label(self) -> str:
        """Plain words, e.g. "top: dark blue (sure)", "shoes: not white (less sure)"."""
        plain = self.colour in ("dark", "light") or self.shade not in ("dark", "light") or \
            (self.shade, self.colour) in (("dark", "black"), ("light", "white"))
        colour = self.colour if plain else f"{self.shade} {self.colour}"
        how = REPEATED_NOTE if self.repeated else contradiction_note(self.contradicts, self.weight) \
            if self.contradicts else "detail" if self.detail else "not what was asked" if self.off_question \
            else strength_word(self.weight)
        said = f"said ‘{self.said}’; " if self.said else ""  # what the witness said, beside what it was read as
        return f"{REGION_WORDS[self.region]}: {'' if self.positive else 'not '}{colour} ({said}{how}{answer_note(self)})"


@dataclass(frozen=True)
class CueConstraint:
    """A garment-shape attribute (``lower_length`` or ``sleeves``) has ``value`` short or long."""

    cue: str
    value: str
    weight: float
    off_question: bool = False  # said in answer to a question about another garment
    contradicts: str = ""  # the earlier words this statement contradicts ("shorts")
    answered: bool = False  # said in answer to a question (not the description)
    repeated: bool = False  # said again, unasked, after the witness said it before: adds nothing

    def key(self) -> str:
        return f"cue {self.cue} {self.value}"

    def label(self) -> str:
        what = {("lower_length", "short"): "legs: shorts or skirt", ("lower_length", "long"): "legs: long trousers",
                ("sleeves", "short"): "sleeves: short", ("sleeves", "long"): "sleeves: long"}[(self.cue, self.value)]
        how = REPEATED_NOTE if self.repeated else contradiction_note(self.contradicts, self.weight) \
            if self.contradicts else "not what was asked" if self.off_question else \
            strength_word(self.weight)
        return f"{what} ({how}{answer_note(self)})"


#: a statement weighing this much or more was said without doubt or alternatives
FIRM_WEIGHT = 0.7
#: how firmly a statement counts, as the chips, the CLI and the report show it. Plain words for a reader, not
#: the engine's "firm" / "hedged". Labels are never stored to be shown again: a case made before this wording
#: shows the new words everywhere, except in the audit entries of its corrections, which keep the words shown
#: at the time (an audit log is a record; docs/lite-engine.md explains the old words)
SURE, LESS_SURE = "sure", "less sure"

#: what "sure" and "less sure" mean, for a reader (the report, the app's tooltip)
STRENGTH_LEGEND = ("‘sure’: the witness said it without doubt or alternatives; it counts in full or nearly. "
                   "‘less sure’: said with doubt (‘I think’, ‘maybe’), offered with alternatives (‘red or blue’), "
                   "a colour between two names (‘teal’: blue or green), or only implied by the garment (a jacket "
                   "has long sleeves; a long coat covers part of the legs); it counts half as much or less.")


def strength_word(weight: float) -> str:
    """"sure" for a statement that counts in full, "less sure" for one that weighs half or less."""
    return SURE if weight >= FIRM_WEIGHT else LESS_SURE


#: what "answer weighed N%" means, for a reader (the report, the app's tooltip)
ANSWER_NOTE_LEGEND = ("‘answer weighed N%’: what the witness said only in answer to a question counts N% as "
                      "much as the same words in the first description, because the camera shows that part of the "
                      "clothing only so reliably and the question was asked where the images differ on it.")


#: how a statement said again unasked is shown (``repeats_marker``)
REPEATED_NOTE = "said before; counted once"


def answer_note(c: ColourConstraint | CueConstraint) -> str:
    """How much a statement only an answer made counts against the same words in the description, as the
    chips, the CLI and the report show it: "; answer weighed 23%" (``calibration.answer_factor``)."""
    if not c.answered or c.weight <= 0.0 or c.repeated:
        return ""
    from .calibration import answer_factor  # noqa: PLC0415

    factor = answer_factor(c.region if isinstance(c, ColourConstraint) else c.cue)
    return f"; answer weighed {round(100 * factor)}%" if factor < 0.995 else ""


def contradiction_note(earlier: str, weight: float = 1.0) -> str:
    """How a constraint that contradicts the witness's earlier words is shown ("; not counted" when it
    weighs nothing: it contradicts a statement the engine cannot score)."""
    return f"contradicts the earlier \u2018{earlier}\u2019" + ("; not counted" if weight <= 0.0 else "")


@dataclass
class Constraints:
    """Everything the lite engine understood from a query. Empty when nothing was understood."""

    colours: list[ColourConstraint] = field(default_factory=list)
    cues: list[CueConstraint] = field(default_factory=list)
    #: region -> the last garment noun the witness used for it ("jeans"), for phrasing questions
    nouns: dict[str, str] = field(default_factory=dict)
    #: words of the text the lite engine could not use (a bag, "bald", "glasses", ...), in order
    unused: list[str] = field(default_factory=list)
    #: the witness's words for a head without hair ("shaved head", "bald"), when they said so
    bare_head: str = ""

    def items(self) -> list[tuple[str, str]]:
        """(key, label) of every constraint, colours first."""
        return [(c.key(), c.label()) for c in self.colours] + [(c.key(), c.label()) for c in self.cues]

    def labels(self) -> list[str]:
        """One plain-words label per constraint, e.g. ["top: black (sure)", "legs: long trousers (less sure)"]."""
        return [c.label() for c in self.colours] + [c.label() for c in self.cues]

    def __bool__(self) -> bool:
        return bool(self.colours or self.cues)

    def each(self, change) -> "Constraints":
        """The same understanding with ``change`` (a constraint -> a constraint) applied to every colour and cue."""
        return Constraints([change(c) for c in self.colours], [change(c) for c in self.cues], dict(self.nouns),
                           list(self.unused), self.bare_head)

    def without(self, keys: set[str]) -> "Constraints":
        """The same understanding less the constraints whose ``key()`` is in ``keys`` (struck out)."""
        return Constraints([c for c in self.colours if c.key() not in keys],
                           [c for c in self.cues if c.key() not in keys], dict(self.nouns), list(self.unused),
                           self.bare_head)

    def attributes(self, min_weight: float = 0.5) -> set[str]:
        """Attributes the witness already settled: regions with a positive colour and cues, each of
        weight >= ``min_weight`` (a "not red", a weak guess from "jeans" or a bare "dark" / "light"
        leaves the colour open: "a dark jacket" may still be asked "What colour was his jacket?")."""
        return ({c.region for c in self.colours
                 if c.positive and c.weight >= min_weight and c.colour not in ("dark", "light")}
                | {c.cue for c in self.cues if c.weight >= min_weight})

    def __str__(self) -> str:
        if not self:
            return "no constraints"
        parts = []
        for c in self.colours:
            w = "" if c.weight == 1.0 else f" ({c.weight:g})"
            shade = f"{c.shade} " if c.shade and c.shade != c.colour else ""
            parts.append(f"{c.region}: {'' if c.positive else 'not '}{shade}{c.colour}{w}")
        for c in self.cues:
            w = "" if c.weight == 1.0 else f" ({c.weight:g})"
            parts.append(f"{c.cue}: {c.value}{w}")
        return "; ".join(parts)


DROP = re.compile(r"\[drop ([^\]]+)\]")


def drop_marker(key: str) -> str:
    """The text that removes the constraint ``key`` from a query (an investigator's correction)."""
    return f"[drop {key}]"


def parse(text: str) -> Constraints:
    """Parse a description or a space-joined query. Cached: the loop re-parses the same query often.

    ``[drop KEY]`` markers (see :func:`drop_marker`) remove the constraint named KEY wherever it came
    from: the investigator struck it out. ``[answer]``, ``[asked ...]`` and ``[contradicts ...]`` markers
    (see :func:`answer_marker`, :func:`asked_marker`, :func:`contradiction_marker`) make an answer's
    constraints weigh less."""
    text = text or ""
    if ANSWER.search(text):  # read as one text; what only the answers say is marked as answered
        return _answered(parse(ANSWER.sub(lambda m: m.group(1), text)), parse(ANSWER.sub(" ", text)))
    dropped = {m.strip() for m in DROP.findall(text)}
    repeats = REPEATS.findall(text)
    if repeats:  # what an answer says again unasked adds nothing: the earlier statement stands
        cons = parse(REPEATS.sub(" ", text))
        for spec, answer in repeats:
            cons = _merge(cons, _reshared(_repeated(parse(DROP.sub(" ", answer)), set(spec.split("|")))))
        return cons.without(dropped)
    contra = CONTRA.findall(text)
    base = CONTRA.sub(" ", text)
    asked = ASKED.findall(base)
    if not dropped and not asked and not contra:
        return _parse_cached(text)
    cons = _parse_cached(ASKED.sub(" ", DROP.sub(" ", base)))
    for attribute, answer in asked:  # each marked answer alone: its other garments weigh less
        cons = _merge(cons, _off_question(_parse_cached(DROP.sub(" ", answer)), attribute))
    for spec, answer in contra:  # an answer that contradicts the witness's earlier words
        cons = _merge(cons, _contradicted(parse(DROP.sub(" ", answer)), _conflict_spec(spec)))
    return cons.without(dropped)


ANSWER = re.compile(r"\[answer\](.*?)\[/answer\]", re.S)


def answer_marker(answer: str) -> str:
    """``answer`` marked as said in answer to a question, not in the witness's own description: its
    statements count less than the same words in the description (``calibration.answer_factor``)."""
    return f"[answer] {answer} [/answer]"


def _answered(cons: Constraints, own: Constraints) -> Constraints:
    """``cons`` (everything said) with the constraints that ``own`` (the text without its answers) does
    not give as firmly marked as answered."""
    said = {repeat_key(c): c.weight for c in [*own.colours, *own.cues]}
    return cons.each(lambda c: c if said.get(repeat_key(c), -1.0) >= c.weight else replace(c, answered=True))


CONTRA = re.compile(r"\[contradicts ([^\]]*)\](.*?)\[/contradicts\]", re.S)


def contradiction_marker(conflicts: dict[str, str], answer: str) -> str:
    """``answer`` marked as contradicting the witness's earlier words: ``conflicts`` maps each attribute
    (a body region or a shape cue) to the earlier words it contradicts ("head" -> "shaved head")."""
    spec = "|".join(f"{a}:{re.sub(r'[^a-z ]', ' ', words.lower()).strip()}" for a, words in conflicts.items())
    return f"[contradicts {spec}] {answer} [/contradicts]"


def _conflict_spec(spec: str) -> dict[str, str]:
    out = {}
    for part in spec.split("|"):
        attribute, _, words = part.partition(":")
        if attribute.strip():
            out[attribute.strip()] = " ".join(words.split())
    return out


def _contradicted(cons: Constraints, conflicts: dict[str, str]) -> Constraints:
    """``cons`` with what it says about each attribute of ``conflicts`` weighing ``CONTRADICTED_WEIGHT``
    times less (a hair colour after a bare head: ``BARE_HEAD_CONTRADICTED_WEIGHT``), each marked with the
    earlier words it contradicts."""
    def contradicted(c):
        attribute = _attribute(c)
        if attribute not in conflicts:
            return c
        bare = attribute == "head" and bool(set(conflicts[attribute].split()) & BALD_WORDS)
        factor = BARE_HEAD_CONTRADICTED_WEIGHT if bare else CONTRADICTED_WEIGHT
        return replace(c, weight=c.weight * factor, contradicts=conflicts[attribute])

    return cons.each(contradicted)


REPEATS = re.compile(r"\[repeats ([^\]]*)\](.*?)\[/repeats\]", re.S)


def repeat_key(c: ColourConstraint | CueConstraint) -> str:
    """The name under which a statement counts once (its key, and a colour's shade): "feet brown + light"."""
    return f"{c.key()} {c.shade}".strip() if isinstance(c, ColourConstraint) else c.key()


def repeats_marker(keys: list[str], answer: str) -> str:
    """``answer`` marked as saying again, unasked, the statements ``keys`` (``repeat_key``) the witness made
    before: they add nothing (the earlier statement keeps its weight) and are shown as said before."""
    return f"[repeats {'|'.join(keys)}] {answer} [/repeats]"


def _repeated(cons: Constraints, keys: set[str]) -> Constraints:
    """``cons`` with the statements named in ``keys`` weighing nothing, marked as said before."""
    return cons.each(lambda c: replace(c, weight=0.0, repeated=True) if repeat_key(c) in keys else c)


ASKED = re.compile(r"\[asked ([a-z_]+)\](.*?)\[/asked\]", re.S)


def asked_marker(attribute: str, answer: str) -> str:
    """``answer`` marked as given to a question about ``attribute`` (a body region or a shape cue): what
    it says about other garments is not what was asked (``OFF_QUESTION_WEIGHT``)."""
    return f"[asked {attribute}] {answer} [/asked]"


def off_question(cons: Constraints, attribute: str) -> list[str]:
    """The attributes ``cons`` states that an answer to a question about ``attribute`` was not asked for."""
    on = ON_QUESTION.get(attribute)
    if on is None:
        return []
    said = [c.region for c in cons.colours] + [c.cue for c in cons.cues]
    return list(dict.fromkeys(a for a in said if a not in on))


def _attribute(c: ColourConstraint | CueConstraint) -> str:
    """What a statement is about: a colour's body region, or a shape cue."""
    return c.region if isinstance(c, ColourConstraint) else c.cue


def _garment(c: ColourConstraint | CueConstraint) -> frozenset[str]:
    """The garment a statement is about: a colour's region with its length or sleeves (``ON_QUESTION``)."""
    return ON_QUESTION[_attribute(c)]


def _reshared(cons: Constraints) -> Constraints:
    """An answer whose repeats weigh nothing (``_repeated``): its one statement's weight not what was asked
    is shared among the garments it still says something new about, not among every garment it named."""
    off = [c for c in cons.colours + cons.cues if c.off_question]
    every, new = {_garment(c) for c in off}, {_garment(c) for c in off if not c.repeated}
    if not new or len(new) == len(every):
        return cons
    factor = len(every) / len(new)
    return cons.each(lambda c: replace(c, weight=c.weight * factor) if c.off_question and not c.repeated else c)


def _off_question(cons: Constraints, attribute: str) -> Constraints:
    on = ON_QUESTION.get(attribute)
    if on is None:
        return cons
    garments = {ON_QUESTION[a] for a in off_question(cons, attribute)}  # "blue jeans": colour and length, one
    factor = OFF_QUESTION_WEIGHT / max(1, len(garments))  # one statement, however many garments it names
    return cons.each(lambda c: c if _attribute(c) in on else replace(c, weight=c.weight * factor, off_question=True))



def _merge(first: Constraints, then: Constraints) -> Constraints:
    """Both texts' constraints; a constraint stated in both counts once, at its larger weight (a
    restatement is not new evidence); an explicit length or sleeve statement beats the other value."""
    colours: dict[str, ColourConstraint] = {}
    for c in first.colours + then.colours:
        if c.key() + c.shade not in colours or c.weight > colours[c.key() + c.shade].weight:
            colours[c.key() + c.shade] = c
    cues: dict[tuple[str, str], CueConstraint] = {}
    for c in first.cues + then.cues:
        if (c.cue, c.value) not in cues or c.weight > cues[(c.cue, c.value)].weight:
            cues[(c.cue, c.value)] = c
    for cue in ("lower_length", "sleeves"):
        short, long_ = cues.get((cue, "short")), cues.get((cue, "long"))
        if short and long_:
            cues.pop((cue, "long") if short.weight >= long_.weight else (cue, "short"))
    return Constraints(list(colours.values()), list(cues.values()), {**first.nouns, **then.nouns},
                       list(dict.fromkeys(first.unused + then.unused)), then.bare_head or first.bare_head)


@lru_cache(maxsize=256)
def _parse_cached(text: str) -> Constraints:
    colours: dict[tuple[str, str, bool, str], float] = {}
    details: set[tuple[str, str, bool, str]] = set()  # keys said only of a part of a garment
    cues: dict[tuple[str, str], float] = {}
    nouns: dict[str, str] = {}
    unused: list[str] = []
    last: tuple[str, ...] | None = None  # regions of the most recent garment noun
    saw_jeans = False
    bare_head = ""
    said: dict[tuple, str] = {}  # constraint key -> the witness's colour word, when it is not the term
    for sentence in _sentences(text):
        toks = _TOKEN.findall(sentence)
        if last == ():
            last = None  # a bag named in an earlier sentence does not take this one's colours
        has_colour = any(t in COLOUR_WORDS or t in SHADE_ONLY for t in toks)
        if any(p in sentence for p in DONT_KNOW):
            if not has_colour:
                continue
            hedge = 0.5  # "Brown or dark, I'm not sure": a colour said with doubt counts, weakly
        else:
            hedge = 0.5 if any(t in HEDGES for t in toks) or any(p in sentence for p in HEDGE_PHRASES) else 1.0
        _sleeve_phrases(sentence, hedge, cues)
        bald = any(t in BALD_WORDS for t in toks)  # the head shows skin: no hair colour from this sentence
        if bald:  # kept in the witness's words: a later hair colour contradicts them (``contradictions``)
            word = next(t for t in toks if t in BALD_WORDS)
            after = toks[toks.index(word) + 1] if toks.index(word) + 1 < len(toks) else ""
            bare_head = f"{word} {after}" if after in ("head", "scalp") else word
        negated = False
        garment_seen = False  # a garment was named earlier in this sentence
        i = 0
        while i < len(toks):
            tok = toks[i]
            if tok in _CLAUSE_PUNCT or tok in SCOPE_ENDS:
                negated = False
            elif tok in NEGATORS or tok.endswith("n't"):
                negated = True
            elif tok in COLOUR_WORDS or (tok in SHADE_ONLY and not _next_is_colour(toks, i)):
                end, terms, alternatives, shades = _colour_group(toks, i)
                # "blonde" read as yellow; "navy blue" as dark blue; "dark blonde" keeps its shade
                words_for = _said_words(toks, i, end)
                if end < len(toks) and toks[end] in PERSON_WORDS:
                    unused.append(f"{' '.join(toks[i:end])} {toks[end]}")  # "a black man": skin, not clothes
                    i = end
                    continue
                detail = _is_detail(toks, end)
                garment = _garment_after(toks, end)
                if garment is None and not garment_seen:
                    # "Black, short hair.": the garment comes later in the sentence
                    garment = next((t for t in _until_scope_end(toks, end) if t in GARMENTS), None)
                if garment is not None:
                    regions = GARMENTS[garment]
                else:
                    regions = last if last is not None else ("upper",)
                weight = hedge * (0.5 if alternatives and not negated else 1.0) * (DETAIL_WEIGHT if detail else 1.0)
                # blue jeans: denim reads grey or dark; a colour given a shade of its own keeps it ("blue and
                # dark grey jeans": the blue is still denim)
                unshaded = "denim" if garment in DENIM else ""
                if garment in COATS and not negated and any(t in ("long", "knee", "ankle")
                                                            for t in toks[max(0, i - 2):end]):
                    for term, w in terms:  # the coat covers the upper legs too
                        key = ("lower", term, True, "" if term in ("dark", "light") else shades.get(term, unshaded))
                        colours[key] = max(colours.get(key, 0.0), w * weight * LONG_COAT_LOWER)
                        said.setdefault(key, words_for.get(term, ""))
                for region in regions:
                    if bald and region == "head":
                        continue
                    for term, w in terms:
                        key = (region, term, not negated, "" if term in ("dark", "light") else shades.get(term, unshaded))
                        if w * weight > colours.get(key, 0.0):
                            colours[key] = w * weight
                            said[key] = words_for.get(term, "")
                            (details.add if detail else details.discard)(key)
                i = end
                continue
            elif tok in GARMENTS:
                garment_seen = True
                last = GARMENTS[tok]  # () for a bag or papers: a colour after it is not a garment's
                if not GARMENTS[tok]:
                    unused.append(tok)  # a bag, glasses: not a body region the engine reads
                for region in GARMENTS[tok]:
                    nouns[region] = tok
                if tok in LENGTH_NOUNS:
                    value = LENGTH_NOUNS[tok]
                    if negated:
                        value = "long" if value == "short" else "short"
                    cues[("lower_length", value)] = max(cues.get(("lower_length", value), 0.0), hedge)
                if not negated and tok in SHORT_SLEEVE_GARMENTS | LONG_SLEEVE_GARMENTS:
                    value = "short" if tok in SHORT_SLEEVE_GARMENTS else "long"
                    cues[("sleeves", value)] = max(cues.get(("sleeves", value), 0.0), 0.5 * hedge)
                saw_jeans = saw_jeans or (tok == "jeans" and not negated)
            elif tok.isalpha() and tok not in KNOWN_WORDS and tok not in STOPWORDS and len(tok) > 2:
                unused.append(tok)
            i += 1
    if saw_jeans and not any(r == "lower" and pos for (r, _, pos, _) in colours):
        colours[("lower", "blue", True, "")] = JEANS_BLUE_WEIGHT
    for cue in ("lower_length", "sleeves"):  # an explicit statement beats a garment's implication
        short, long_ = cues.get((cue, "short"), 0.0), cues.get((cue, "long"), 0.0)
        if short and long_:
            cues.pop((cue, "long") if short >= long_ else (cue, "short"))
    return Constraints([ColourConstraint(r, c, p, w, sh, (r, c, p, sh) in details, said=said.get((r, c, p, sh), ""))
                        for (r, c, p, sh), w in colours.items()],
                       [CueConstraint(c, v, w) for (c, v), w in cues.items()], nouns,
                       list(dict.fromkeys(unused)), bare_head)


def _sentences(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"\bt[\s-]?shirt", "tshirt", text)
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)  # short-sleeved -> short sleeved, navy-blue -> navy blue
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def _garment_after(toks: list[str], end: int) -> str | None:
    """The garment noun right after a colour group, across up to two words the parser does not know
    ("light blue padded jacket", "black quilted gilet"): None when another word comes first."""
    for j in range(end, min(end + 3, len(toks))):
        if toks[j] in GARMENTS:
            return toks[j]
        if not toks[j].isalpha() or toks[j] in KNOWN_WORDS or toks[j] in STOPWORDS:
            return None
    return None


def _until_scope_end(toks: list[str], start: int) -> list[str]:
    """Tokens from ``start`` up to a word that ends a clause's scope ("but", "while", ...)."""
    out = []
    for t in toks[start:]:
        if t in SCOPE_ENDS or t in NEGATORS:
            break
        out.append(t)
    return out


def _is_detail(toks: list[str], end: int) -> bool:
    """Whether the colour group ending before ``end`` is said of a part of a garment: a detail word
    ("shoulders", "stripes", "sleeves") follows within a few words, before any other garment."""
    for t in toks[end:end + 4]:
        if t in DETAIL_WORDS:
            return True
        if t in _CLAUSE_PUNCT or t in {".", "!", "?"} or t in COLOUR_WORDS or (t in GARMENTS and t not in ("upper", "lower")):
            return False
    return False


def _next_is_colour(toks: list[str], i: int) -> bool:
    return i + 1 < len(toks) and toks[i + 1] in COLOUR_WORDS


#: words that may stand before a shade and belong with it in the witness's words ("very dark blonde")
_SHADE_DEGREES = frozenset("very quite really fairly rather".split())
#: shade words that are not colour words themselves ("navy" is: it is one of the colour's own words)
_SHADE_PREFIXES = frozenset(w for w in SHADE_WORDS if w not in COLOUR_WORDS)


def _shade_before(toks: list[str], j: int) -> list[str]:
    """The shade words right before the colour word at ``j``, as the witness said them: ["dark"] in "dark
    blonde hair", ["very", "dark"] in "very dark blonde"; [] when no shade word precedes it."""
    k = j
    while k > 0 and toks[k - 1] in _SHADE_PREFIXES:
        k -= 1
    if 0 < k < j and toks[k - 1] in _SHADE_DEGREES:
        k -= 1
    return toks[k:j]


def _said_words(toks: list[str], i: int, end: int) -> dict[str, str]:
    """For each colour term the colour group ``toks[i:end]`` gives, the witness's words for it when they are
    not just the term: "blonde" -> yellow, "navy blue" -> blue; nothing for "blue", "gray" or "red or blue".
    A shade said before the colour word stays with it ("dark blonde", not "blonde"); a "dark blue" still
    shows nothing (the label says it)."""
    words: dict[str, list[str]] = {}
    shade: dict[str, list[str]] = {}
    for j in range(i, end):
        for term, _ in COLOUR_WORDS.get(toks[j], ()):
            if term not in words:
                shade[term] = _shade_before(toks, j)
            words.setdefault(term, []).append(toks[j])
    out = {}
    for term, ws in words.items():
        if not any(w != term and w not in SPELLINGS for w in ws):
            continue
        if len(ws) == 1 or (len(ws) == 2 and ws[1] == term):  # "blonde"; "navy blue"
            out[term] = " ".join([*shade[term], *ws])
        # several words read as one colour ("light blue and navy"): no one word of the witness's is it
    return out


def _colour_group(toks: list[str], i: int) -> tuple[int, list[tuple[str, float]], bool, dict[str, str]]:
    """From a colour (or shade) word at ``i``: the index just past the group, its colour terms with
    weights, whether it offered alternatives ("red or blue"), and each term's shade ("dark", "light" or
    none). A shade belongs to the colour it qualifies: "dark blue", "navy" (dark blue), "cream" (light
    white); in "a red and navy jacket" the red is not dark, in "cream and black" the black is not light."""
    words, alternatives, j = [], False, i
    pending: set[str] = {SHADE_WORDS[toks[i - 1]]} if i > 0 and toks[i - 1] in SHADE_WORDS else set()
    of_word: list[set[str]] = []
    while j < len(toks):
        t = toks[j]
        if t in COLOUR_WORDS:
            words.append(t)
            of_word.append(pending | ({SHADE_WORDS[t]} if t in SHADE_WORDS else set()))
            pending = set()
        elif t in ("and", "or", ",") and j + 1 < len(toks) and (toks[j + 1] in COLOUR_WORDS
                                                                 or toks[j + 1] in SHADE_ONLY
                                                                 or toks[j + 1] in INTENSIFIERS):
            alternatives = alternatives or t == "or"
            pending = set()
        elif t in SHADE_WORDS:
            pending.add(SHADE_WORDS[t])
        elif t not in MODIFIERS and t not in INTENSIFIERS:
            break
        j += 1
    if pending and of_word:  # "blue, dark" / "navy blue dark": a shade after its colour
        of_word[-1] |= pending
    if any(w != "denim" for w in words):
        of_word = [sh for w, sh in zip(words, of_word) if w != "denim"]
        words = [w for w in words if w != "denim"]
    terms = [tw for w in words for tw in COLOUR_WORDS[w]] or list(SHADE_ONLY.get(toks[i], ()))
    shades: dict[str, set[str]] = {}
    for w, sh in zip(words, of_word):
        for term, _ in COLOUR_WORDS[w]:
            shades.setdefault(term, set()).update(sh)
    return j, terms, alternatives, {term: next(iter(sh)) for term, sh in shades.items() if len(sh) == 1}


def _sleeve_phrases(sentence: str, hedge: float, cues: dict) -> None:
    for phrases, value in ((SHORT_SLEEVE_PHRASES, "short"), (LONG_SLEEVE_PHRASES, "long")):
        if any(p in sentence for p in phrases):
            cues[("sleeves", value)] = max(cues.get(("sleeves", value), 0.0), hedge)
