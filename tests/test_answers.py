"""Answer cleaning before an answer joins the retrieval query (docs/architecture.md)."""

from __future__ import annotations

import pytest

from interreid.engine.interview.answers import clean_answer, is_dont_know


@pytest.mark.parametrize("raw,clean", [
    ("Yes, he is wearing a red jacket.", "He is wearing a red jacket."),
    ("No, it was blue.", "It was blue."),
    ("A) Black.", "Black."),
    ("c) long trousers.", "Long trousers."),
    ("blue jeans", "Blue jeans"),
    ("I don't know.", ""),
    ("I do not remember. The shoes were white.", "The shoes were white."),
    ("His shirt is red. I don't think he had a bag. He also wore bl", "His shirt is red."),
    ("No red.", "No red."),
    ("yes, dark green", "Dark green"),
])
def test_clean_answer(raw, clean):
    assert clean_answer(raw) == clean


@pytest.mark.parametrize("raw,dk", [("I don't know.", True), ("Not sure.", True), ("", True), ("No idea", True),
                                    ("I do not remember. The shoes were white.", False), ("Red.", False),
                                    ("No, it was blue.", False)])
def test_is_dont_know(raw, dk):
    assert is_dont_know(raw) is dk
