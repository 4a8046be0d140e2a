"""The lite embedding's layout, and how to read region distributions and cues back from a vector.

A raw lite feature is the concatenation of one 11-bin colour-name distribution per body region
(each sums to 1, regions in ``REGIONS`` order, terms in ``COLOUR_TERMS`` order) followed by the cue
probabilities in ``CUES`` order, then L2-normalised. Because every raw block sums to 1, the common
scale factor of a normalised vector is the mean block sum, which undoes the normalisation exactly.
"""

from __future__ import annotations

import numpy as np

from .colours import COLOUR_TERMS

REGIONS: tuple[str, ...] = ("head", "upper", "lower", "feet")
#: vertical extent of each region as fractions of the crop height (overlapping on purpose: the
#: boundaries move with pose and framing)
REGION_ROWS: dict[str, tuple[float, float]] = {"head": (0.0, 0.16), "upper": (0.15, 0.52),
                                               "lower": (0.50, 0.88), "feet": (0.86, 1.0)}
#: cue name -> the attribute value its probability is about
CUES: dict[str, str] = {"lower_length": "short", "sleeves": "short"}
CUE_VALUES: dict[str, tuple[str, str]] = {"lower_length": ("short", "long"), "sleeves": ("short", "long")}

N_TERMS = len(COLOUR_TERMS)
COLOUR_DIM = len(REGIONS) * N_TERMS
DIM = COLOUR_DIM + len(CUES)


def decode(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split lite vectors (N, DIM) (normalised or raw) into region distributions (N, 4, 11), rows
    summing to 1, and cue probabilities (N, len(CUES)) in [0, 1]. float32."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    if v.shape[1] != DIM:
        raise ValueError(f"lite vectors have {DIM} columns, got {v.shape[1]}")
    blocks = v[:, :COLOUR_DIM].reshape(-1, len(REGIONS), N_TERMS)
    sums = blocks.sum(-1)  # (N, 4): each equals the normalisation scale
    scale = np.maximum(sums.mean(1), 1e-12)
    dists = blocks / np.maximum(sums, 1e-12)[..., None]
    cues = np.clip(v[:, COLOUR_DIM:] / scale[:, None], 0.0, 1.0)
    return dists, cues


def region_index(region: str) -> int:
    return REGIONS.index(region)


def cue_index(cue: str) -> int:
    return list(CUES).index(cue)
