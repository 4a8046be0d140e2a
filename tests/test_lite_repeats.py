"""The same fact said twice by one witness is not twice the evidence (issue 17): a statement said again in
answer to a question that did not ask about it keeps the weight it had; an answer that recites several
garments not asked about counts as one statement, shared among them."""

from __future__ import annotations

import numpy as np
import pytest

from interreid.engine.interview.protocols import Turn
from interreid.engine.interview.query import build_query, readable_query, statement_texts
from interreid.engine.lite.layout import DIM
from interreid.engine.lite.parser import OFF_QUESTION_WEIGHT, REPEATED_NOTE, parse
from interreid.engine.lite.retriever import LiteRetriever

INITIAL = "A woman with curly blonde hair wearing a long black coat."
RECITAL = "She had curly blonde hair. She wore a long black coat. She wore blue jeans. Her shoes were light brown."
HAIR = Turn("What colour was her hair?", RECITAL, "head")
OPEN = Turn("Is there anything else you remember about the person — a bag, a hat, their hair?", RECITAL)


def _weights(query: str) -> dict[str, float]:
    cons = parse(query)
    return {f"{c.key()} {c.shade}".strip(): c.weight for c in cons.colours} | {c.key(): c.weight for c in cons.cues}


def _vectors(n: int = 30) -> np.ndarray:
    v = np.abs(np.random.default_rng(1).normal(size=(n, DIM))).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_a_recital_said_again_to_an_open_question_adds_nothing():
    r = LiteRetriever()
    once = build_query(INITIAL, [HAIR], r)
    twice = build_query(INITIAL, [HAIR, OPEN], r)
    assert "[repeats" in twice
    assert _weights(twice) == _weights(once)  # the shoes stay "not what was asked", not firm
    vectors = _vectors()
    assert np.allclose(r.score(twice, vectors), r.score(once, vectors), atol=1e-6)
    # the same words, said first to the open question, count as said there (an open question accepts anything)
    first = _weights(build_query(INITIAL, [OPEN], r))
    assert first["feet brown + light"] == 1.0 > _weights(once)["feet brown + light"]


def test_the_repeated_statement_is_shown_as_said_before_and_no_marker_reaches_a_reader():
    r = LiteRetriever()
    texts = statement_texts(INITIAL, [HAIR, OPEN], r)
    labels = r.understand(texts[2])[0]
    assert ("feet brown +", f"shoes: light brown ({REPEATED_NOTE})") in labels
    assert ("lower blue +", f"trousers/legs: blue ({REPEATED_NOTE})") in labels
    assert "answer weighed" not in " ".join(label for _, label in labels)  # it weighs nothing: no share shown
    shown = readable_query(build_query(INITIAL, [HAIR, OPEN], r))
    assert "[" not in shown and shown.endswith("light brown.")


def test_asked_about_the_attribute_the_witness_may_say_it_more_firmly():
    r = LiteRetriever()
    hedged = "A man in a jacket, blue I think."
    asked = build_query(hedged, [Turn("What colour was his jacket?", "Blue.", "upper")], r)
    assert "[repeats" not in asked and _weights(asked)["upper blue +"] == 1.0
    unasked = build_query(hedged, [Turn("What colour were his shoes?", "Black shoes and a blue jacket.", "feet")], r)
    assert "[repeats" in unasked and _weights(unasked)["upper blue +"] == 0.5  # volunteered again: stays hedged


def test_the_same_answer_to_two_other_questions_counts_once():
    r = LiteRetriever()
    answer = "He wore a navy blue jacket."
    turns = [Turn("What colour was his hair?", answer, "head"), Turn("What colour were his shoes?", answer, "feet")]
    once = build_query("A man.", turns[:1], r)
    twice = build_query("A man.", turns, r)
    assert _weights(twice) == _weights(once)
    vectors = _vectors()
    assert np.allclose(r.score(twice, vectors), r.score(once, vectors), atol=1e-6)


def test_a_recital_of_garments_not_asked_about_is_one_statement():
    r = LiteRetriever()
    weights = _weights(build_query("A woman.", [HAIR], r))
    # three garments not asked about (the coat with its sleeves, the legs, the shoes): a third each
    assert weights["feet brown + light"] == pytest.approx(OFF_QUESTION_WEIGHT / 3)
    assert weights["upper black +"] == pytest.approx(OFF_QUESTION_WEIGHT / 3)
    assert weights["head yellow +"] == 1.0  # what was asked keeps its weight
    # the coat said before (its repeat weighs nothing): the statement is shared by the two garments said anew
    again = parse(statement_texts(INITIAL, [HAIR], r)[1])
    new = {f"{c.key()} {c.shade}".strip(): c.weight for c in again.colours if not c.repeated}
    assert new["feet brown + light"] == pytest.approx(OFF_QUESTION_WEIGHT / 2)
    assert new["lower blue + denim"] == pytest.approx(OFF_QUESTION_WEIGHT / 2)
    assert [c.weight for c in again.colours if c.repeated] == [0.0, 0.0]  # the coat's black, top and legs
    # one garment, colour and length ("blue jeans"): one statement, the full volunteered weight
    one = _weights(build_query("A man.", [Turn("What colour were his shoes?", "White shoes and blue jeans.", "feet")], r))
    assert one["lower blue + denim"] == OFF_QUESTION_WEIGHT and one["feet white +"] == 1.0


def test_cli_interview_shows_a_repeat_as_said_before(lite_gallery, monkeypatch, capsys):
    from typed_interview import typed_interview

    out = typed_interview(lite_gallery, monkeypatch, capsys, "A man in a black jacket.",
                          "Anything else you remember?", "He wore a black jacket.")
    assert f"top: black ({REPEATED_NOTE})" in out
    assert "[repeats" not in out  # the engine's markers are not shown to the investigator


def test_desktop_chip_shows_a_repeat_as_said_before(qtbot, lite_gallery, tmp_path):
    pytest.importorskip("pytestqt")
    from desktop_started import chips_after_one_answer

    labels = chips_after_one_answer(qtbot, lite_gallery, tmp_path, "A man in a black jacket.",
                                    "Anything else you remember?", "He wore a black jacket.")
    assert f"top: black ({REPEATED_NOTE})" in labels
