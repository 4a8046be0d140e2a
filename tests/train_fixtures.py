"""A small synthetic Interactive-PEDES dataset for the training tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

_BUILT: dict[str, Path] = {}


def synth_dataset(tmp_path_factory, ids: int = 30, images_per_id: int = 2, test_fraction: float = 0.5) -> Path:
    """``annotations.json`` of an engine.synth dataset (64x32 crops), generated once per arguments."""
    key = f"{ids}-{images_per_id}-{test_fraction}"
    if key not in _BUILT:
        from interreid.engine.synth.dataset import generate

        out = tmp_path_factory.mktemp(f"synth-{key}")
        generate(out, ids, images_per_id, seed=0, size=(64, 32), test_fraction=test_fraction)
        _BUILT[key] = out / "annotations.json"
    return _BUILT[key]


@pytest.fixture(scope="session")
def synth_annotations(tmp_path_factory) -> Path:
    """30 identities x 2 images, half of the identities in the test split."""
    return synth_dataset(tmp_path_factory)


@pytest.fixture(scope="session")
def synth_annotations_large(tmp_path_factory) -> Path:
    """120 identities x 2 images, a quarter of the identities in the test split (for retrieval)."""
    return synth_dataset(tmp_path_factory, ids=120, test_fraction=0.25)


@pytest.fixture(scope="session")
def prepared_file(synth_annotations, tmp_path_factory) -> Path:
    """``prepared.jsonl`` of a lite looking-forward run on :func:`synth_annotations`."""
    from interreid.engine.cli.main import main

    out = tmp_path_factory.mktemp("prepared") / "run"
    assert main(["train", "prepare", "--set", f"data.annotations={synth_annotations}", "--out", str(out),
                 "--json", str(out) + ".json"]) == 0
    return out / "prepared.jsonl"


def run_cli(stage: str, out: Path, sets: list[str], resume: bool = False) -> dict:
    """``interreid train STAGE --set ... --out OUT --json`` -> the result dict."""
    import json

    from interreid.engine.cli.main import main

    argv = ["train", stage, "--out", str(out), "--json", str(out) + ".json"]
    for s in sets:
        argv += ["--set", s]
    if resume:
        argv.append("--resume")
    assert main(argv) == 0
    return json.loads(Path(str(out) + ".json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def tiny_retriever(synth_annotations, tmp_path_factory) -> Path:
    """``best.pth`` of a one-epoch IRRA run of the tiny CLIP on :func:`synth_annotations`."""
    out = tmp_path_factory.mktemp("retriever") / "run"
    run_cli("retriever", out, [f"data.annotations={synth_annotations}", "model.config=clip-reid-tiny", "mlm.depth=1",
                               "losses=[sdm,id]", "train.epochs=1", "train.warmup_epochs=1", "train.batch_size=32"])
    return out / "best.pth"
