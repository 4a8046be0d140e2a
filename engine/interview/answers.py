"""Cleaning a witness's answer before it joins the retrieval query (docs/architecture.md).

Drop a leading "Yes, " / "No, " and a leading option label like "A) ", capitalise, drop sentences
that start "I don't know" / "I don't" / "I do not", and drop an unfinished last sentence (one not
ending in . ! ?) unless it is the whole answer ("blue jeans" stays "Blue jeans").
"""

from __future__ import annotations

import re

#: the answer that says the witness does not know (recorded as is; it adds nothing to the query)
DONT_KNOW = "I don't know."

_PREFIX = re.compile(r"^\s*(yes|no)\s*,\s*", re.IGNORECASE)
_LABEL = re.compile(r"^\s*[A-Da-d]\)\s*")
_SENTENCE = re.compile(r"[^.!?]*[.!?]+|[^.!?]+$")
_DONT = re.compile(r"^\s*i\s+(don'?t|do\s+not)\b", re.IGNORECASE)
_DONT_KNOW = re.compile(
    r"^\s*(i\s+(really\s+)?(don'?t|do\s+not|can'?t|cannot|didn'?t|did\s+not)\s+(know|remember|recall|see|"
    r"notice|say|tell)|i'?m\s+not\s+sure|i\s+am\s+not\s+sure|not\s+sure|no\s+idea|unsure|unknown|dunno|idk)\b",
    re.IGNORECASE)


def clean_answer(text: str) -> str:
    """The part of an answer that joins the retrieval query; "" when nothing is left."""
    text = (text or "").replace("\u2019", "'").strip()
    text = _LABEL.sub("", _PREFIX.sub("", text), count=1).strip()
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    if len(sentences) > 1 and sentences[-1][-1] not in ".!?":
        sentences = sentences[:-1]
    kept = [s for s in sentences if not _DONT.match(s)]
    out = " ".join(kept)
    return out[:1].upper() + out[1:]


def is_dont_know(text: str) -> bool:
    """True when the answer is empty or every sentence of it says the witness does not know
    ("I don't know.", "Not sure, sorry."); "I don't know. The shoes were white." is not."""
    text = (text or "").replace("\u2019", "'").strip()
    sentences = [s for s in _SENTENCE.findall(text) if s.strip()]
    return all(_DONT_KNOW.match(s) for s in sentences)
