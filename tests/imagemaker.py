"""Real test images: simple person figures with known garment colours, drawn with PIL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

RGB = {"black": (20, 20, 20), "white": (240, 240, 240), "grey": (128, 128, 128), "red": (200, 20, 25),
       "orange": (240, 130, 10), "yellow": (240, 220, 20), "green": (30, 150, 40), "blue": (25, 50, 200),
       "purple": (120, 30, 150), "pink": (245, 150, 190), "brown": (110, 70, 30)}


def person(upper: str, lower: str, head: str = "black", feet: str = "black", size=(64, 128), seed: int = 0,
           background=(90, 110, 95)) -> Image.Image:
    """A standing figure: hair, skin face, upper garment, lower garment, shoes, on a noisy background."""
    w, h = size
    rng = np.random.default_rng(seed)
    bg = np.clip(np.array(background) + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)
    img = Image.fromarray(bg)
    d = ImageDraw.Draw(img)
    cx = w // 2
    d.ellipse([cx - 7, int(h * 0.02), cx + 7, int(h * 0.10)], fill=RGB[head])
    d.ellipse([cx - 6, int(h * 0.07), cx + 6, int(h * 0.16)], fill=(225, 180, 150))
    d.rectangle([cx - 14, int(h * 0.17), cx + 14, int(h * 0.50)], fill=RGB[upper])
    d.rectangle([cx - 12, int(h * 0.50), cx + 12, int(h * 0.88)], fill=RGB[lower])
    d.rectangle([cx - 13, int(h * 0.88), cx + 13, int(h * 0.97)], fill=RGB[feet])
    return img


def write_person(path: Path, upper: str, lower: str, seed: int = 0, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    person(upper, lower, seed=seed, **kw).save(path, quality=92)
    return path
