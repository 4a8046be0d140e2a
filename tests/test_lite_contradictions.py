"""Answers that contradict what the witness said before (issue 17): detected, weighed down, shown in the
interview's understood view, the CLI and the report; answers that restate or add do not count as such."""

from __future__ import annotations

import numpy as np
import pytest

from interreid.engine.interview.protocols import Turn
from interreid.engine.interview.query import build_query, readable_query, statement_texts
from interreid.engine.lite.contradictions import conflicts, reconcile
from interreid.engine.lite.layout import REGIONS
from interreid.engine.lite.parser import BARE_HEAD_CONTRADICTED_WEIGHT, CONTRADICTED_WEIGHT, parse
from interreid.engine.lite.retriever import LiteRetriever


def _later(initial: str, question: str, answer: str, attribute: str) -> str:
    return statement_texts(initial, [Turn(question, answer, attribute)], LiteRetriever())[1]


@pytest.mark.parametrize("initial,question,answer,attribute,earlier", [
    ("A bald man with a beard in a black jacket.", "What colour was his hair?", "The person's hair was blue.",
     "head", "bald"),
    ("He had a shaved head and wore a black jacket.", "What colour was his hair?", "Blue.", "head", "shaved head"),
    ("A man in a dark jacket.", "What colour was his jacket?", "He wore a white jacket.", "upper", "dark jacket"),
    ("A woman in a red coat.", "What colour was her coat?", "It was not red.", "upper", "red coat"),
    ("A man with black hair.", "What colour was his hair?", "His hair was white.", "head", "black hair"),
    ("A man in shorts.", "Was he wearing shorts?", "He wore long trousers.", "lower_length", "shorts or a skirt"),
])
def test_a_contradicting_answer_is_marked_weighed_down_and_labelled(initial, question, answer, attribute, earlier):
    text = _later(initial, question, answer, attribute)
    assert text.startswith("[contradicts")
    alone = parse(_later("", question, answer, attribute) or answer)
    cons = parse(text)
    said = [c for c in cons.colours + cons.cues if getattr(c, "region", getattr(c, "cue", "")) == attribute]
    assert said and all(c.contradicts == earlier for c in said)
    plain = {c.key(): c.weight for c in alone.colours + alone.cues}
    bare = earlier in ("bald", "shaved head")  # contradicts what the engine cannot score: counts nothing
    for c in said:
        assert c.weight == pytest.approx(plain[c.key()] * (BARE_HEAD_CONTRADICTED_WEIGHT if bare else CONTRADICTED_WEIGHT))
        assert f"contradicts the earlier \u2018{earlier}\u2019" in c.label()
        assert ("not counted" in c.label()) == bare
    shown = readable_query(build_query(initial, [Turn(question, answer, attribute)], LiteRetriever()))
    assert "[" not in shown and shown.startswith(initial)  # the investigator reads the words, no markers


@pytest.mark.parametrize("initial,answer,attribute", [
    ("A man in a dark jacket.", "Navy blue, quite dark.", "upper"),          # more precise, not different
    ("A man in a black jacket.", "Dark blue, navy I think.", "upper"),       # black and navy are near
    ("A woman in a long black coat.", "Blue jeans.", "lower"),               # the coat's legs were implied
    ("A man in jeans.", "Black jeans.", "lower"),                            # jeans' blue was only a guess
    ("A bald man in a black jacket.", "A white woolly hat.", "head"),        # a hat on a bald head
    ("A man with white hair.", "He is wearing an orange hat.", "head"),      # a hat over the hair
    ("A man in a purple hat.", "His hair is brown.", "head"),                # the hair under a hat
    ("A man in a black jacket.", "White trainers.", "feet"),                 # another garment
    ("A man with a navy jacket with red shoulders.", "Red sleeves too.", "upper"),  # a detail
    ("A man in a dark jacket, I think.", "White.", "upper"),                 # nothing firm said before
])
def test_an_unrelated_or_compatible_later_answer_is_not_flagged(initial, answer, attribute):
    question = {"upper": "What colour was his jacket?", "lower": "What colour were her trousers?",
                "head": "Was he wearing a hat?", "feet": "What colour were his shoes?"}[attribute]
    text = _later(initial, question, answer, attribute)
    assert "[contradicts" not in text
    assert not any("contradicts" in label for _, label in LiteRetriever().understand(text)[0])


def test_only_the_contradicted_garment_weighs_less_and_the_earlier_statement_keeps_its_weight():
    before = parse("A man in a dark jacket and blue jeans.")
    later = parse("He wore a white jacket and white trainers.")
    found = conflicts(before, later)
    assert set(found) == {"upper"}
    cons = parse("A man in a dark jacket and blue jeans. " + reconcile("A man in a dark jacket and blue jeans.",
                                                                        "He wore a white jacket and white trainers."))
    by_key = {c.key(): c for c in cons.colours}
    assert by_key["upper white +"].weight == pytest.approx(CONTRADICTED_WEIGHT)
    assert by_key["feet white +"].weight == 1.0 and not by_key["feet white +"].contradicts
    assert by_key["upper dark +"].weight == before.colours[0].weight and not by_key["upper dark +"].contradicts


def test_a_contradicting_answer_moves_the_ranking_less_than_the_same_answer_alone():
    """A gallery of two people: dark-haired (the target, 'dark hair' said first) and white-haired. A later
    'white hair' contradicts the description: it must move the white-haired person up less than the
    same answer would from a witness who had not said the hair colour before."""
    from interreid.engine.lite.colours import COLOUR_TERMS
    from interreid.engine.lite.layout import CUES, DIM

    def vec(head: str) -> np.ndarray:
        v = np.zeros(DIM, dtype=np.float32)
        for r, region in enumerate(REGIONS):
            colour = head if region == "head" else "black"
            v[r * len(COLOUR_TERMS) + COLOUR_TERMS.index(colour)] = 1.0
        v[len(REGIONS) * len(COLOUR_TERMS):] = 0.5 if CUES else 0.0
        return v / np.linalg.norm(v)

    vectors = np.stack([vec("black"), vec("white")])
    r = LiteRetriever()
    turn = [Turn("What colour was his hair?", "His hair was white.", "head")]
    contradicted = r.score(build_query("A man with black hair in a black jacket.", turn, r), vectors)
    plain = r.score("A man with black hair in a black jacket. His hair was white.", vectors)
    assert contradicted[0] - contradicted[1] > plain[0] - plain[1]


def test_a_hair_colour_after_a_bare_head_does_not_move_the_ranking():
    """"Bald" gives the engine no hair colour to score; a later "his hair was blue" contradicts it. Counting
    any of the later statement would rank by the doubtful answer over the description it contradicts."""
    from interreid.engine.lite.layout import DIM

    rng = np.random.default_rng(0)
    vectors = np.abs(rng.normal(size=(20, DIM))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    r = LiteRetriever()
    initial = "A bald man with a beard in a black jacket."
    query = build_query(initial, [Turn("What colour was his hair?", "The person's hair was blue.", "head")], r)
    assert "[contradicts" in query
    assert np.allclose(r.score(query, vectors), r.score(initial, vectors), atol=1e-6)
    # a colour contradicting a colour the engine does score still counts, weakly
    query = build_query("A man with black hair.", [Turn("What colour was his hair?", "His hair was white.", "head")], r)
    assert not np.allclose(r.score(query, vectors), r.score("A man with black hair.", vectors), atol=1e-6)


def test_interview_shows_the_contradiction_after_the_answer(lite_gallery):
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview

    with Gallery.open(lite_gallery) as g:
        iv = Interview(g, build_engine(g))
        iv.start("A bald man in a black jacket.")
        state = iv.answer("His hair was blue.", asked="What colour was his hair?")
        assert "hair/head: blue (contradicts the earlier \u2018bald\u2019; not counted)" in \
            state.understood[1]["constraints"]
        state = iv.answer("White trainers.", asked="What colour were his shoes?")
        assert state.understood[2]["constraints"] == ["shoes: white (sure; answer weighed 23%)"]
        assert "top: black (sure)" in state.understood[0]["constraints"]  # the description is shown as said


def test_report_shows_the_contradiction(lite_gallery, tmp_path):
    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview
    from interreid.engine.report import write_report

    with Gallery.open(lite_gallery) as g:
        engine = build_engine(g)
        with CaseFile.create(tmp_path / "c.case", "t", "tester", g, engine.identity()) as case:
            iv = Interview(g, engine, case=case)
            iv.start("A man in a dark jacket.")
            iv.answer("He wore a white jacket.", asked="What colour was his jacket?")
    out = write_report(tmp_path / "c.case", tmp_path / "r.html")
    text = " ".join(out.read_text(encoding="utf-8").split())
    assert "top: white (contradicts the earlier \u2018dark jacket\u2019; answer weighed 61%)" in text


def test_cli_interview_line_shows_the_contradiction(lite_gallery, tmp_path, monkeypatch, capsys):
    from typed_interview import typed_interview

    out = typed_interview(lite_gallery, monkeypatch, capsys, "A bald man in a black jacket.",
                          "What colour was his hair?", "His hair was blue.")
    assert "understood from answer 1: [3] hair/head: blue (contradicts the earlier \u2018bald\u2019; not counted)" in out
    assert "[contradicts" not in out  # the engine's markers are not shown to the investigator


def test_desktop_chip_shows_the_contradiction(qtbot, lite_gallery, tmp_path):
    pytest.importorskip("pytestqt")
    from desktop_started import chips_after_one_answer

    labels = chips_after_one_answer(qtbot, lite_gallery, tmp_path, "A man in a dark jacket.",
                                    "What colour was his jacket?", "He wore a white jacket.")
    assert "top: white (contradicts the earlier \u2018dark jacket\u2019; answer weighed 61%)" in labels
