"""The synthetic Interactive-PEDES generator and the annotation reader/writer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from interreid.engine.errors import UserError
from interreid.engine.evaluation.annotations import REQUIRED_FIELDS, load_annotations, write_annotations
from interreid.engine.synth.colours import BASIC_COLOURS, COLOUR_NAMES, colour_margin, nearest_colour, sample_shade
from interreid.engine.synth.dataset import generate, load_attributes
from interreid.engine.synth.people import UPPER_PROBE

IDS, PER_ID, SEED = 24, 2, 11


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "a"
    generate(out, IDS, PER_ID, SEED)
    return out


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def test_layout_and_split(dataset):
    records = load_annotations(dataset / "annotations.json")
    assert len(records) == IDS * PER_ID
    assert all((dataset / r.file_path).is_file() for r in records)
    assert records[0].file_path == "images/0001/0.jpg"
    test_ids = {r.id for r in records if r.split == "test"}
    assert test_ids == set(range(IDS // 2 + 1, IDS + 1))
    assert {r.split for r in records} == {"train", "test"}
    assert set(load_attributes(dataset / "attributes.json")) == {r.file_path for r in records}


def test_same_seed_same_bytes_and_pixels(dataset, tmp_path):
    again = tmp_path / "b"
    generate(again, IDS, PER_ID, SEED)
    for name in ("annotations.json", "attributes.json", "info.json"):
        assert (again / name).read_bytes() == (dataset / name).read_bytes(), name
    for rel in json.loads((dataset / "attributes.json").read_text()):
        assert np.array_equal(_pixels(again / rel), _pixels(dataset / rel)), rel


def test_other_seed_differs_and_prefix_is_stable(dataset, tmp_path):
    other = tmp_path / "c"
    generate(other, IDS, PER_ID, SEED + 1)
    assert (other / "annotations.json").read_bytes() != (dataset / "annotations.json").read_bytes()
    # an identity's look depends on (seed, id) only, not on how many identities follow
    fewer = tmp_path / "d"
    generate(fewer, 3, PER_ID, SEED)
    assert np.array_equal(_pixels(fewer / "images/0002/1.jpg"), _pixels(dataset / "images/0002/1.jpg"))


def test_images_of_one_id_differ_but_share_attributes(dataset):
    attrs = load_attributes(dataset / "attributes.json")
    assert attrs["images/0005/0.jpg"] == attrs["images/0005/1.jpg"]
    a, b = _pixels(dataset / "images/0005/0.jpg"), _pixels(dataset / "images/0005/1.jpg")
    assert a.shape == b.shape == (128, 64, 3)
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 10


def test_upper_colour_matches_pixels(dataset):
    attrs = load_attributes(dataset / "attributes.json")
    x0, y0, x1, y1 = UPPER_PROBE
    for rel, a in attrs.items():
        img = _pixels(dataset / rel).astype(np.float64)
        h, w = img.shape[:2]
        mean = img[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)].reshape(-1, 3).mean(axis=0)
        assert nearest_colour(mean) == a["upper"], (rel, a["upper"], mean.round())


def test_attribute_values_are_basic_colour_terms(dataset):
    for a in load_attributes(dataset / "attributes.json").values():
        for part in ("head", "upper", "lower", "feet"):
            assert a[part] in COLOUR_NAMES
        assert a["bag"] is None or a["bag"] in COLOUR_NAMES
        assert a["hat"] is None or a["hat"] in COLOUR_NAMES
        assert a["lower_length"] in ("long", "short")
        assert a["gender"] in ("female", "male")


def test_shades_keep_their_name_under_lighting():
    rng = np.random.default_rng(0)
    for name in COLOUR_NAMES:
        assert nearest_colour(BASIC_COLOURS[name]) == name
        for _ in range(50):
            shade = np.array(sample_shade(name, rng), dtype=float)
            for gain in (0.9, 1.1):
                assert colour_margin(np.clip(shade * gain, 0, 255), name) > 0, (name, shade, gain)


def _kind(answer: str) -> str:
    if answer[:3] in ("A) ", "B) ", "C) "):
        return "multiple-choice"
    if answer.startswith(("Yes, ", "No, ")):
        return "yes/no"
    return "descriptive"


def test_questions_of_three_kinds(dataset):
    records = load_annotations(dataset / "annotations.json")
    for r in records:
        assert 5 <= len(r.questions) == len(r.answers) <= 7
        assert {_kind(a) for a in r.answers} == {"descriptive", "yes/no", "multiple-choice"}
        assert r.captions and " ".join(r.captions) == r.fine_grained_description
        assert r.initial_description.startswith(("A woman", "A man"))
    mc = [(q, a) for r in records for q, a in zip(r.questions, r.answers) if _kind(a) == "multiple-choice"]
    assert all("A) " in q and "B) " in q and "C) " in q for q, _ in mc)


def test_descriptions_agree_with_attributes(dataset):
    attrs = load_attributes(dataset / "attributes.json")
    for r in load_annotations(dataset / "annotations.json"):
        a = attrs[r.file_path]
        text = r.fine_grained_description
        assert f"{a['head']} hair" in text and f"{a['feet']} shoes" in text and a["upper"] in text
        assert ("not wearing a hat" in text) == (a["hat"] is None)
        assert ("not carrying a bag" in text) == (a["bag"] is None)


def test_round_trip_is_lossless(dataset, tmp_path):
    records = load_annotations(dataset / "annotations.json")
    write_annotations(tmp_path / "copy.json", records)
    assert load_annotations(tmp_path / "copy.json") == records
    assert (tmp_path / "copy.json").read_bytes() == (dataset / "annotations.json").read_bytes()


def test_reader_keeps_extra_fields(tmp_path):
    rec = {f: [] if f in ("questions", "answers", "captions") else "x" for f in REQUIRED_FIELDS}
    rec.update(id=3, source="CUHK-PEDES")
    (tmp_path / "a.json").write_text(json.dumps([rec]))
    [r] = load_annotations(tmp_path / "a.json")
    assert r.id == 3 and r.extra == {"source": "CUHK-PEDES"} and r.to_json()["source"] == "CUHK-PEDES"


@pytest.mark.parametrize("content, needle", [
    ("drop:answers", "'answers'"),
    ("drop:fine-grained_description", "'fine-grained_description'"),
    ('{"split": "test"}', "not a list"),
    ("[1, 2]", "not an object"),
    ("[{", "not valid JSON"),
    ("id:seven", "'id'"),
    ("questions:extra", "parallel"),
])
def test_reader_rejects_broken_files(dataset, tmp_path, content, needle):
    records = json.loads((dataset / "annotations.json").read_text())
    if content.startswith("drop:"):
        del records[3][content[5:]]
        text = json.dumps(records)
    elif content == "id:seven":
        records[1]["id"] = "seven"
        text = json.dumps(records)
    elif content == "questions:extra":
        records[0]["questions"].append("Anything else?")
        text = json.dumps(records)
    else:
        text = content
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(UserError) as err:
        load_annotations(path)
    message = str(err.value)
    assert needle in message and str(path) in message and "\n" not in message


def test_reader_missing_file(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_annotations(tmp_path / "nope.json")


def test_generate_refuses_bad_input(dataset, tmp_path):
    with pytest.raises(UserError, match="not empty"):
        generate(dataset, 2, 1, 0)
    with pytest.raises(UserError, match="identities"):
        generate(tmp_path / "x", 0, 1, 0)
    with pytest.raises(UserError, match="test fraction"):
        generate(tmp_path / "x", 2, 1, 0, test_fraction=1.5)
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not a synthetic dataset"):
        generate(tmp_path / "user", 2, 1, 0, overwrite=True)
    assert (tmp_path / "user" / "notes.txt").exists()


def test_cli_data_synth(tmp_path, capsys):
    from interreid.engine.cli.main import main

    out = tmp_path / "cli"
    assert main(["data", "synth", str(out), "--ids", "4", "--images-per-id", "2", "--seed", "5",
                 "--test-fraction", "0.25", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["images"] == 8 and summary["test_ids"] == 1
    assert len(load_annotations(out / "annotations.json")) == 8
    assert main(["data", "synth", str(out), "--ids", "4", "--images-per-id", "2"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["data", "synth", str(out), "--ids", "4", "--images-per-id", "2", "--overwrite"]) == 0
    assert main(["data", "synth", str(tmp_path / "y"), "--ids", "-1", "--images-per-id", "2"]) == 2
