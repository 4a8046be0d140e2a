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
