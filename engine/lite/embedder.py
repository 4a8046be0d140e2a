"""The lite embedder: body-region colour names and garment-shape cues of a person crop, numpy only.

Each crop is resized to ``SIZE`` (h x w = 64 x 32) and converted to Lab. Every pixel gets a weight:
a horizontal Gaussian centred on the crop (detector crops centre the person) times a foreground
term that down-weights pixels close in colour to the crop's left and right borders on nearby rows
(the local background), times a term that down-weights skin, so that the face and bare arms or
legs do not count as a brown or pink garment. A region's colour distribution is the weighted
mean of its pixels' soft colour names (``colours.name_colours``).

Cues (probabilities of the ``layout.CUES`` values): bare skin on the legs means shorts or a skirt;
bare skin on the upper body (forearms) means short sleeves. Skin shares map to probabilities by a
logistic whose midpoint and slope were set on the synthetic pedestrians (``engine.synth``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image

from ..embedder import EmbedderIdentity, l2_normalise
from .colours import name_colours, srgb_to_lab
from .layout import CUES, DIM, REGION_ROWS, REGIONS

SIZE = (64, 32)  # (h, w) every crop is resized to
#: horizontal Gaussian sigma per region, fraction of width (the head is narrow, the body wider)
CENTRE_SIGMA: dict[str, float] = {"head": 0.10, "upper": 0.25, "lower": 0.2, "feet": 0.22}
CUE_SIGMA = 0.25
RING_SAMPLES = 48  # border-ring pixels that model the whole crop's background
BORDER_ROWS = 2  # border samples come from rows r-2..r+2
BACKGROUND_SIGMA = 14.0  # Lab units: pixels this close to the border count ~40 % less
BACKGROUND_FLOOR = 0.15  # weight left to a pixel identical to the border
SKIN_SUPPRESS = 0.8  # how much skin is down-weighted in the garment colours
#: cue -> (rows as fractions of height, logistic midpoint, logistic slope) on the skin share
CUE_ZONES: dict[str, tuple[tuple[float, float], float, float]] = {
    "lower_length": ((0.62, 0.86), 0.15, 0.05),
    "sleeves": ((0.24, 0.46), 0.025, 0.008),
}


class LiteEmbedder:
    """Colour-name features of person crops: ``identity = lite-colour v1``, dimension ``layout.DIM``."""

    identity = EmbedderIdentity("lite-colour", "1", DIM)
    batch_size = 64
    #: an RGBA image's alpha is read as a foreground mask (video crops: engine/video/background.py)
    uses_masks = True

    def embed_images(self, images: Sequence[Image.Image],
                     masks: Sequence[Image.Image | None] | None = None) -> np.ndarray:
        """Embed PIL images of any size. Returns float32 (len(images), DIM), rows L2-normalised.

        ``masks`` (optional, one per image, None where there is none): a person/foreground mask of the
        image's size (greyscale, white = person), e.g. from a video's background model. Where no mask
        is given, an RGBA image's alpha channel is its mask (video crops). Where a mask exists it
        replaces the border heuristic's guess of which pixels are background."""
        if len(images) == 0:
            return np.zeros((0, DIM), dtype=np.float32)
        h, w = SIZE
        rgb = np.stack([np.asarray(im.convert("RGB").resize((w, h), Image.Resampling.BILINEAR))
                        for im in images])
        given = list(masks) if masks is not None else [None] * len(images)
        given = [m if m is not None else (im.getchannel("A") if im.mode == "RGBA" else None)
                 for im, m in zip(images, given)]
        fg = None
        if any(m is not None for m in given):
            fg = np.full((len(images), h, w), np.nan, dtype=np.float32)
            for i, m in enumerate(given):
                if m is not None:
                    fg[i] = np.asarray(m.convert("L").resize((w, h), Image.Resampling.BILINEAR),
                                       dtype=np.float32) / 255.0
        return l2_normalise(raw_features(rgb, fg))


def raw_features(rgb: np.ndarray, masks: np.ndarray | None = None) -> np.ndarray:
    """Un-normalised features of a batch of crops already at ``SIZE``: uint8 (N, h, w, 3) in,
    float32 (N, DIM) out (region distributions, then cue probabilities). ``masks`` (N, h, w) in
    [0, 1], NaN rows where a crop has none: given foreground masks replace the border heuristic."""
    lab = srgb_to_lab(rgb)
    n, h, w, _ = lab.shape
    names = name_colours(lab)  # (N, h, w, 11)
    fg = _foreground(lab)  # (N, h, w)
    if masks is not None:
        have = ~np.isnan(masks).any(axis=(1, 2))
        fg[have] = BACKGROUND_FLOOR + (1.0 - BACKGROUND_FLOOR) * np.clip(masks[have], 0.0, 1.0)
    skin = _skin(lab)
    garment = fg * (1.0 - SKIN_SUPPRESS * skin)
    base = _centre(w, CUE_SIGMA)[None, None, :] * fg
    out = np.empty((n, DIM), dtype=np.float32)
    for i, region in enumerate(REGIONS):
        r0, r1 = _rows(REGION_ROWS[region], h)
        wt = garment[:, r0:r1] * _centre(w, CENTRE_SIGMA[region])
        hist = np.einsum("nhw,nhwc->nc", wt, names[:, r0:r1])
        out[:, i * 11:(i + 1) * 11] = hist / np.maximum(hist.sum(1, keepdims=True), 1e-12)
    for j, cue in enumerate(CUES):
        (f0, f1), mid, slope = CUE_ZONES[cue]
        r0, r1 = _rows((f0, f1), h)
        share = (base[:, r0:r1] * skin[:, r0:r1]).sum((1, 2)) / np.maximum(base[:, r0:r1].sum((1, 2)), 1e-12)
        out[:, len(REGIONS) * 11 + j] = 1.0 / (1.0 + np.exp(-(share - mid) / slope))
    return out


def skin_shares(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Raw skin share per cue zone for crops at ``SIZE`` (N, h, w, 3); for calibrating ``CUE_ZONES``."""
    lab = srgb_to_lab(rgb)
    h, w = lab.shape[1:3]
    base = _centre(w, CUE_SIGMA)[None, None, :] * _foreground(lab)
    skin = _skin(lab)
    out = {}
    for cue, ((f0, f1), _, _) in CUE_ZONES.items():
        r0, r1 = _rows((f0, f1), h)
        out[cue] = (base[:, r0:r1] * skin[:, r0:r1]).sum((1, 2)) / base[:, r0:r1].sum((1, 2))
    return out


def _centre(w: int, sigma: float) -> np.ndarray:
    """(w,) horizontal Gaussian centred on the crop, ``sigma`` a fraction of the width."""
    x = (np.arange(w, dtype=np.float32) + 0.5) / w - 0.5
    return np.exp(-0.5 * (x / sigma) ** 2).astype(np.float32)


def _rows(span: tuple[float, float], h: int) -> tuple[int, int]:
    return int(round(span[0] * h)), max(int(round(span[1] * h)), int(round(span[0] * h)) + 1)


def _foreground(lab: np.ndarray) -> np.ndarray:
    """(N, h, w) in [BACKGROUND_FLOOR, 1]: low where a pixel matches a border pixel of nearby rows."""
    n, h, w, _ = lab.shape
    border = np.concatenate([lab[:, :, :1], lab[:, :, -1:]], axis=2)  # (N, h, 2, 3)
    padded = np.pad(border, ((0, 0), (BORDER_ROWS, BORDER_ROWS), (0, 0), (0, 0)), mode="edge")
    samples = np.concatenate([padded[:, s:s + h] for s in range(2 * BORDER_ROWS + 1)], axis=2)  # (N, h, S, 3)
    d2 = ((lab[:, :, :, None, :] - samples[:, :, None, :, :]) ** 2).sum(-1).min(-1)  # (N, h, w)
    # plus the whole border ring (top, bottom and sides), for background that recurs anywhere
    ring = np.concatenate([lab[:, 0], lab[:, -1], lab[:, 1:-1, 0], lab[:, 1:-1, -1]], axis=1)  # (N, R, 3)
    ring = ring[:, np.linspace(0, ring.shape[1] - 1, RING_SAMPLES).astype(int)]
    flat = lab.reshape(n, h * w, 3)
    d2_ring = ((flat * flat).sum(-1)[:, :, None] - 2.0 * np.einsum("npc,nrc->npr", flat, ring)
               + (ring * ring).sum(-1)[:, None, :]).min(-1).reshape(n, h, w)
    d2 = np.minimum(d2, np.maximum(d2_ring, 0.0))
    fg = 1.0 - np.exp(-0.5 * d2 / BACKGROUND_SIGMA ** 2)
    return BACKGROUND_FLOOR + (1.0 - BACKGROUND_FLOOR) * fg


def _skin(lab: np.ndarray) -> np.ndarray:
    """(N, h, w) skin likelihood in [0, 1]: a Gaussian around typical skin chroma (a* 12, b* 19),
    covering light to dark skin, gated off for very dark and very light pixels."""
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.exp(-0.5 * (((a - 12.0) / 6.0) ** 2 + ((b - 18.0) / 7.0) ** 2))
    light = 1.0 / (1.0 + np.exp(-(L - 25.0) / 3.0)) * 1.0 / (1.0 + np.exp((L - 92.0) / 2.0))
    return (chroma * light).astype(np.float32)
