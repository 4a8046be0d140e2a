"""Honest answers on real crops (issue 17): calibration, hedges, negation, "don't know", settled
attributes, no repeated questions, skip, the empty-constraint warning and what was understood."""

from __future__ import annotations

import numpy as np
import pytest

from interreid.engine.embedder import l2_normalise
from interreid.engine.interview.protocols import QuestionContext, Turn
from interreid.engine.interview.query import build_query
from interreid.engine.lite.calibration import kernel_row, satisfied
from interreid.engine.lite.colours import COLOUR_TERMS
from interreid.engine.lite.layout import REGIONS
from interreid.engine.lite.parser import parse
from interreid.engine.lite.questioners import QUESTIONERS
from interreid.engine.lite.retriever import LiteRetriever
from interreid.engine.retriever import relative_match


def vec(upper: dict, lower: str = "grey", head: str = "black", feet: str = "black", short: float = 0.1):
    """One lite vector; ``upper`` maps colour terms to shares, other regions are one colour."""
    v = []
    for region in REGIONS:
        d = np.full(11, 0.01)
        spec = upper if region == "upper" else {"lower": lower, "head": head, "feet": feet}[region]
        for term, share in (spec.items() if isinstance(spec, dict) else [(spec, 0.9)]):
            d[COLOUR_TERMS.index(term)] = share
        v.extend(d / d.sum())
    v.extend([short, 0.1])
    return np.array(v, dtype=np.float32)


def vectors(*rows):
    return l2_normalise(np.stack(rows))


def test_confusable_colours_are_near_not_equal():
    navy = np.zeros((1, 11), dtype=np.float32)
    navy[0, COLOUR_TERMS.index("blue")] = 1.0
    black_seen_as_navy = float(satisfied(navy, "black")[0])
    assert 0.2 < black_seen_as_navy < 0.6  # a navy crop partly satisfies "black", never fully
    assert float(satisfied(navy, "red")[0]) == 0.0
    # "dark blue" is also partly black; "light blue" partly white; "dark" alone is a family
    assert kernel_row("blue", "dark")[COLOUR_TERMS.index("black")] > kernel_row("blue")[COLOUR_TERMS.index("black")]
    assert kernel_row("blue", "light")[COLOUR_TERMS.index("white")] > 0.3
    dark = kernel_row("dark")
    assert dark[COLOUR_TERMS.index("black")] == 1.0 and dark[COLOUR_TERMS.index("blue")] > 0.3
    assert dark[COLOUR_TERMS.index("white")] == 0.0


def test_black_jacket_prefers_black_over_red_and_navy():
    r = LiteRetriever()
    v = vectors(vec({"black": 0.9}), vec({"blue": 0.6, "red": 0.3}), vec({"red": 0.9}))
    s = r.score("A man in a black jacket.", v)
    assert s[0] > s[1] > s[2]  # navy is nearer black than red is


def test_hedged_answers_weigh_less_and_no_excludes_softly():
    firm, hedged = parse("Jacket: red."), parse("Jacket: red, I think.")
    assert firm.colours[0].weight == 1.0 and hedged.colours[0].weight == 0.5
    assert "top: red (sure)" in firm.labels() and "top: red (less sure)" in hedged.labels()
    assert parse("Shoes: brown or dark, I'm not sure.").colours  # doubt weakens, does not erase
    r = LiteRetriever()
    v = vectors(vec({"red": 0.9}), vec({"blue": 0.9}))
    gap_firm = float(np.diff(r.score("Jacket: red.", v))[0])
    gap_hedged = float(np.diff(r.score("Jacket: red, I think.", v))[0])
    assert gap_firm < gap_hedged < 0  # both prefer red; the hedged answer by less
    neg = r.score("His jacket was not red.", v)
    pos = r.score("His jacket was blue.", v)
    assert neg[1] > neg[0]
    assert (neg[1] - neg[0]) < (pos[1] - pos[0])  # "not red" excludes more softly than "blue" includes


def test_dont_know_changes_nothing():
    r = LiteRetriever()
    v = vectors(vec({"red": 0.9}), vec({"blue": 0.9}))
    before = build_query("A man in a red jacket.", [], r)
    after = build_query("A man in a red jacket.", [Turn("What colour were his shoes?", "I don't know.", "feet")], r)
    assert before == after
    assert np.array_equal(r.score(before, v), r.score(after, v))


def test_bare_answers_attach_to_the_asked_garment():
    r = LiteRetriever()
    q = build_query("", [Turn("What colour were his shoes?", "Brownish, I think.", "feet")], r)
    cons = parse(q)
    assert [(c.region, c.colour) for c in cons.colours] == [("feet", "brown")]
    assert [(c.region, c.colour) for c in parse("Black, short hair.").colours] == [("head", "black")]


def test_understood_and_unused_words():
    items, unused = LiteRetriever().understand("A woman in a dark blue coat with a brown bag, walking fast.")
    assert ("upper blue +", "top: dark blue (sure)") in items
    assert "bag" in unused and "walking" in unused


def test_relative_match_is_a_percentage_of_the_best():
    m = relative_match(np.array([-1.0, -1.0 - np.log(2)]), best=-1.0, temperature=1.0)
    assert m[0] == pytest.approx(100.0) and m[1] == pytest.approx(50.0)


def _ctx(rows, initial, dialogue=(), asked=(), asked_questions=()):
    v = vectors(*rows)
    k = len(rows)
    return QuestionContext(initial, list(dialogue), len(dialogue) + 1, np.arange(k), np.full(k, 1 / k),
                           list(range(min(4, k))), v, None, set(asked), asked_questions=set(asked_questions))


ROWS = [vec({"red": 0.9}, lower=c, feet=f) for c, f in
        (("black", "white"), ("blue", "black"), ("black", "black"), ("blue", "white"), ("grey", "black"))]


@pytest.mark.parametrize("name", ["infogain", "template"])
def test_never_asks_settled_or_repeats(name):
    q = QUESTIONERS[name]()
    s1 = q.ask(_ctx(ROWS, "A man in a red jacket."))
    assert s1.attribute != "upper"  # the description settled the jacket's colour
    # the same question is never suggested twice, even after an edited answer lost its attribute
    s2 = q.ask(_ctx(ROWS, "A man in a red jacket.", dialogue=[Turn(s1.text, "I'm not sure.", None)]))
    assert s2.text != s1.text


@pytest.mark.parametrize("name", ["infogain", "template"])
def test_skip_moves_on_and_the_skipped_attribute_is_not_asked_again(name):
    q = QUESTIONERS[name]()
    first = q.ask(_ctx(ROWS, "A man in a red jacket."))
    after_skip = q.ask(_ctx(ROWS, "A man in a red jacket.", asked={first.attribute}, asked_questions={first.text}))
    assert after_skip.attribute != first.attribute and after_skip.text != first.text


def test_infogain_weighs_gain_by_reliability():
    # shoes split the candidates as much as the trousers do, but the camera sees shoes less reliably
    rows = [vec({"red": 0.9}, lower=c, feet=c) for c in ("black", "blue", "black", "blue")]
    s = QUESTIONERS["infogain"]().ask(_ctx(rows, "A man in a red jacket."))
    assert s.attribute == "lower" and "reliably" in s.rationale
    assert s.kind == "descriptive" and s.text == "What colour were his trousers?"  # open: never leading
    # the shoes' colour is asked openly: offering colours read from noisy pixels would lead the witness
    s = QUESTIONERS["infogain"]().ask(_ctx(rows, "A man in a red jacket.", asked={"lower", "lower_length"}))
    assert s.attribute == "feet" and s.kind == "descriptive" and s.text == "What colour were his shoes?"


def test_a_foreground_mask_replaces_the_border_guess():
    from PIL import Image

    from interreid.engine.lite.embedder import LiteEmbedder
    from interreid.engine.lite.layout import decode, region_index

    # a grey person on a red background filling the crop's middle and its borders alike
    a = np.zeros((128, 64, 3), dtype=np.uint8)
    a[:] = (200, 30, 30)
    a[20:120, 20:44] = (120, 120, 124)
    image = Image.fromarray(a)
    mask = np.zeros((128, 64), dtype=np.uint8)
    mask[20:120, 20:44] = 255
    emb = LiteEmbedder()
    plain = decode(emb.embed_images([image]))[0][0, region_index("upper")]
    masked = decode(emb.embed_images([image], masks=[Image.fromarray(mask)]))[0][0, region_index("upper")]
    grey, red = COLOUR_TERMS.index("grey"), COLOUR_TERMS.index("red")
    assert masked[grey] > plain[grey] and masked[red] < plain[red]
    # no mask given: identical to the plain embedding
    assert np.allclose(emb.embed_images([image], masks=[None]), emb.embed_images([image]))


def test_a_bare_dark_does_not_settle_a_colour():
    assert "upper" in parse("A man in a black jacket.").attributes()
    assert "upper" not in parse("A man in a dark jacket.").attributes()
    s = QUESTIONERS["template"]().ask(_ctx(ROWS, "A man in a dark jacket."))
    assert s.attribute == "upper" and s.text == "What colour was his jacket?"
