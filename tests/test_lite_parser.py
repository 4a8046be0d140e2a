"""The lite description parser: garments to regions, colour synonyms, negation, don't-know, length."""

from __future__ import annotations

import pytest

from interreid.engine.lite.parser import parse


def colours(text):
    return {(c.region, c.colour, c.positive) for c in parse(text).colours}


def cues(text):
    return {(c.cue, c.value) for c in parse(text).cues}


def test_garments_map_to_regions():
    assert colours("A man in a red jacket, blue jeans, white sneakers and a black cap.") == {
        ("upper", "red", True), ("lower", "blue", True), ("feet", "white", True), ("head", "black", True)}
    assert colours("She wore a green dress.") == {("upper", "green", True), ("lower", "green", True)}


@pytest.mark.parametrize("word,term", [("navy", "blue"), ("maroon", "red"), ("burgundy", "red"), ("crimson", "red"),
                                       ("beige", "brown"), ("khaki", "brown"), ("tan", "brown"), ("violet", "purple"),
                                       ("lilac", "purple"), ("gray", "grey"), ("cream", "white"), ("ivory", "white")])
def test_synonyms(word, term):
    assert colours(f"a {word} coat") == {("upper", term, True)}


def test_dark_and_light_modify_the_colour():
    assert colours("dark blue trousers") == {("lower", "blue", True)}
    assert colours("a light grey top") == {("upper", "grey", True)}
    assert ("head", "dark", True) in colours("dark hair")  # "dark" alone: the family of dark colours


@pytest.mark.parametrize("text", ["He was not wearing red.", "No red.", "He wasn't wearing red.", "not red"])
def test_negations(text):
    assert colours(text) == {("upper", "red", False)}


def test_answer_prefix_no_is_not_a_negation_of_the_given_colour():
    assert colours("No, it was blue.") == {("upper", "blue", True)}
    assert colours("It wasn't red, but his shoes were white.") == {("upper", "red", False), ("feet", "white", True)}


@pytest.mark.parametrize("text", ["I don't know.", "Not sure.", "I can't remember the colour of his shoes.", ""])
def test_dont_know_gives_no_constraint(text):
    assert not parse(text)
    assert str(parse(text)) == "no constraints"


def test_bare_colour_attaches_to_most_recent_garment_else_upper():
    assert colours("His shoes. They were brown.") == {("feet", "brown", True)}
    assert colours("Blue.") == {("upper", "blue", True)}
    assert colours("His top was red and his shoes black.") == {("upper", "red", True), ("feet", "black", True)}


def test_colour_of_a_bag_is_not_a_garment_colour():
    assert colours("She carried a red bag.") == set()


def test_length_cues():
    assert cues("She wore a skirt.") == {("lower_length", "short")}
    assert cues("grey shorts") == {("lower_length", "short")}
    assert ("lower_length", "long") in cues("black trousers")
    assert ("lower_length", "long") in cues("He was not wearing shorts.")


def test_jeans_imply_blue_only_without_a_colour():
    weak = [c for c in parse("jeans").colours if c.region == "lower"]
    assert [(c.colour, c.weight < 0.5) for c in weak] == [("blue", True)]
    assert colours("black jeans") == {("lower", "black", True)}


def test_readable_str_and_attributes():
    cons = parse("A woman in a red top and a black skirt, not white shoes.")
    text = str(cons)
    assert "upper: red" in text and "lower: black" in text and "feet: not white" in text and "lower_length: short" in text
    assert cons.attributes() == {"upper", "lower", "lower_length"}  # a negation leaves the feet open


# -- real-footage wording (resources/devsets/vtest) ----------------------------------------------
def test_colour_of_a_part_is_a_detail_that_does_not_settle_the_garment():
    cons = parse("A young man in a dark puffy jacket with red on the shoulders.")
    red = next(c for c in cons.colours if c.colour == "red")
    assert red.detail and red.weight == 0.25 and red.label() == "top: red (detail)"
    assert "upper" not in cons.attributes()  # "dark" + a red detail: the jacket's colour is still open
    assert {c.colour for c in parse("a jacket with red upper sleeves").colours if c.detail} == {"red"}
    assert {c.colour for c in parse("a blue jacket with white stripes").colours if c.detail} == {"white"}
    plain = parse("a red jacket with long sleeves").colours
    assert [c.detail for c in plain] == [False] and plain[0].weight == 1.0
    # said both ways: the main colour wins
    both = parse("A red jacket. Red on the shoulders.").colours
    assert [(c.colour, c.detail, c.weight) for c in both] == [("red", False, 1.0)]


def test_skin_words_are_not_clothes():
    cons = parse("A black man in a dark striped jumper and jeans.")
    assert ("upper", "black", True) not in colours("A black man in a dark striped jumper and jeans.")
    assert "black man" in cons.unused
    assert colours("A white woman in a red coat.") == {("upper", "red", True)}


def test_a_bald_head_has_no_hair_colour():
    assert not any(c.region == "head" for c in parse("He was bald, maybe a little dark stubble.").colours)
    assert colours("He had a shaved head and a black jacket.") == {("upper", "black", True)}
    assert ("head", "black", True) in colours("He had short black hair.")


def test_carried_papers_take_no_garment_colour():
    assert colours("Some white papers.") == set()
    assert colours("Something white in his hand, maybe a paper.") == set()
    assert colours("Bag: Brown.") == set()
    assert colours("He had a bag. Black jacket.") == {("upper", "black", True)}


def test_a_long_coat_colours_the_legs_too():
    cons = parse("A woman wearing a long black coat.")
    lower = [c for c in cons.colours if c.region == "lower"]
    assert [(c.colour, c.weight) for c in lower] == [("black", 0.5)]
    assert ("upper", "black", True) in colours("A woman wearing a long black coat.")
    assert {c.region for c in parse("a black coat").colours} == {"upper"}  # not said to be long


def test_a_colour_reaches_its_garment_across_unknown_adjectives():
    from interreid.engine.lite.parser import parse

    cons = parse("She wore a white woolly hat, pale light blue padded jacket with a hood.")
    assert {(c.region, c.colour) for c in cons.colours} == {("head", "white"), ("upper", "blue")}
    # but not across a word the parser knows ("with"), nor to a bag
    assert {(c.region, c.colour) for c in parse("A red jacket with a brown leather bag.").colours} == {("upper", "red")}


def test_a_colour_word_that_is_not_a_basic_term_is_shown_as_the_witness_said_it():
    """What was understood says what the engine read a word as, beside the witness's word: "blonde" is
    searched as yellow, "navy blue" as dark blue, "teal" as blue and green; a basic term or a spelling
    ("gray") needs no note. A contradiction quotes the witness's word too."""
    from interreid.engine.lite.contradictions import reconcile

    labels = parse("long blonde hair, a navy blue jacket, a teal scarf and gray trousers").labels()
    assert "hair/head: yellow (said ‘blonde’; sure)" in labels
    assert "top: dark blue (said ‘navy blue’; sure)" in labels
    assert "trousers/legs: grey (sure)" in labels
    assert parse("a red top").labels()[0] == "top: red (sure)"
    assert [c.said for c in parse("a teal top").colours] == ["teal", "teal"]
    marked = reconcile("a woman with long blonde hair", "Hair: black.")
    assert "blonde hair" in marked and "contradicts the earlier ‘blonde hair’" in parse(marked).labels()[-1]
    assert parse("Blonde hair.").colours[0] == parse("Yellow hair.").colours[0]  # the same constraint
    # two words read as one colour: neither is the witness's word for it (not "said ‘blue navy’")
    assert "top: blue (sure)" in parse("a light blue and navy jacket").labels()


def test_the_witness_words_keep_the_shade_said_with_them():
    """"dark blonde" is quoted back as "dark blonde", not "blonde": in the label and in a later contradiction.
    A shade said with a basic term still needs no quote ("dark blue"); the shade stays with its own colour."""
    from interreid.engine.lite.contradictions import reconcile

    assert parse("long dark blonde hair").labels() == ["hair/head: dark yellow (said ‘dark blonde’; sure)"]
    assert parse("very dark blonde hair").colours[0].said == "very dark blonde"
    assert parse("a dark navy blue jacket").colours[0].said == "dark navy blue"
    assert parse("a dark blue jacket").colours[0].said == ""
    assert [c.said for c in parse("dark blonde and ginger hair").colours] == ["dark blonde", "ginger"]
    assert [c.said for c in parse("a red and dark navy jacket").colours] == ["", "dark navy"]
    marked = reconcile("a woman with dark blonde hair", "Her hair was blue.")
    assert "contradicts the earlier ‘dark blonde hair’" in parse(marked).labels()[-1]


def test_colour_words_ending_in_ish_are_read_in_their_usual_spellings():
    """"reddish", "purplish", "whitish": "a dark reddish jacket" was read as only "dark"."""
    for word, term in (("reddish", "red"), ("purplish", "purple"), ("whitish", "white"), ("bluish", "blue")):
        colours = parse(f"a dark {word} jacket").colours
        assert [(c.colour, c.weight) for c in colours] == [(term, pytest.approx(0.7))], word
        assert colours[0].said == f"dark {word}"


def test_a_shade_belongs_to_the_colour_it_qualifies():
    """"navy" is a dark blue and "cream" a light white, but they do not darken or lighten the other colour of
    a two-colour garment: "a red and navy jacket" was read as dark red and dark blue, "cream and black" as
    white and a light black (a black that also accepts grey)."""
    def shades(text):
        return {(c.colour, c.shade) for c in parse(text).colours}

    assert shades("a red and navy jacket") == {("red", ""), ("blue", "dark")}
    assert shades("a cream and black top") == {("white", "light"), ("black", "")}
    assert shades("a dark red and navy jacket") == {("red", "dark"), ("blue", "dark")}
    assert shades("a light blue and white shirt") == {("blue", "light"), ("white", "")}
    assert shades("very dark blue coat") == {("blue", "dark")}
    assert shades("blue jeans") == {("blue", "denim")}  # jeans' blue reads grey or dark on camera
    assert shades("blue and dark grey jeans") == {("blue", "denim"), ("grey", "dark")}  # the blue is still denim
    assert shades("Brown or dark, I'm not sure.") == {("brown", "dark")}  # a shade after its colour
