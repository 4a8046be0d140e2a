"""``interreid data build --vlm``: step 1 (coarse-to-fine captioning) with a real local
vision-language model folder: the tiny random-weight LLaVA-OneVision of the questioner tests
(SigLIP + Qwen2, the real Qwen2 tokenizer, built offline), run by transformers' own processor and
``generate`` on real crops of the sample video.

Random weights write gibberish, so these tests assert the mechanics: records written with the
model and prompt version that made them, every answer failing validation (flagged or dropped),
the cache answering a re-run, and a build cut short continuing to the same result.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from fixtures_llava import tiny_llava_base  # noqa: F401  (session fixture)

from interreid.engine.cli.main import main
from interreid.engine.databuild.backends import LocalVisionBackend
from interreid.engine.databuild.pipeline import BuildSettings, build
from interreid.engine.evaluation.annotations import load_annotations

REPO = Path(__file__).resolve().parent.parent
CROPS = REPO / "resources" / "devsets" / "vtest" / "images"
VERSION = "llava-reid-tables5-8/1+tiny-test"


@pytest.fixture(scope="module")
def short_prompts(tmp_path_factory) -> Path:
    """The bundled prompts with a new version and a few tokens per call (a random model never
    stops by itself; the wording of the prompts is unchanged)."""
    text = (REPO / "resources" / "prompts" / "databuild.yaml").read_text(encoding="utf-8")
    text = re.sub(r'^version: ".*"$', f'version: "{VERSION}"', text, count=1, flags=re.M)
    text, n = re.subn(r"max_new_tokens:\n(?:    \w+: \d+\n)+",
                      "max_new_tokens:\n    coarse: 6\n    fine: 10\n    followup: 8\n    split: 8\n    qa: 6\n", text)
    assert n == 1
    path = tmp_path_factory.mktemp("prompts") / "short.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def crops(tmp_path_factory) -> Path:
    """Two real crops of two people from the sample video (vtest dev set)."""
    folder = tmp_path_factory.mktemp("crops")
    for person in ("01", "03"):
        first = sorted(CROPS.glob(f"{person}_*.jpg"))[0]
        shutil.copy2(first, folder / first.name)
    return folder


def _settings(crops, out, base, prompts, **kw) -> BuildSettings:
    return BuildSettings(source=crops, out=out, vlm=str(base), prompts=prompts, **kw)


def test_the_processor_is_completed_from_the_model_config(tiny_llava_base):  # noqa: F811
    """The exact failure: a folder without processor_config.json gives a processor that cannot
    count image tokens; the backend fills it in from the model's config and describes a crop."""
    backend = LocalVisionBackend(str(tiny_llava_base), temperature=0.0)
    crop = sorted(CROPS.glob("02_*.jpg"))[0].read_bytes()
    text = backend.generate("Describe the person's clothing in one sentence.", crop, 4, seed=1)
    assert isinstance(text, str) and text.strip()
    _, processor, model = backend._loaded
    vision = model.config.vision_config
    assert backend.completed["num_image_tokens"] == (vision.image_size // vision.patch_size) ** 2
    assert processor.vision_feature_select_strategy == model.config.vision_feature_select_strategy
    assert processor.image_processor.image_grid_pinpoints == [list(p) for p in model.config.image_grid_pinpoints]
    # same seed, same text: a re-run of the build reproduces it
    assert backend.generate("Describe the person's clothing in one sentence.", crop, 4, seed=1) == text


def test_vlm_build_records_cache_resume_and_validation(tiny_llava_base, short_prompts, crops, tmp_path,  # noqa: F811
                                                       capsys):
    out = tmp_path / "out"
    first = build(_settings(crops, out, tiny_llava_base, short_prompts, invalid="flag"))
    records = load_annotations(first.annotations)
    assert first.records == len(records) == 2 and first.calls >= 2 * 5  # coarse, fine, follow-up, split, >= 1 qa
    backend_id = LocalVisionBackend(str(tiny_llava_base)).identity
    for rec in records:
        info = rec.extra["build"]
        assert info["prompt_version"] == VERSION
        assert info["models"]["initial"] == info["models"]["fine"] == info["models"]["dialogue"] == backend_id
        assert rec.initial_description and rec.fine_grained_description  # written by the model, from the image
        assert len(rec.questions) == len(rec.extra["validation"]["per_answer"]) >= 1
    # random weights: nothing it wrote is supported by its description, every answer is flagged
    assert first.qa_checked >= 2 and first.qa_failed == first.qa_checked
    assert all(not v["ok"] for rec in records for v in rec.extra["validation"]["per_answer"])
    calls = out / ".build" / "calls.jsonl"
    lines = calls.read_text(encoding="utf-8").splitlines()
    assert len(lines) == first.calls

    # the same build through the CLI: every call comes from the cache, the same file is written
    before = first.annotations.read_text(encoding="utf-8")
    rc = main(["data", "build", str(crops), str(out), "--vlm", str(tiny_llava_base), "--prompts", str(short_prompts),
               "--invalid", "flag", "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["calls"] == 0 and summary["cached_calls"] == first.calls
    assert first.annotations.read_text(encoding="utf-8") == before

    # cut short after 3 calls (what a kill leaves, with a torn last line): it continues to the same result
    cut = tmp_path / "cut"
    (cut / ".build").mkdir(parents=True)
    (cut / ".build" / "calls.jsonl").write_text("\n".join(lines[:3]) + "\n" + lines[3][:25], encoding="utf-8")
    resumed = build(_settings(crops, cut, tiny_llava_base, short_prompts, invalid="flag"))
    assert resumed.cached_calls == 3 and resumed.calls == first.calls - 3
    assert resumed.annotations.read_text(encoding="utf-8") == before

    # --invalid drop (the default): every answer fails, so no record is kept, and it says so
    assert main(["data", "build", str(crops), str(out), "--vlm", str(tiny_llava_base), "--prompts",
                 str(short_prompts)]) == 0
    said = capsys.readouterr().out
    assert "0 made" in said and "2 records were dropped" in said and "No record is left" in said
    assert "Use it with" not in said
    assert load_annotations(out / "annotations.json") == []


def test_a_changed_model_is_not_answered_from_the_cache(tiny_llava_base, tmp_path):  # noqa: F811
    """A fine-tuned copy keeps config.json; its weights make it another model to the cache."""
    from safetensors.torch import load_file, save_file

    copy = tmp_path / "tuned"
    shutil.copytree(tiny_llava_base, copy)
    weights = load_file(str(copy / "model.safetensors"))
    name = sorted(weights)[0]
    weights[name] = weights[name] + 0.01
    save_file(weights, str(copy / "model.safetensors"), metadata={"format": "pt"})
    assert (copy / "config.json").read_bytes() == (tiny_llava_base / "config.json").read_bytes()
    assert LocalVisionBackend(str(copy)).identity["sha256"] != LocalVisionBackend(str(tiny_llava_base)).identity["sha256"]
