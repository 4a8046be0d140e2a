"""The one image preprocessing of the full engine, shared by export, PyTorch and ONNX paths.

The paper's convention (IRRA): resize the crop straight to height x width (no crop, no aspect
padding) with bicubic resampling, scale to [0, 1], normalise with CLIP's mean and std. PIL does
the resize, so the result is the same as torchvision's ``Resize((384, 128), BICUBIC)`` on a PIL
image, and no torch is needed at run time.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
DEFAULT_SIZE = (384, 128)  # (height, width)

_RESAMPLE = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


def preprocess_image(image: Image.Image, size: Sequence[int] = DEFAULT_SIZE,
                     mean: Sequence[float] = CLIP_MEAN, std: Sequence[float] = CLIP_STD,
                     interpolation: str = "bicubic") -> np.ndarray:
    """One PIL image -> float32 array (3, height, width), normalised.

    ``size`` is (height, width). Any PIL mode is accepted; it is converted to RGB first.
    """
    height, width = int(size[0]), int(size[1])
    rgb = image.convert("RGB").resize((width, height), _RESAMPLE[interpolation])
    x = np.asarray(rgb, dtype=np.float32) / 255.0  # (H, W, 3)
    x = (x - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32)


def preprocess_batch(images: Sequence[Image.Image], config: dict | None = None) -> np.ndarray:
    """PIL images -> float32 (N, 3, H, W). ``config`` is a model config's ``preprocess`` block."""
    cfg = config or {}
    kwargs = {
        "size": cfg.get("size", DEFAULT_SIZE),
        "mean": cfg.get("mean", CLIP_MEAN),
        "std": cfg.get("std", CLIP_STD),
        "interpolation": cfg.get("interpolation", "bicubic"),
    }
    if not images:
        h, w = kwargs["size"]
        return np.zeros((0, 3, int(h), int(w)), dtype=np.float32)
    return np.stack([preprocess_image(im, **kwargs) for im in images])
