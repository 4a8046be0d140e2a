"""Short answers borrow their question's garment for the lite parser (lite engine only)."""

from interreid.engine.lite.context import contextualise
from interreid.engine.lite.parser import parse


def _regions(text):
    return {(c.region, c.colour, c.positive) for c in parse(text).colours}


def test_bare_colour_takes_the_questions_garment():
    out = contextualise("Were his shoes A) grey or B) white?", "B) White.", "White.", "feet")
    assert ("feet", "white", True) in _regions(out)
    out = contextualise("Was his hair A) grey, B) black, or C) brown?", "Blue.", "Blue.", "head")
    assert _regions(out) == {("head", "blue", True)}


def test_yes_and_no_to_a_colour_question():
    assert ("upper", "red", True) in _regions(contextualise("Was his top red?", "Yes.", "Yes.", "upper"))
    assert ("upper", "red", False) in _regions(contextualise("Was his top red?", "No.", "No.", "upper"))
    no_jacket = contextualise("Was his jacket black?", "No.", "No.", "upper")
    assert _regions(no_jacket) == {("upper", "black", False)}
    assert ("sleeves", "short") not in {(c.cue, c.value) for c in parse(no_jacket).cues}


def test_yes_to_a_multiple_choice_question_adds_nothing():
    q = "Were his jeans A) blue, B) grey, or C) black?"
    assert not parse(contextualise(q, "Yes.", "Yes.", "lower"))


def test_no_to_a_length_question_gives_the_opposite():
    out = contextualise("Was she wearing shorts or a skirt?", "No.", "No.", "lower_length")
    assert {(c.cue, c.value) for c in parse(out).cues} == {("lower_length", "long")}


def test_full_sentences_are_left_alone():
    full = "Her trousers were blue."
    assert contextualise("What colour were her trousers?", full, full, "lower") == full


def test_loop_query_uses_it(tmp_path, crops_dir):
    from interreid.engine.embedder import create_embedder
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.importer import import_sources
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview
    from interreid.engine.interview.protocols import Turn
    from interreid.engine.interview.query import readable_query

    emb = create_embedder("lite")
    with Gallery.create(tmp_path / "g", emb.identity) as g:
        import_sources(g, emb, [crops_dir])
        iv = Interview(g, build_engine(g))
        iv.initial = "A man in dark trousers."
        iv.dialogue = [Turn("Were his shoes A) grey or B) white?", "B) White.", "feet"),
                       Turn("What colour was his hat?", "I don't know.", None)]
        assert iv.query() == "A man in dark trousers. [answer] Shoes: White. [/answer]"
        assert readable_query(iv.query()) == "A man in dark trousers. Shoes: White."


def test_a_bare_colour_for_a_bag_is_not_a_garment_colour():
    out = contextualise("What colour was her bag?", "Brown.", "Brown.", None)
    assert out == "Bag: Brown." and _regions(out) == set()


def test_a_bare_yes_or_no_to_a_what_colour_question_says_nothing():
    """'No' (or 'No idea') to 'What colour was his jacket?' is not 'short sleeves': the jacket's long sleeves
    were implied by the garment named, not asked about. Found by a new user's trial: the chip read
    'sleeves: short (sure)' after the witness said 'no'."""
    for question, region in (("What colour was his jacket?", "upper"), ("What colour were her trousers?", "lower"),
                             ("Which colour were the shoes?", "feet")):
        for answer in ("No.", "no", "No idea.", "Yes.", "No, no idea"):
            said = parse(contextualise(question, answer, answer, region))
            assert not said.colours and not said.cues, (question, answer, said)
    no_idea = parse(contextualise("Was she wearing shorts or a skirt?", "No idea.", "No idea.", "lower_length"))
    assert not no_idea.cues  # a yes/no question answered 'no idea' says nothing either
