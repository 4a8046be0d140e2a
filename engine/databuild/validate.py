"""Checks on generated dialogues, and the deterministic split by identity.

An answer is *supported* when at least ``support_min`` of its content words occur in the
fine-grained description, and *repeats the initial description* when at least ``repeat_min`` of
them occur in the initial one. Content words are lower-case words less common function words,
"yes"/"no" and pronouns; plurals and British/American spellings are folded. Lexical, so
deterministic and fast; it catches invented details and restated initial descriptions, not
subtle contradictions ("not red" passes where "red" is in the description).
"""

from __future__ import annotations

import hashlib
import re

_WORD = re.compile(r"[a-z]+")
_STOP_WORDS = """
a an the and or but nor of in on at to for with without from by as into onto over under up down out off about
is are was were be been being am has have had having do does did done will would can could should may might
must shall this that these those there here it its it's they them their theirs he him his she her hers
i me my you your we our yes no not none also too very quite rather some any each both either neither
which who whom whose what when where why how while than then so such just only well like appears appear
seems seem seen see saw look looks looking person witness image picture one
"""
STOP = frozenset(_STOP_WORDS.split())
FOLD = {"gray": "grey", "colored": "coloured", "color": "colour", "colors": "colour", "colours": "colour"}


def content_words(text: str) -> list[str]:
    out = []
    for w in _WORD.findall((text or "").lower()):
        w = FOLD.get(w, w)
        if w in STOP or len(w) < 2:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


def check_answer(answer: str, initial: str, fine: str, support_min: float = 0.6,
                 repeat_min: float = 0.9) -> dict:
    """{"supported", "repeats_initial", "support", "overlap_initial"} for one answer."""
    words = content_words(answer)
    fine_set, init_set = set(content_words(fine)), set(content_words(initial))
    if not words:
        return {"supported": False, "repeats_initial": False, "support": 0.0, "overlap_initial": 0.0}
    support = sum(w in fine_set for w in words) / len(words)
    overlap = sum(w in init_set for w in words) / len(words)
    return {"supported": support >= support_min, "repeats_initial": overlap >= repeat_min,
            "support": round(support, 3), "overlap_initial": round(overlap, 3)}


def identity_split(people: list[str], fractions: dict[str, float], seed: int) -> dict[str, str]:
    """Each identity's split. Identities are ordered by SHA-256 of (seed, name) and cut by the
    fractions in the order given, so the result depends only on the set of names and the seed."""
    names = sorted(set(people), key=lambda n: hashlib.sha256(f"{seed}\x00{n}".encode()).hexdigest())
    total = sum(fractions.values())
    out: dict[str, str] = {}
    start, cum = 0, 0.0
    for i, (split, share) in enumerate(fractions.items()):
        cum += share / total
        end = len(names) if i == len(fractions) - 1 else round(cum * len(names))
        for n in names[start:end]:
            out[n] = split
        start = end
    return out


def parse_fractions(text: str) -> dict[str, float]:
    """"train=0.8,val=0.1,test=0.1" -> {"train": 0.8, ...}; ValueError with a reason otherwise."""
    out: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        name = name.strip()
        if not name or not value:
            raise ValueError(f"'{part.strip()}' is not NAME=SHARE")
        share = float(value)
        if share < 0:
            raise ValueError(f"the share of '{name}' is negative")
        out[name] = share
    if not out or sum(out.values()) <= 0:
        raise ValueError("the shares add up to 0")
    return out
