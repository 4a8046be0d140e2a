"""The lite retriever ranks drawn people by their described colours; negations demote; speed."""

from __future__ import annotations


import numpy as np
import pytest

from interreid.engine.embedder import l2_normalise
from interreid.engine.lite.embedder import LiteEmbedder
from interreid.engine.lite.layout import DIM
from interreid.engine.lite.calibration import TEMPERATURE
from interreid.engine.lite.retriever import LiteRetriever
from interreid.engine.retriever import posterior
from imagemaker import person

PEOPLE = [("red", "blue"), ("red", "black"), ("blue", "blue"), ("green", "grey"), ("yellow", "blue"),
          ("red", "grey"), ("white", "black"), ("purple", "brown")]


@pytest.fixture(scope="module")
def vectors():
    return LiteEmbedder().embed_images([person(u, l, seed=i) for i, (u, l) in enumerate(PEOPLE)])


def test_identity_matches_embedder():
    r = LiteRetriever()
    assert r.identity == LiteEmbedder.identity and r.temperature == TEMPERATURE


def test_target_ranks_first(vectors):
    r = LiteRetriever()
    for target, (u, l) in enumerate(PEOPLE):
        s = r.score(f"A person wearing a {u} top and {l} trousers.", vectors)
        assert s.dtype == np.float32 and s.shape == (len(PEOPLE),)
        assert int(np.argmax(s)) == target


def test_negation_demotes(vectors):
    r = LiteRetriever()
    base = r.score("a red top", vectors)
    neg = r.score("a red top, not blue trousers", vectors)
    assert base[0] == pytest.approx(base[1], abs=1.0)  # red/blue and red/black both fit "red top"
    assert neg[1] > neg[0] + 0.2  # "not blue trousers" pushes red/blue below red/black (softly)


def test_empty_query_scores_all_equal(vectors):
    r = LiteRetriever()
    for q in ("", "I don't know.", "a person"):
        s = r.score(q, vectors)
        assert np.all(s == s[0])
        assert np.allclose(posterior(s, r.temperature), 1 / len(PEOPLE))


def test_explain(vectors):
    r = LiteRetriever()
    text = r.explain("a red top and blue jeans", vectors[0])
    assert text.startswith("upper: red 0.") and "lower: blue 0." in text
    p_red = float(text.split("upper: red ")[1][:4])
    assert p_red > 0.5
    assert r.explain("", vectors[0]) == "no colour constraints yet"


def test_scoring_100k_rows_in_chunks_matches_row_by_row():
    rng = np.random.default_rng(0)
    v = l2_normalise(rng.random((100_000, DIM)).astype(np.float32))
    r = LiteRetriever()
    q = "A man in a red jacket, blue jeans, not white shoes."
    s = r.score(q, v)  # speed is measured by 'interreid bench speed', not asserted here
    assert s.shape == (100_000,) and np.isfinite(s).all()
    assert np.allclose(s[[0, 65_535, 65_536, 99_999]], [r.score(q, v[i:i + 1])[0] for i in (0, 65_535, 65_536, 99_999)],
                       atol=1e-5)


def test_one_region_counts_as_one_observation(vectors):
    """Two colours said of the same jacket refine it; they do not double its weight against the
    trousers."""
    from interreid.engine.lite.parser import parse
    from interreid.engine.lite.retriever import region_shares

    assert region_shares(parse("A dark jacket. Navy blue jacket. Black trousers.")) == \
        pytest.approx({"upper": 1.0 / (1.0 + 0.7), "lower": 1.0})
    r = LiteRetriever()
    once = r.score("a red jacket", vectors)
    twice = r.score("a red jacket. The jacket was crimson.", vectors)  # the same colour again: no change
    assert np.allclose(once, twice)
    # red top said twice in other words weighs no more than once against grey trousers
    a = r.score("a red top, a scarlet jacket, grey trousers", vectors)
    assert int(np.argmax(a)) == PEOPLE.index(("red", "grey"))
