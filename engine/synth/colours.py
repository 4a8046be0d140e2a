"""The 11 basic colour terms (Berlin & Kay) with the sRGB prototypes the synthetic people are drawn in.

Each identity's garment is a *shade* of its colour's prototype: a random offset that still lies
nearer to its own prototype than to any other, so the declared colour name is the pixels' truth.
"""

from __future__ import annotations

import numpy as np

BASIC_COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (22, 22, 24),
    "white": (238, 238, 234),
    "grey": (128, 128, 128),
    "red": (200, 28, 32),
    "orange": (240, 135, 20),
    "yellow": (238, 215, 40),
    "green": (40, 145, 55),
    "blue": (35, 70, 195),
    "purple": (125, 45, 160),
    "pink": (240, 145, 190),
    "brown": (115, 70, 35),
}
COLOUR_NAMES: tuple[str, ...] = tuple(BASIC_COLOURS)
_PROTOTYPES = np.array([BASIC_COLOURS[n] for n in COLOUR_NAMES], dtype=np.float64)


def nearest_colour(rgb) -> str:
    """Name of the basic colour whose prototype is nearest (Euclidean, sRGB 0-255) to ``rgb``."""
    d = np.linalg.norm(_PROTOTYPES - np.asarray(rgb, dtype=np.float64)[:3], axis=1)
    return COLOUR_NAMES[int(np.argmin(d))]


def colour_margin(rgb, name: str) -> float:
    """Distance to the nearest *other* prototype minus distance to ``name``'s (> 0: unambiguous)."""
    d = np.linalg.norm(_PROTOTYPES - np.asarray(rgb, dtype=np.float64)[:3], axis=1)
    own = COLOUR_NAMES.index(name)
    return float(np.min(np.delete(d, own)) - d[own])


def sample_shade(name: str, rng: np.random.Generator, spread: int = 18, margin: float = 45.0) -> tuple[int, int, int]:
    """A shade of ``name``: the prototype moved by up to ``spread`` per channel, kept ``margin`` nearer
    its own prototype than any other so lighting jitter cannot change its name."""
    base = np.array(BASIC_COLOURS[name], dtype=np.int64)
    for _ in range(20):
        shade = np.clip(base + rng.integers(-spread, spread + 1, size=3), 0, 255)
        if colour_margin(shade, name) >= margin:
            return int(shade[0]), int(shade[1]), int(shade[2])
    return tuple(int(v) for v in base)  # type: ignore[return-value]
