"""A small synthetic Interactive-PEDES dataset for the training tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

_BUILT: dict[str, Path] = {}


def synth_dataset(tmp_path_factory, ids: int = 30, images_per_id: int = 2, test_fraction: float = 0.5) -> Path:
    """``annotations.json`` of an engine.synth dataset (64x32 crops), generated once per arguments."""
    key = f"{ids}-{images_per_id}-{test_fraction}"
    if key not in _BUILT:
        from engine.synth.dataset import generate

        out = tmp_path_factory.mktemp(f"synth-{key}")
        generate(out, ids, images_per_id, seed=0, size=(64, 32), test_fraction=test_fraction)
        _BUILT[key] = out / "annotations.json"
    return _BUILT[key]


@pytest.fixture(scope="session")
def synth_annotations(tmp_path_factory) -> Path:
    """30 identities x 2 images, half of the identities in the test split."""
    return synth_dataset(tmp_path_factory)
