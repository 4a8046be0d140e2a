"""The witnesses package: one "don't know", one vocabulary shared with the lite parser."""

from __future__ import annotations

import pytest

from interreid.engine.evaluation.witnesses import DONT_KNOW, question_attributes, settle
from interreid.engine.interview.answers import DONT_KNOW as ENGINE_DONT_KNOW
from interreid.engine.lite.vocabulary import BAG_WORDS, GARMENTS, HAT_WORDS, region_words


@pytest.mark.parametrize("reply, expected", [
    ("", DONT_KNOW), (None, DONT_KNOW), ("   ", DONT_KNOW),
    ("Not sure, sorry.", DONT_KNOW), ("I can't remember.", DONT_KNOW), ("I don't know.", DONT_KNOW),
    (" Red. ", "Red."), ("I don't know. The shoes were white.", "I don't know. The shoes were white."),
])
def test_settle_gives_the_one_dont_know(reply, expected):
    assert settle(reply) == expected


def test_the_witness_and_the_engine_share_dont_know():
    assert DONT_KNOW is ENGINE_DONT_KNOW


def test_garment_words_come_from_the_lite_vocabulary():
    assert all(GARMENTS[w] == ("head",) for w in HAT_WORDS) and all(GARMENTS[w] == () for w in BAG_WORDS)
    assert {"parka", "jackets", "top"} <= region_words("upper") and "dress" not in region_words("upper")
    # words the lite parser knows are now read by the witness too (it used to say "I don't know")
    assert question_attributes("What colour was his parka?") == ["upper"]
    assert question_attributes("Were his socks white?") == ["feet"]
    # the sleeve rule is kept: "sleeves" alone is not a question about the top's colour
    assert question_attributes("Were his long sleeves pink?") == ["sleeves"]
    assert question_attributes("Was she carrying a bag?") == ["bag"]
