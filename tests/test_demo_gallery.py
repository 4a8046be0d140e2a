"""The bundled demo gallery: real person crops cut from OpenCV's vtest.avi (see ATTRIBUTION.md)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PIL import Image

from interreid.engine.gallery.metadata import camera_from_path, timestamp_from_path

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"
CROPS = sorted((DEMO / "crops").rglob("*.jpg"))


def test_attribution_present():
    text = (DEMO / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "vtest.avi" in text and "Apache" in text and "synthetic" in text.lower()
    assert "scripts/make_demo_gallery.py" in text


def test_crop_count_and_size():
    assert 150 <= len(CROPS) <= 300
    assert sum(p.stat().st_size for p in CROPS) < 10_000_000


@pytest.mark.parametrize("path", CROPS[::7], ids=lambda p: p.name)
def test_crops_are_valid_jpegs(path):
    with Image.open(path) as img:
        assert img.format == "JPEG"
        img.load()
        w, h = img.size
    assert w >= 40 and h >= 80 and h > w


def test_all_crops_large_enough():
    small = []
    for path in CROPS:
        with Image.open(path) as img:
            if img.size[0] < 40 or img.size[1] < 80:
                small.append(path.name)
    assert not small


def test_names_give_camera_and_time():
    for path in CROPS:
        rel = path.relative_to(DEMO / "crops").as_posix()
        assert camera_from_path(rel) == "cam01"
        assert timestamp_from_path(rel).startswith("2024-05-01T12:0")


def test_provenance_lists_every_crop():
    with open(DEMO / "provenance.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["file"] for r in rows) == sorted(p.relative_to(DEMO).as_posix() for p in CROPS)
