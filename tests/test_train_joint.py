"""`interreid train joint`: the selector's straight-through k-hot weights the candidates' visual
tokens, so the questioner's loss trains the selector (tiny LLaVA-OneVision, tiny CLIP)."""

from __future__ import annotations

import csv

import pytest
import torch
from safetensors.torch import load_file

from interreid.engine.full.selector import load_selector_net, random_selector, save_selector
from fixtures_llava import tiny_llava_base  # noqa: F401
from train_fixtures import prepared_file, run_cli, synth_annotations, tiny_retriever  # noqa: F401

SELECTOR = {"layers": 1, "ffn": 128, "dropout": 0.0}


def _sets(synth_annotations, prepared_file, tiny_retriever, tiny_llava_base, init) -> list[str]:
    return [f"data.annotations={synth_annotations}", f"data.prepared={prepared_file}",
            "retriever.config=clip-reid-tiny", f"retriever.checkpoint={tiny_retriever}", f"selector.init={init}",
            f"model.base={tiny_llava_base}", "lora.r=8", "lora.lora_alpha=16", "train.lr=1e-2",
            "train.selector_lr=1e-2", "train.grad_accum=4", "train.gradient_checkpointing=false", "pool=30"]


@pytest.fixture()
def warm_selector(tmp_path):
    return save_selector(random_selector(SELECTOR, seed=3), tmp_path / "warm")["selector.json"].parent


def test_joint_trains_the_selector_through_the_questioner_loss(synth_annotations, prepared_file, tiny_retriever,
                                                               tiny_llava_base, warm_selector, tmp_path):
    out = tmp_path / "joint"
    r = run_cli("joint", out, [*_sets(synth_annotations, prepared_file, tiny_retriever, tiny_llava_base,
                                      warm_selector), "data.limit=16", "train.epochs=2"])
    assert r["steps_done"] == 8 and r["loss_last_mean"] < r["loss_first_mean"]
    assert r["selector"] == str(out / "selector") and 0.0 <= r["target_shown_last_mean"] <= 1.0
    before = load_selector_net(warm_selector).state_dict()
    after = load_selector_net(out / "selector").state_dict()  # the app's loader reads what joint wrote
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed, "the language-model loss never reached the selector"
    assert (out / "adapter" / "adapter_config.json").exists() and (out / "curve.png").stat().st_size > 0
    with open(out / "log.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    taus = [float(x["tau"]) for x in rows]
    assert taus[0] == pytest.approx(1.0) and taus[-1] == pytest.approx(0.1) and taus == sorted(taus, reverse=True)
    assert all(0.0 <= float(x["top_share"]) <= 1.0 and 0.0 <= float(x["target_shown"]) <= 1.0 for x in rows)


def test_joint_continues_an_adapter_and_resumes_identically(synth_annotations, prepared_file, tiny_retriever,
                                                            tiny_llava_base, warm_selector, tmp_path):
    sft = run_cli("questioner", tmp_path / "sft", [f"data.prepared={prepared_file}", f"model.base={tiny_llava_base}",
                                                   "lora.r=8", "lora.lora_alpha=16", "train.grad_accum=4",
                                                   "train.gradient_checkpointing=false", "data.limit=4"])
    sets = [*_sets(synth_annotations, prepared_file, tiny_retriever, tiny_llava_base, warm_selector),
            f"model.adapter={sft['adapter']}", "data.limit=12", "train.epochs=1"]
    run_cli("joint", tmp_path / "a", sets)
    run_cli("joint", tmp_path / "b", sets + ["train.stop_after=1"])
    run_cli("joint", tmp_path / "b", sets, resume=True)
    for name in ("adapter/adapter_model.safetensors", "selector/selector.safetensors"):
        a, b = load_file(str(tmp_path / "a" / name)), load_file(str(tmp_path / "b" / name))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert (tmp_path / "a" / "log.csv").read_text() == (tmp_path / "b" / "log.csv").read_text()
    # it continued the SFT adapter rather than starting a new one
    start = load_file(str(tmp_path / "sft" / "adapter" / "adapter_model.safetensors"))
    assert start.keys() == load_file(str(tmp_path / "a" / "adapter/adapter_model.safetensors")).keys()


def test_joint_without_a_retriever_is_one_sentence(synth_annotations, prepared_file, tiny_llava_base, capsys):
    from interreid.engine.cli.main import main

    rc = main(["train", "joint", "--set", f"data.annotations={synth_annotations}", "--set",
               f"data.prepared={prepared_file}", "--set", f"model.base={tiny_llava_base}"])
    assert rc == 2
    assert "retriever.checkpoint" in capsys.readouterr().err
