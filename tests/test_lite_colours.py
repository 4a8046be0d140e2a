"""Lite colour features: soft colour naming, region distributions of drawn people, layout, speed."""

from __future__ import annotations


import numpy as np
import pytest

from interreid.engine.embedder import create_embedder
from interreid.engine.lite.colours import COLOUR_TERMS, name_rgb
from interreid.engine.lite.embedder import LiteEmbedder
from interreid.engine.lite.layout import DIM, REGIONS, decode
from imagemaker import RGB, person


@pytest.mark.parametrize("term", COLOUR_TERMS)
def test_prototype_colours_are_named_right(term):
    p = name_rgb(RGB[term])
    assert max(p, key=p.get) == term
    assert abs(sum(p.values()) - 1.0) < 1e-5


def test_naming_is_soft_between_neighbours():
    p = name_rgb((60, 60, 60))  # between black and grey
    assert p["black"] > 0.1 and p["grey"] > 0.1
    assert p["red"] < 0.05


@pytest.mark.parametrize("upper,lower,head,feet", [("red", "blue", "black", "white"), ("yellow", "black", "brown", "red"),
                                                   ("green", "pink", "black", "brown"), ("purple", "grey", "grey", "black"),
                                                   ("white", "orange", "black", "blue")])
def test_right_colour_dominates_each_region(upper, lower, head, feet):
    img = person(upper, lower, head=head, feet=feet, seed=3, background=(90, 130, 90))
    dists, _ = decode(LiteEmbedder().embed_images([img]))
    got = {r: COLOUR_TERMS[int(dists[0, i].argmax())] for i, r in enumerate(REGIONS)}
    assert got == {"head": head, "upper": upper, "lower": lower, "feet": feet}


def test_background_is_down_weighted():
    # a green background must not leak into a grey figure's upper-body distribution much
    img = person("grey", "grey", background=(30, 150, 40))
    dists, _ = decode(LiteEmbedder().embed_images([img]))
    upper = dists[0, REGIONS.index("upper")]
    assert upper[COLOUR_TERMS.index("grey")] > 0.6
    assert upper[COLOUR_TERMS.index("green")] < 0.15


def test_layout_normalised_and_decodable():
    emb = create_embedder("lite")
    assert emb.identity.name == "lite-colour" and emb.identity.dim == DIM
    imgs = [person("red", "blue", seed=i, size=(48 + 8 * i, 100 + 10 * i)) for i in range(3)]
    v = emb.embed_images(imgs)
    assert v.shape == (3, DIM) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    dists, cues = decode(v)
    assert np.allclose(dists.sum(-1), 1.0, atol=1e-5)
    assert ((cues >= 0) & (cues <= 1)).all()
    assert emb.embed_images([]).shape == (0, DIM)


def test_bare_legs_mean_short_lower_garment():
    from interreid.engine.synth.people import render, sample_appearance, sample_shot
    from interreid.engine.lite.layout import cue_index

    rng = np.random.default_rng(5)
    looks, imgs = [], []
    while len(imgs) < 40:
        a = sample_appearance(rng)
        looks.append(a.lower_length == "short")
        imgs.append(render(a, sample_shot(rng), rng))
    _, cues = decode(LiteEmbedder().embed_images(imgs))
    said_short = cues[:, cue_index("lower_length")] > 0.5
    assert np.mean(said_short == np.array(looks)) >= 0.85
