"""What only an answer says counts less than the same words in the description (lite engine, issue 17):
the camera's view of an attribute enters an answer twice (the stated colour shows in the pixels only so
often, and the question was chosen where the candidates' noisy readings differ most), so an answer's
statement weighs its attribute's reliability squared (``calibration.answer_factor``), and every place that
shows what was understood says how much it counted."""

from __future__ import annotations

import numpy as np
import pytest

from interreid.engine.interview.protocols import Turn
from interreid.engine.interview.query import build_query, readable_query
from interreid.engine.lite.calibration import FLOOR, RELIABILITY, answer_factor
from interreid.engine.lite.parser import answer_marker, parse
from interreid.engine.lite.retriever import LiteRetriever
from test_lite_honest import vec, vectors

DESCRIPTION = "A man in a red jacket."


def _shoes(text):
    return next(c for c in parse(text).colours if c.region == "feet")


def test_an_answer_is_marked_and_reads_as_the_witness_said_it():
    query = build_query(DESCRIPTION, [Turn("What colour were his shoes?", "White.", "feet")], LiteRetriever())
    assert query == f"{DESCRIPTION} {answer_marker('Shoes: White.')}"
    assert readable_query(query) == "A man in a red jacket. Shoes: White."
    assert _shoes(query).answered and not next(c for c in parse(query).colours if c.region == "upper").answered


@pytest.mark.parametrize("region, words", [("feet", "Shoes: white."), ("upper", "Top: white."),
                                           ("lower", "Legs: white."), ("head", "Hair: white.")])
def test_an_answer_counts_its_attributes_reliability_times_the_same_words_in_the_description(region, words):
    r = LiteRetriever()
    v = vectors(vec({"red": 0.9}, feet="grey", lower="grey"), vec({"red": 0.9}, feet="white", lower="white"),
                vec({"white": 0.9}, feet="grey", lower="grey", head="white"))
    base = r.score_exact("", v)  # the empty query scores every image 0
    said = r.score_exact(words, v) - base
    answered = r.score_exact(answer_marker(words), v) - base
    assert np.allclose(answered, said * answer_factor(region), atol=1e-6) and np.ptp(said) > 0.01
    assert answer_factor(region) == pytest.approx(RELIABILITY[region]) and 0 < answer_factor(region) < 1
    assert np.allclose(r.score(answer_marker(words), v), answered, atol=1e-5)  # the fast path agrees


def test_a_wrong_answer_costs_the_right_person_a_bounded_amount():
    r = LiteRetriever()
    # the right person wears a red jacket and grey shoes; the witness answers "white" for the shoes
    v = vectors(vec({"red": 0.9}, feet="grey"), vec({"blue": 0.9}, feet="white"))
    before = r.score_exact(DESCRIPTION, v)
    after = r.score_exact(f"{DESCRIPTION} {answer_marker('Shoes: white.')}", v)
    cost = float(before[0] - after[0])
    bound = RELIABILITY["feet"] * answer_factor("feet") * np.log(1 / FLOOR)
    assert 0 < cost <= bound + 1e-6
    # at most a fifth of what the same words in the description could cost
    assert bound < 0.25 * RELIABILITY["feet"] * np.log(1 / FLOOR)
    assert after[0] > after[1]


def test_a_restatement_of_the_description_keeps_the_descriptions_weight():
    said_again = parse(f"{DESCRIPTION} {answer_marker('His jacket was red.')}")
    red = [c for c in said_again.colours if c.region == "upper" and c.colour == "red"]
    assert len(red) == 1 and not red[0].answered  # the description said it as firmly: it counts as said there
    # said more firmly in the answer than in the description's hedge: the answer's weight, as an answer
    firmer = parse(f"A man in a red jacket, I think. {answer_marker('His jacket was red.')}")
    red = [c for c in firmer.colours if c.region == "upper" and c.colour == "red"]
    assert len(red) == 1 and red[0].answered and red[0].weight == 1.0


def test_a_volunteered_attribute_weighs_less_than_the_attribute_asked():
    from interreid.engine.lite.parser import OFF_QUESTION_WEIGHT

    query = build_query(DESCRIPTION, [Turn("What colour were his shoes?", "White shoes and blue jeans.", "feet")],
                        LiteRetriever())
    cons = {c.region: c for c in parse(query).colours}
    assert cons["feet"].weight == 1.0 and cons["lower"].weight == OFF_QUESTION_WEIGHT
    assert cons["feet"].answered and cons["lower"].answered


def test_the_label_says_how_much_an_answer_counted():
    labels = parse(f"{DESCRIPTION} {answer_marker('Shoes: white. Trousers: blue, I think.')}").labels()
    assert "top: red (sure)" in labels  # the description: no note
    assert f"shoes: white (sure; answer weighed {round(100 * answer_factor('feet'))}%)" in labels
    assert f"trousers/legs: blue (less sure; answer weighed {round(100 * answer_factor('lower'))}%)" in labels


def test_the_interview_chips_and_the_cli_line_show_the_answers_weight(tmp_path, crops_dir):
    from interreid.engine.embedder import create_embedder
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.importer import import_sources
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview

    emb = create_embedder("lite")
    with Gallery.create(tmp_path / "g", emb.identity) as g:
        import_sources(g, emb, [crops_dir])
        iv = Interview(g, build_engine(g))
        state = iv.start(DESCRIPTION)
        assert state.understood[0]["constraints"][0] == "top: red (sure)"
        state = iv.answer("White trainers.", asked="What colour were his shoes?")
        assert state.understood[1]["constraints"] == [f"shoes: white (sure; answer weighed "
                                                      f"{round(100 * answer_factor('feet'))}%)"]
        assert "[answer]" not in readable_query(state.query)


def test_the_cli_interview_line_shows_the_answers_weight_and_no_marker(lite_gallery, monkeypatch, capsys):
    from typed_interview import typed_interview

    out = typed_interview(lite_gallery, monkeypatch, capsys, "A man in a red jacket.",
                          "What colour were his shoes?", "White trainers.")
    assert f"shoes: white (sure; answer weighed {round(100 * answer_factor('feet'))}%)" in out
    assert "[answer]" not in out and "[/answer]" not in out  # the engine's markers are not shown
    assert "counts N% as much as the same words in the first description" in out  # and what it means


def test_an_answer_that_restates_the_description_is_not_labelled_as_weighed_less(tmp_path, crops_dir):
    """'Red.' to the jacket question after 'a red jacket': the query counts it in full (the description said it as
    firmly), so its chip says so, with no 'answer weighed' note; what only the answer says keeps the note."""
    from interreid.engine.embedder import create_embedder
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.importer import import_sources
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview
    from interreid.engine.lite.parser import parse

    emb = create_embedder("lite")
    with Gallery.create(tmp_path / "g", emb.identity) as g:
        import_sources(g, emb, [crops_dir])
        iv = Interview(g, build_engine(g))
        iv.start("A man in a red jacket and blue jeans.")
        state = iv.answer("Red.", asked="What colour was his jacket?")
        assert not any(c.answered for c in parse(state.query).colours if c.region == "upper")
        assert "top: red (sure)" in state.understood[1]["constraints"]
        assert not any("answer weighed" in label for label in state.understood[1]["constraints"])
        state = iv.answer("White trainers.", asked="What colour were his shoes?")
        assert state.understood[2]["constraints"] == [f"shoes: white (sure; answer weighed "
                                                      f"{round(100 * answer_factor('feet'))}%)"]
