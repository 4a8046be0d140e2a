"""Answers that contradict what the witness said before (lite engine).

A witness who said "a bald man" and, asked about the hair, answers "his hair was blue", or who said "a
dark jacket" and later "a white jacket", has said two things that cannot both be true. An investigator
notices that; so does the engine: the later answer is marked (``parser.contradiction_marker``), its
statements about that attribute weigh ``parser.CONTRADICTED_WEIGHT`` as much, and they are shown as
"contradicts the earlier 'shaved head'" wherever what was understood is shown (the interview's chips,
the CLI, the report). The investigator can remove or correct either statement like any other.

What counts as a contradiction (only against what was said *firmly* before; a hedged "navy I think"
or a colour implied by "jeans" is not contradicted by a later answer, it is made more precise):

* a head colour said of the hair (not of a hat) after the witness said the head was bald or shaved;
* a colour for a garment none of whose firm earlier colours it is near: "white" after "dark", "red"
  after "black" (the hair and a hat share the head: a hat's colour never contradicts the hair's;
  near colours are not contradictions: "navy" after "black", "light brown" after
  "grey", "dark blue" after "dark" are what the witness may mean by the same thing);
* the same colour said and denied ("not red" after "red", or the reverse);
* a length or sleeve opposite to one stated firmly before ("long trousers" after "shorts").

A detail colour ("red on the shoulders") never contradicts a garment's colour: garments have two colours.
A hair colour after a bare head counts nothing (``parser.BARE_HEAD_CONTRADICTED_WEIGHT``): the engine cannot
score "bald", so the quarter would be all it knew of the head.

The same pass marks what an answer says again, unasked, that the witness said before (``repeated``,
``parser.repeats_marker``): it adds nothing, and is shown as "said before; counted once".
"""

from __future__ import annotations

from .calibration import kernel_row
from .colours import COLOUR_TERMS
from .layout import REGIONS
from .parser import ON_QUESTION, ColourConstraint, Constraints, contradiction_marker, parse, repeat_key, repeats_marker
from .vocabulary import HAIR_WORDS, HAT_WORDS

#: two colours are compatible (a later one restates an earlier one) when either satisfies the other at
#: least this much through the colour neighbourhoods (``calibration.NEAR``, ``SHADES``): black and navy
#: (0.35), grey and light brown (0.4) are; white and black (0), grey and red (0) are not
COMPATIBLE_MIN = 0.3
_NOUNS = {"head": "hair", "upper": "top", "lower": "trousers", "feet": "shoes"}
_CUE_WORDS = {("lower_length", "short"): "shorts or a skirt", ("lower_length", "long"): "long trousers",
              ("sleeves", "short"): "short sleeves", ("sleeves", "long"): "long sleeves"}


def compatible(a: ColourConstraint, b: ColourConstraint) -> bool:
    """Whether colour statements ``a`` and ``b`` about one garment may both be true of its main colour."""
    if a.colour in ("dark", "light") and b.colour in ("dark", "light"):
        return a.colour == b.colour
    near = 0.0
    if b.colour in COLOUR_TERMS:
        near = max(near, float(kernel_row(a.colour, a.shade)[COLOUR_TERMS.index(b.colour)]))
    if a.colour in COLOUR_TERMS:
        near = max(near, float(kernel_row(b.colour, b.shade)[COLOUR_TERMS.index(a.colour)]))
    return near >= COMPATIBLE_MIN


def _words(c: ColourConstraint, before: Constraints) -> str:
    """The earlier statement in short witness's words: "dark jacket", "not red top"."""
    shade = f"{c.shade} " if c.shade in ("dark", "light") and c.colour not in ("dark", "light") else ""
    noun = before.nouns.get(c.region, _NOUNS[c.region])
    colour = c.said if c.said else f"{shade}{c.colour}"  # the witness's own word when it was not the term
    return f"{'' if c.positive else 'not '}{colour} {noun}"


def conflicts(before: Constraints, said: Constraints) -> dict[str, str]:
    """Attributes that ``said`` (a later answer) contradicts in ``before`` (everything said earlier),
    each with the earlier words it contradicts."""
    out: dict[str, str] = {}
    head_noun = said.nouns.get("head", "hair")
    if before.bare_head and head_noun not in HAT_WORDS and \
            any(c.region == "head" and c.positive and not c.detail for c in said.colours):
        out["head"] = before.bare_head
    for region in REGIONS:
        if region in out:
            continue
        if region == "head" and not (before.nouns.get("head", "hair") in HAIR_WORDS and head_noun in HAIR_WORDS):
            continue  # a hat and the hair under it are two things of one region
        firm = [c for c in before.colours if c.region == region and c.firm and not c.detail and not c.contradicts]
        earlier = [c for c in firm if c.positive]
        later = [c for c in said.colours if c.region == region and not c.detail]
        later_pos = [c for c in later if c.positive]
        if earlier and later_pos and not any(compatible(a, b) for a in later_pos for b in earlier):
            out[region] = " and ".join(dict.fromkeys(_words(c, before) for c in earlier))
            continue
        for c in later:  # said and denied
            hit = next((e for e in firm if e.colour == c.colour and e.positive != c.positive), None)
            if hit is not None:
                out[region] = _words(hit, before)
                break
    for c in said.cues:
        hit = next((e for e in before.cues if e.cue == c.cue and e.value != c.value and e.weight >= 0.7
                    and not e.contradicts), None)
        if hit is not None:
            out[c.cue] = _CUE_WORDS[(hit.cue, hit.value)]
    return out


def repeated(before: Constraints, said: Constraints, asked: str | None) -> list[str]:
    """The statements (``parser.repeat_key``) of ``said`` (a later answer) that the witness already made in
    ``before`` and that its question did not ask about (``asked``: the attribute asked; None for an open
    question, which asks about none). Said again unasked, they are not new evidence: a witness who repeats
    what they said before, whatever the question, has not seen it twice. An answer to a question about
    the attribute may make it firmer ("a jacket, blue I think", then to "What colour was his jacket?"
    "Blue.")."""
    on = ON_QUESTION.get(asked, frozenset()) if asked else frozenset()
    earlier = {repeat_key(c) for c in before.colours} | {repeat_key(c) for c in before.cues}
    keys = [repeat_key(c) for c in said.colours if c.region not in on] + \
        [repeat_key(c) for c in said.cues if c.cue not in on]
    return list(dict.fromkeys(k for k in keys if k in earlier))


def reconcile(before: str, text: str, asked: str | None = None) -> str:
    """``text`` (an answer as it joins the query, to a question about ``asked``; None for an open question)
    marked with what it contradicts in ``before`` (the query so far) and with what it says again unasked;
    unchanged when it does neither."""
    if not text or not before:
        return text
    earlier, said = parse(before), parse(text)
    found = conflicts(earlier, said)
    marked = contradiction_marker(found, text) if found else text
    again = repeated(earlier, said, asked)
    return repeats_marker(again, marked) if again else marked
