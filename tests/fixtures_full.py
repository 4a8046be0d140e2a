"""Session-scoped fixtures for the full engine: a tiny random CLIP, its ONNX towers, a tiny pack.

Import the fixtures you use into a test module (``from fixtures_full import tiny_model, ...``).
Everything uses the tiny config (``resources/models/clip-reid-tiny.json``) so a session builds
the model and pack once in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest

TINY = "clip-reid-tiny"
TEXTS = [
    "A man in a red jacket, blue jeans and white shoes.",
    "a woman with long black hair carrying a brown bag",
    "young person, grey hoodie, black backpack, " * 40,  # longer than 192 tokens
]


# Test modules import these fixtures, so pytest sees one definition per module; the cache makes
# the session build each thing once however many modules use it.
_BUILT: dict[str, object] = {}


def _once(key: str, make):
    if key not in _BUILT:
        _BUILT[key] = make()
    return _BUILT[key]


def person_images(n: int = 6, seed: int = 0):
    """Small RGB PIL crops of assorted sizes (not the model's input size, so resizing is exercised)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    images = []
    for i in range(n):
        h, w = 100 + 10 * i, 40 + 3 * i
        arr = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        arr[: h // 2, :, i % 3] = 220
        images.append(Image.fromarray(arr))
    return images


@pytest.fixture(scope="session")
def tiny_model():
    from interreid.engine.full.clip_model import build_model

    return _once("model", lambda: build_model(TINY, seed=0))


@pytest.fixture(scope="session")
def tiny_onnx(tiny_model, tmp_path_factory):
    """{"image_onnx", "text_onnx", "image_int8_onnx"} paths of the tiny model's exported towers."""
    from interreid.engine.full.clip_model import load_config
    from interreid.engine.full.export import export_towers

    size = tuple(load_config(TINY)["vision_cfg"]["image_size"])
    return _once("onnx", lambda: export_towers(tiny_model, tmp_path_factory.mktemp("tiny_onnx"), size, int8=True))


@pytest.fixture(scope="session")
def tiny_pack(tmp_path_factory):
    """A built tiny pack folder (random weights, with int8). Do not modify it: copy it first."""
    from interreid.engine.full.pack import build_pack

    def make():
        out = tmp_path_factory.mktemp("packs") / "tiny-pack"
        build_pack(out, random_weights=True, config=TINY, int8=True, name="tiny-test", version="1.0")
        return out

    return _once("pack", make)
