"""How much the lite engine trusts what it sees: colour neighbourhoods, shade families, and
per-attribute reliabilities (see docs/lite-engine.md).

Colour naming of real CCTV crops is noisy: a navy jacket reads partly black, jeans in shade read
grey, a face or the pavement leaks into the hair and shoe regions. The retriever therefore

* compares a stated colour with a crop through a *neighbourhood* (``NEAR``): "black" is also
  partly satisfied by blue (navy), grey (charcoal) and brown (dark brown) pixels, never fully;
* reads "dark" and "light" as colour families (``SHADES``): "dark blue" is blue or black,
  "light blue" blue or white or grey, "dark" alone any dark colour;
* weighs each attribute by how reliably it is seen (``RELIABILITY``): the upper and lower body are
  large and central, the hair and shoes are small and mixed with skin and pavement;
* floors every probability (``FLOOR``) so that one misread region never vetoes a crop, and tempers
  the whole log-likelihood (``TEMPERATURE``) when it is turned into a posterior.

``RELIABILITY`` is measured on the real dev set (resources/devsets/vtest) and shrunk towards the value
measured the same way on the synthetic pedestrians, with a strong prior: ``scripts/fit_lite_reliability.py``
fits it leaving one identity out and reports the spread. (The synthetic value was first assumed to be
1.0 for every region; measured, it is 0.91 for the top, 0.87 for the legs, 0.66 for the hair and 0.49
for the shoes, and the shoes' weight on real footage fell from 0.40 to 0.23 with it.)
"""

from __future__ import annotations

import numpy as np

from .colours import COLOUR_TERMS

#: stated colour -> {observed term: how far that term also satisfies it (0..1)}; the term itself is 1
NEAR: dict[str, dict[str, float]] = {
    "black": {"grey": 0.45, "blue": 0.35, "brown": 0.3, "purple": 0.15},
    "white": {"grey": 0.45, "yellow": 0.15, "blue": 0.15, "pink": 0.1},
    "grey": {"black": 0.45, "white": 0.4, "blue": 0.3, "brown": 0.2},
    "blue": {"grey": 0.3, "black": 0.3, "purple": 0.25},
    "brown": {"black": 0.3, "orange": 0.3, "grey": 0.25, "red": 0.2, "yellow": 0.2},
    "red": {"pink": 0.4, "orange": 0.3, "brown": 0.3, "purple": 0.25},
    "orange": {"red": 0.3, "yellow": 0.3, "brown": 0.35},
    "yellow": {"orange": 0.3, "brown": 0.3, "white": 0.3},
    "green": {"grey": 0.2, "brown": 0.2, "blue": 0.15, "yellow": 0.15},
    "purple": {"blue": 0.3, "pink": 0.3, "red": 0.25},
    "pink": {"red": 0.4, "purple": 0.3, "white": 0.2},
}
#: shade -> (terms it adds to any stated colour, with their share); "dark blue" is also partly black
SHADES: dict[str, dict[str, float]] = {
    "dark": {"black": 0.6, "grey": 0.3},
    "light": {"white": 0.5, "grey": 0.4},
    # denim: a desaturated blue that cameras often render grey or near-black
    "denim": {"grey": 0.55, "black": 0.4},
}
#: a shade said on its own ("dark", "light"): the family, with no colour favoured
SHADE_FAMILY: dict[str, dict[str, float]] = {
    "dark": {"black": 1.0, "grey": 0.6, "blue": 0.55, "brown": 0.55, "purple": 0.4, "green": 0.35, "red": 0.2},
    "light": {"white": 1.0, "grey": 0.7, "yellow": 0.4, "blue": 0.35, "pink": 0.35},
}
#: attribute -> weight of its evidence (1.0 = a perfectly visible attribute)
#: colours: scripts/fit_lite_reliability.py on resources/devsets/vtest, prior measured on the synthetic
#: set (leave-one-identity-out spread ±0.02-0.03); cues: not fitted (the dev set has no shorts or short
#: sleeves), set by hand below the colours
RELIABILITY: dict[str, float] = {"upper": 0.61, "lower": 0.61, "head": 0.46, "feet": 0.23,
                                 "lower_length": 0.5, "sleeves": 0.3}
#: stated colour -> factor on its evidence, relative to colours on average (1.0 for colours the dev set
#: does not state); fitted by the same script, shrunk towards 1.0, kept within [0.5, 1.2]. "dark" on
#: its own is vague, grey is easily confused with shadow and pavement.
COLOUR_RELIABILITY: dict[str, float] = {"black": 1.15, "blue": 1.0, "brown": 1.1, "dark": 0.62, "grey": 0.8,
                                        "red": 1.2, "white": 0.9, "yellow": 0.9}
FLOOR = 0.05  # probability floor: one misread region costs at most log(1/FLOOR) times its weight
NEGATIVE_WEIGHT = 0.5  # "not red" counts half as much as "red": a soft exclusion
TEMPERATURE = 1.5  # the log-likelihood is divided by this before it becomes a posterior


def kernel_row(colour: str, shade: str = "") -> np.ndarray:
    """(11,) how far each observed colour term satisfies the stated ``colour`` (with ``shade``:
    "dark", "light" or ""); ``colour`` may be "dark"/"light" alone for the family."""
    row = np.zeros(len(COLOUR_TERMS), dtype=np.float32)
    if colour in SHADE_FAMILY:
        table = SHADE_FAMILY[colour]
    else:
        table = {colour: 1.0, **NEAR.get(colour, {})}
        for term, share in SHADES.get(shade, {}).items():
            if term != colour:
                table[term] = max(table.get(term, 0.0), share)
    for term, v in table.items():
        row[COLOUR_TERMS.index(term)] = v
    return row


def satisfied(dists: np.ndarray, colour: str, shade: str = "") -> np.ndarray:
    """(N,) in [0, 1]: how far each crop's colour distribution (N, 11) satisfies the stated colour."""
    return np.minimum(np.asarray(dists, dtype=np.float32) @ kernel_row(colour, shade), 1.0)



#: an answer's evidence weighs its attribute's reliability this many times, the description's once. The
#: camera's view of an attribute enters an answer twice: as for any statement (the colour the witness
#: names shows in the attribute's pixels only so often), and again through the question itself, which
#: the questioner asks about the attribute where the top candidates' readings differ most: on an
#: attribute the camera reads poorly, those differences are mostly noise, and an answer about it re-ranks
#: the candidates by that noise (a winner's curse). Squaring the reliability takes that selection once
#: more. Set by that argument, not fitted: powers from 1 to 3 were measured (docs/lite-engine.md section 7);
#: the real dev set would take more (2.5-3), the synthetic set less (1.5), and a power picked on nine of
#: the dev set's ten people helps the one left out less than 2 does.
ANSWER_RELIABILITY_POWER = 2.0


def answer_factor(attribute: str) -> float:
    """How much an answer's statement about ``attribute`` counts relative to the same words in the
    description: its reliability to the power ``ANSWER_RELIABILITY_POWER`` − 1 (the top 0.61, shoes 0.23)."""
    return RELIABILITY[attribute] ** (ANSWER_RELIABILITY_POWER - 1.0)


def cue_weight(cue: str, firmness: float, answered: bool = False) -> float:
    """The factor on a shape cue's log(F + (1 - F) q): its firmness and reliability, less for an answer."""
    return firmness * RELIABILITY[cue] * (answer_factor(cue) if answered else 1.0)


def colour_weight(region: str, colour: str, positive: bool, firmness: float, share: float = 1.0,
                  answered: bool = False) -> float:
    """The factor on a colour constraint's log(F + (1 - F) q): its firmness, its region's and colour's
    reliability, and its region share (``retriever.region_shares``) or, for a "not", ``NEGATIVE_WEIGHT``;
    for a statement only an answer made (``answered``), also ``answer_factor``.
    One definition for the reference formula and the fast path."""
    return firmness * RELIABILITY[region] * COLOUR_RELIABILITY.get(colour, 1.0) * \
        (share if positive else NEGATIVE_WEIGHT) * (answer_factor(region) if answered else 1.0)
