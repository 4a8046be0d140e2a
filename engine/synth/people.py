"""Procedurally drawn pedestrians: an identity's look (``Appearance``) and one shot of it (``Shot``).

A person is drawn with PIL at twice the output size and downsampled (anti-aliasing): hair and face,
optional hat, upper garment with long or short sleeves, lower garment (long trousers, shorts or a
skirt, skin-coloured legs below short ones), shoes, an optional shoulder bag. The background is a
muted street-like scene. Per-shot jitter (position, scale, stride, arm pose, facing, background,
brightness, blur, sensor noise) makes two images of one identity differ while its colours stay.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .colours import BASIC_COLOURS, COLOUR_NAMES, sample_shade

RGB = tuple[int, int, int]

# A box (x0, y0, x1, y1), as fractions of the image's width and height, that lies inside the upper
# garment of every drawn person whatever the jitter (the tests read the garment's colour here).
UPPER_PROBE = (0.42, 0.27, 0.58, 0.40)

SKIN_TONES: tuple[RGB, ...] = ((234, 196, 170), (214, 165, 130), (170, 118, 82), (110, 72, 50))
_BACKGROUNDS: tuple[RGB, ...] = (  # muted: asphalt, concrete, paving, brick, grass, shade
    (92, 94, 98), (128, 126, 120), (158, 150, 136), (140, 96, 82), (96, 116, 80), (70, 74, 82),
    (176, 172, 160), (120, 110, 96), (104, 120, 128),
)

_WEIGHTS = {  # how often each colour is drawn for a body part (relative)
    "head": {"black": 9, "brown": 6, "grey": 2, "white": 1},
    "upper": {c: 1 for c in COLOUR_NAMES},
    "lower": {"black": 4, "blue": 4, "grey": 3, "brown": 2, "white": 2, "red": 1, "green": 1,
              "pink": 1, "purple": 1, "orange": 1, "yellow": 1},
    "feet": {"black": 5, "white": 4, "grey": 2, "brown": 2, "red": 1, "blue": 1},
    "bag": {c: 1 for c in COLOUR_NAMES},
    "hat": {c: 1 for c in COLOUR_NAMES},
}


@dataclass(frozen=True)
class Appearance:
    """What stays the same across an identity's images: its attributes and their exact shades."""

    gender: str              # "female" | "male"
    head: str                # hair colour (basic colour term)
    upper: str
    sleeves: str             # "long" | "short"
    lower: str
    lower_length: str        # "long" | "short"
    lower_type: str          # "trousers" | "shorts" | "skirt"
    feet: str
    bag: str | None
    hat: str | None
    long_hair: bool
    skin: RGB
    shades: dict[str, RGB]   # part -> drawn RGB (head, upper, lower, feet, bag?, hat?)
    build: float             # body width factor

    def attributes(self) -> dict:
        """The ground-truth attributes written to ``attributes.json``."""
        keys = ("head", "upper", "lower", "lower_length", "lower_type", "sleeves", "feet", "bag", "hat",
                "gender")
        values = asdict(self)
        return {k: values[k] for k in keys}


@dataclass(frozen=True)
class Shot:
    """What changes from one image of an identity to the next."""

    dx: float          # horizontal offset, fraction of width
    dy: float          # vertical offset, fraction of height
    scale: float       # person height / image height
    stride: float      # leg spread, fraction of person height
    arms: tuple[float, float]  # how far each hand hangs out from the body, fraction of person height
    flip: bool         # facing left instead of right
    background: RGB
    ground: RGB
    horizon: float     # fraction of height where wall meets ground
    brightness: float
    blur: float        # Gaussian blur radius at output size, px
    noise: float       # sensor noise sigma, grey levels


def _pick(rng: np.random.Generator, weights: dict[str, int]) -> str:
    names = list(weights)
    p = np.array([weights[n] for n in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """Draw an identity's attributes and shades from ``rng``."""
    gender = "female" if rng.random() < 0.5 else "male"
    lower_length = "long" if rng.random() < 0.65 else "short"
    if lower_length == "long":
        lower_type = "trousers"
    else:
        lower_type = "skirt" if gender == "female" and rng.random() < 0.5 else "shorts"
    parts = {p: _pick(rng, _WEIGHTS[p]) for p in ("head", "upper", "lower", "feet")}
    bag = _pick(rng, _WEIGHTS["bag"]) if rng.random() < 0.45 else None
    hat = _pick(rng, _WEIGHTS["hat"]) if rng.random() < 0.25 else None
    shades = {p: sample_shade(c, rng) for p, c in parts.items()}
    if bag:
        shades["bag"] = sample_shade(bag, rng)
    if hat:
        shades["hat"] = sample_shade(hat, rng)
    return Appearance(
        gender=gender, head=parts["head"], upper=parts["upper"],
        sleeves="long" if rng.random() < 0.6 else "short", lower=parts["lower"],
        lower_length=lower_length, lower_type=lower_type, feet=parts["feet"], bag=bag, hat=hat,
        long_hair=bool(rng.random() < (0.75 if gender == "female" else 0.1)),
        skin=SKIN_TONES[int(rng.integers(len(SKIN_TONES)))], shades=shades,
        build=float(rng.uniform(0.92, 1.08)))


def sample_shot(rng: np.random.Generator) -> Shot:
    """Draw one image's pose, framing, background and camera effects from ``rng``."""
    bg = np.array(_BACKGROUNDS[int(rng.integers(len(_BACKGROUNDS)))]) + rng.integers(-12, 13, 3)
    ground = np.array(_BACKGROUNDS[int(rng.integers(len(_BACKGROUNDS)))]) + rng.integers(-12, 13, 3)
    return Shot(
        dx=float(rng.uniform(-0.07, 0.07)), dy=float(rng.uniform(-0.02, 0.02)),
        scale=float(rng.uniform(0.80, 0.96)), stride=float(rng.uniform(0.0, 0.08)),
        arms=(float(rng.uniform(0.0, 0.05)), float(rng.uniform(0.0, 0.05))), flip=bool(rng.random() < 0.5),
        background=tuple(int(v) for v in np.clip(bg, 0, 255)),  # type: ignore[arg-type]
        ground=tuple(int(v) for v in np.clip(ground, 0, 255)),  # type: ignore[arg-type]
        horizon=float(rng.uniform(0.3, 0.7)), brightness=float(rng.uniform(0.9, 1.1)),
        blur=float(rng.uniform(0.0, 0.6)), noise=float(rng.uniform(1.5, 5.0)))


def _background(draw: ImageDraw.ImageDraw, w: int, h: int, shot: Shot, rng: np.random.Generator) -> None:
    hy = int(shot.horizon * h)
    draw.rectangle((0, 0, w, hy), fill=shot.background)
    draw.rectangle((0, hy, w, h), fill=shot.ground)
    for _ in range(int(rng.integers(2, 6))):  # windows, doors, poles, paving joints: muted blocks
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        bw, bh = int(rng.integers(4, w // 2)), int(rng.integers(4, h // 3))
        base = np.array(shot.background if y0 < hy else shot.ground)
        tone = np.clip(base + rng.integers(-30, 31) + rng.integers(-8, 9, 3), 0, 255)
        draw.rectangle((x0, y0, x0 + bw, y0 + bh), fill=tuple(int(v) for v in tone))
    for _ in range(int(rng.integers(0, 3))):  # kerb lines and road markings
        y = int(rng.integers(hy, h))
        draw.line((0, y, w, y + int(rng.integers(-h // 8, h // 8))), fill=(190, 188, 180), width=2)


def _person(draw: ImageDraw.ImageDraw, w: int, h: int, look: Appearance, shot: Shot) -> None:
    ph = shot.scale * h                     # person height in px
    top = (h - ph) / 2 + shot.dy * h
    cx = w / 2 + shot.dx * w
    bw = look.build

    def X(f: float) -> float:               # horizontal offset (fraction of ph) from centre
        return cx + f * ph * bw

    def Y(f: float) -> float:
        return top + f * ph

    skin, sh = look.skin, look.shades
    side = -1 if shot.flip else 1
    # long hair hangs behind the shoulders: draw it first
    if look.long_hair:
        draw.rounded_rectangle((X(-0.065), Y(0.05), X(0.065), Y(0.27)), radius=int(0.03 * ph), fill=sh["head"])
    # legs
    stride = shot.stride
    leg_w = int(0.085 * ph * bw)
    feet_x = (X(-0.055 - stride), X(0.055 + stride))
    hip_x = (X(-0.055), X(0.055))
    leg_colour = sh["lower"] if look.lower_type == "trousers" else skin
    for hx, fx in zip(hip_x, feet_x):
        draw.line((hx, Y(0.50), fx, Y(0.92)), fill=leg_colour, width=leg_w)
        if look.lower_type == "shorts":
            mx = hx + (fx - hx) * 0.36
            draw.line((hx, Y(0.50), mx, Y(0.66)), fill=sh["lower"], width=leg_w + 2)
    # hips band / skirt
    if look.lower_type == "skirt":
        draw.polygon([(X(-0.115), Y(0.47)), (X(0.115), Y(0.47)), (X(0.16), Y(0.70)), (X(-0.16), Y(0.70))],
                     fill=sh["lower"])
    else:
        draw.rectangle((X(-0.115), Y(0.47), X(0.115), Y(0.545)), fill=sh["lower"])
    # shoes, pointing the way the person faces
    for fx in feet_x:
        draw.ellipse((fx - 0.035 * ph + side * 0.015 * ph, Y(0.905), fx + 0.045 * ph + side * 0.015 * ph,
                      Y(0.95)), fill=sh["feet"])
    # arms (behind the torso's edge), sleeves, hands
    arm_w = int(0.055 * ph * bw)
    for s, out in zip((-1, 1), shot.arms):
        shoulder = (X(s * 0.135), Y(0.18))
        hand = (X(s * (0.15 + out)), Y(0.47))
        elbow_t = 0.42 if look.sleeves == "short" else 1.0
        sleeve_end = (shoulder[0] + (hand[0] - shoulder[0]) * elbow_t, shoulder[1] + (hand[1] - shoulder[1]) * elbow_t)
        draw.line((*shoulder, *hand), fill=skin, width=arm_w)
        draw.line((*shoulder, *sleeve_end), fill=sh["upper"], width=arm_w + 1)
        draw.ellipse((hand[0] - 0.025 * ph, hand[1] - 0.02 * ph, hand[0] + 0.025 * ph, hand[1] + 0.03 * ph), fill=skin)
    # neck and torso
    draw.rectangle((X(-0.022), Y(0.12), X(0.022), Y(0.18)), fill=skin)
    draw.polygon([(X(-0.10), Y(0.155)), (X(0.10), Y(0.155)), (X(0.14), Y(0.185)), (X(0.12), Y(0.50)),
                  (X(-0.12), Y(0.50)), (X(-0.14), Y(0.185))], fill=sh["upper"])
    # head: hair, face, hat
    draw.ellipse((X(-0.056), Y(0.005), X(0.056), Y(0.13)), fill=sh["head"])
    draw.ellipse((X(-0.046) + side * 0.012 * ph, Y(0.035), X(0.046) + side * 0.012 * ph, Y(0.135)), fill=skin)
    if look.hat:
        draw.chord((X(-0.062), Y(-0.01), X(0.062), Y(0.09)), 180, 360, fill=sh["hat"])
        draw.rectangle((X(-0.064) + side * 0.01 * ph, Y(0.035), X(0.07) + side * 0.03 * ph, Y(0.05)), fill=sh["hat"])
    # shoulder bag on the far side, its strap over that shoulder (clear of the chest, so the upper
    # garment's colour stays readable)
    if look.bag:
        bx = -side
        strap = tuple(int(c * 0.8) for c in sh["bag"])
        draw.line((X(bx * 0.125), Y(0.165), X(bx * 0.17), Y(0.41)), fill=strap, width=max(1, int(0.014 * ph)))
        x0, x1 = sorted((X(bx * 0.13), X(bx * 0.235)))
        draw.rounded_rectangle((x0, Y(0.40), x1, Y(0.56)), radius=int(0.015 * ph), fill=sh["bag"])


def render(look: Appearance, shot: Shot, rng: np.random.Generator, size: tuple[int, int] = (128, 64)) -> Image.Image:
    """One RGB image of ``look`` in ``shot``; ``size`` is (height, width) in px. ``rng`` draws the
    background clutter and the noise, so the same generator state gives the same pixels."""
    h, w = size
    big = Image.new("RGB", (2 * w, 2 * h))
    draw = ImageDraw.Draw(big)
    _background(draw, 2 * w, 2 * h, shot, rng)
    _person(draw, 2 * w, 2 * h, look, shot)
    img = big.resize((w, h), Image.Resampling.BILINEAR, reducing_gap=None)
    if shot.blur > 0.05:
        img = img.filter(ImageFilter.GaussianBlur(shot.blur))
    arr = np.asarray(img, dtype=np.float32) * shot.brightness
    arr += rng.normal(0.0, shot.noise, arr.shape).astype(np.float32)
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")


__all__ = ["Appearance", "Shot", "BASIC_COLOURS", "UPPER_PROBE", "sample_appearance", "sample_shot", "render"]
