"""Soft colour naming over the 11 basic colour terms (Berlin & Kay), with no learned weights.

Each term is a small mixture of focal prototypes given in sRGB and compared in CIELAB (D65), with
lightness differences down-weighted by ``L_WEIGHT`` so that shading changes a pixel's name less
than a change of hue does. A pixel's name distribution is

    p(term | x) ∝ Σ_{k ∈ term} exp(-d(x, prototype_k) / TEMPERATURE)

(d in Lab units). Several prototypes per term let one term cover a range (navy to light blue,
tan to dark brown) without stretching its neighbours.
"""

from __future__ import annotations

import numpy as np

COLOUR_TERMS: tuple[str, ...] = ("black", "white", "grey", "red", "orange", "yellow", "green", "blue",
                                 "purple", "pink", "brown")

#: focal prototypes per term, sRGB 0-255
PROTOTYPES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "black": ((0, 0, 0), (30, 30, 32)),
    "white": ((255, 255, 255), (228, 228, 222)),
    "grey": ((78, 78, 80), (122, 122, 124), (165, 165, 165)),
    "red": ((200, 25, 30), (140, 20, 28), (225, 65, 60)),
    "orange": ((240, 135, 20), (250, 170, 70)),
    "yellow": ((238, 215, 40), (245, 235, 130)),
    "green": ((40, 145, 55), (25, 80, 35), (130, 185, 90)),
    "blue": ((35, 70, 195), (25, 35, 95), (110, 150, 215), (70, 95, 135)),
    "purple": ((125, 45, 160), (70, 30, 90), (175, 125, 205)),
    "pink": ((240, 145, 190), (250, 195, 210), (215, 75, 145)),
    "brown": ((115, 70, 35), (70, 45, 25), (165, 120, 80)),
}
TEMPERATURE = 6.0  # Lab units: a pixel 6 units nearer one prototype is e times likelier that term
L_WEIGHT = 0.5     # lightness counts half as much as chroma in the distance


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (..., 3) in 0-255 to CIELAB (..., 3), D65 white; float32."""
    c = np.asarray(rgb, dtype=np.float32) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]], dtype=np.float32)
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    lab = np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])],
                   axis=-1)
    return lab.astype(np.float32)


def _prototype_table() -> tuple[np.ndarray, np.ndarray]:
    rgb = [p for t in COLOUR_TERMS for p in PROTOTYPES[t]]
    owner = [i for i, t in enumerate(COLOUR_TERMS) for _ in PROTOTYPES[t]]
    membership = np.zeros((len(rgb), len(COLOUR_TERMS)), dtype=np.float32)
    membership[np.arange(len(rgb)), owner] = 1.0
    return srgb_to_lab(np.array(rgb, dtype=np.float32)), membership


_PROTO_LAB, _MEMBERSHIP = _prototype_table()
_SCALE = np.array([L_WEIGHT, 1.0, 1.0], dtype=np.float32)


def name_colours(lab: np.ndarray) -> np.ndarray:
    """Soft colour names of Lab pixels (..., 3). Returns float32 (..., 11), each row sums to 1,
    columns in ``COLOUR_TERMS`` order."""
    lab = np.asarray(lab, dtype=np.float32)
    flat = lab.reshape(-1, 3) * _SCALE
    protos = _PROTO_LAB * _SCALE
    # squared distances via the expansion |x|^2 - 2 x.p + |p|^2 (one matmul, no (n, P, 3) temporary)
    d2 = (flat * flat).sum(1, keepdims=True) - 2.0 * flat @ protos.T + (protos * protos).sum(1)
    d = np.sqrt(np.maximum(d2, 0.0))
    e = np.exp(-(d - d.min(1, keepdims=True)) / TEMPERATURE)
    p = e @ _MEMBERSHIP
    p /= p.sum(1, keepdims=True)
    return p.reshape(*lab.shape[:-1], len(COLOUR_TERMS))


def name_rgb(rgb) -> dict[str, float]:
    """Soft colour names of one sRGB colour (0-255), as {term: probability}; for tests and display."""
    p = name_colours(srgb_to_lab(np.asarray(rgb, dtype=np.float32)[None, :3]))[0]
    return {t: float(v) for t, v in zip(COLOUR_TERMS, p)}
