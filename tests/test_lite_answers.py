"""Answers that do not answer the question asked, and answers that only repeat what was said (lite
engine, issue 17): a witness who answers about another garment than the one asked weighs less (and
the engine says so), a restatement is not new evidence."""

from __future__ import annotations

import numpy as np

from interreid.engine.interview.protocols import Turn
from interreid.engine.interview.query import build_query
from interreid.engine.lite.context import contextualise
from interreid.engine.lite.parser import OFF_QUESTION_WEIGHT, parse
from interreid.engine.lite.retriever import LiteRetriever
from test_lite_honest import vec, vectors

SHOES = "What colour were his shoes?"
JACKET_SENTENCE = "He wore a navy blue padded jacket."


def _by_region(text):
    return {c.region: c for c in parse(text).colours}


def test_an_answer_about_another_garment_weighs_as_a_hedge_and_says_so():
    off = contextualise(SHOES, JACKET_SENTENCE, JACKET_SENTENCE, "feet")
    on = contextualise("What colour was his jacket?", JACKET_SENTENCE, JACKET_SENTENCE, "upper")
    top_off, top_on = _by_region(off)["upper"], _by_region(on)["upper"]
    assert top_on.weight == 1.0 and not top_on.off_question
    assert top_off.weight == OFF_QUESTION_WEIGHT < 1.0 and top_off.off_question
    assert "top: dark blue (said ‘navy blue’; not what was asked)" in parse(off).labels()
    assert "top: dark blue (said ‘navy blue’; sure)" in parse(on).labels()
    # and it moves the ranking less: a navy jacket against a black one
    r = LiteRetriever()
    v = vectors(vec({"black": 0.9}), vec({"blue": 0.9}))
    base = "A man in a dark jacket."
    gap_on = float(np.diff(r.score(f"{base} {on}", v))[0])
    gap_off = float(np.diff(r.score(f"{base} {off}", v))[0])
    assert gap_on > gap_off > 0  # both favour the navy jacket; the answer off the question by less


def test_what_answers_the_question_keeps_its_full_weight_beside_an_off_question_part():
    answer = "His shoes were white, and he wore a red jacket."
    cons = parse(contextualise(SHOES, answer, answer, "feet"))
    by_region = {c.region: c for c in cons.colours}
    assert by_region["feet"].weight == 1.0 and not by_region["feet"].off_question
    assert by_region["upper"].weight == OFF_QUESTION_WEIGHT
    # a garment's length or sleeves belong to the garment asked about
    jeans = "Blue jeans, flared at the bottom."
    assert contextualise("What colour were her trousers?", jeans, jeans, "lower") == jeans


def test_open_questions_and_short_answers_are_never_off_question():
    generic = "Is there anything else you remember about the person — a bag, a hat, their hair?"
    said = "She wore a white woolly hat and a light blue jacket."
    assert contextualise(generic, said, said, None) == said
    assert not any(c.off_question for c in parse(contextualise(SHOES, "Black.", "Black.", "feet")).colours)
    # a typed question naming one garment is understood as asking about it
    typed = contextualise("What colour was the main part of his jacket?", "His shoes were black.",
                          "His shoes were black.", None)
    assert _by_region(typed)["feet"].off_question


def test_a_restatement_counts_once():
    r = LiteRetriever()
    v = vectors(vec({"black": 0.9}), vec({"blue": 0.9}), vec({"red": 0.9}, lower="blue"))
    base = "A man in a black jacket and grey trousers."
    once = r.score_exact(base, v)
    # said again, in the description or as an answer (to the question, or to another one)
    assert np.allclose(r.score_exact(f"{base} His jacket was black.", v), once)
    repeated = build_query(base, [Turn("What colour were his trousers?", "He wore a black jacket.", "lower"),
                                  Turn(SHOES, "He wore a black jacket and grey trousers.", "feet")],
                           LiteRetriever())
    assert "[asked" in repeated
    assert np.allclose(r.score_exact(repeated, v), once)
    assert np.allclose(r.score(repeated, v), once, atol=1e-5)  # the fast path agrees
    # a new colour for the same jacket, off the question, still counts (weakly)
    more = build_query(base, [Turn(SHOES, "He wore a navy jacket.", "feet")], LiteRetriever())
    assert not np.allclose(r.score_exact(more, v), once)


def test_the_investigator_can_remove_an_off_question_constraint():
    off = contextualise(SHOES, JACKET_SENTENCE, JACKET_SENTENCE, "feet")
    key = _by_region(off)["upper"].key()
    assert "upper" not in _by_region(f"{off} [drop {key}]")


def test_a_stated_detail_explains_its_pixels_so_the_main_colour_is_judged_on_the_rest():
    r = LiteRetriever()
    two_colour = vec({"blue": 0.7, "red": 0.25})  # a navy jacket with red shoulders
    plain = vec({"blue": 0.95})  # a plain navy jacket
    red_jacket = vec({"red": 0.9})
    mostly_red = vec({"red": 0.7, "blue": 0.25})
    v = vectors(two_colour, plain, red_jacket, mostly_red)
    main_only = r.score_exact("A navy blue jacket.", v)
    assert main_only[1] > main_only[0]  # not told about the shoulders, the plain jacket fits "navy" better
    full = "A navy blue jacket with red shoulders."
    s = r.score_exact(full, v)
    # told about them, the red pixels are the shoulders: the navy is judged on the rest of the jacket, so
    # the two-colour jacket leads clearly (by 0.08 when its red also counted against the navy)
    assert s[0] - s[1] > 0.15
    # the detail explains at most a quarter of the jacket: a mostly red jacket is still not "navy"
    assert s[1] > s[3] > s[2]
    assert np.allclose(r.score(full, v), s, atol=1e-5)  # the fast path agrees


def test_a_true_answer_the_pixels_cannot_confirm_costs_a_bounded_amount():
    from interreid.engine.lite.calibration import FLOOR, RELIABILITY

    r = LiteRetriever()
    # the right person: red jacket, shoes reading pavement grey; someone else: blue jacket, white shoes
    v = vectors(vec({"red": 0.9}, feet="grey"), vec({"blue": 0.9}, feet="white"))
    before = r.score_exact("A man in a red jacket.", v)
    after = r.score_exact("A man in a red jacket. Shoes: white.", v)
    cost = float(before[0] - after[0])
    assert 0 < cost <= RELIABILITY["feet"] * np.log(1 / FLOOR) + 1e-6  # bounded by the floor
    assert after[0] > after[1]  # the shoes, barely seen on real footage, cannot outweigh the jacket
    # while a trousers answer, seen far more reliably, moves the ranking more than a shoes answer
    lower_gap = np.diff(r.score_exact("Trousers: white.", vectors(vec({"red": 0.9}, lower="grey"),
                                                                   vec({"red": 0.9}, lower="white"))))[0]
    feet_gap = np.diff(after - before)[0]
    assert lower_gap > feet_gap > 0
