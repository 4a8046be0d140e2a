"""`interreid train questioner`: LoRA SFT of a tiny LLaVA-OneVision on the prepared file; the adapter
loads into the app's questioner; resume gives identical weights."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from safetensors.torch import load_file

from interreid.engine.full.questioner import LlavaQuestioner
from interreid.engine.interview.protocols import QuestionContext
from fixtures_llava import tiny_llava_base  # noqa: F401
from train_fixtures import prepared_file, run_cli, synth_annotations  # noqa: F401

TINY = ["lora.r=8", "lora.lora_alpha=16", "train.lr=1e-2", "train.grad_accum=4",
        "train.gradient_checkpointing=false"]


def test_sft_loss_falls_and_adapter_loads(tiny_llava_base, prepared_file, tmp_path):
    out = tmp_path / "q"
    r = run_cli("questioner", out, [f"data.prepared={prepared_file}", f"model.base={tiny_llava_base}", *TINY,
                                    "data.limit=24", "train.epochs=3"])
    assert r["steps_done"] == 18 and r["quantize"] == "none"
    assert r["loss_last_mean"] < r["loss_first_mean"] - 1.0
    assert (out / "adapter" / "adapter_config.json").exists() and (out / "curve.png").exists()

    from PIL import Image

    q = LlavaQuestioner(tiny_llava_base, out / "adapter", settings={"quantize": "none", "max_new_tokens": 8},
                        device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "runs on the CPU"
        q.load()
    assert hasattr(q.model, "peft_config")
    images = {i: Image.new("RGB", (32, 64), c) for i, c in enumerate(["red", "blue", "green", "white"])}
    ctx = QuestionContext("a man in a red top", [], 1, np.arange(4), np.full(4, 0.25), [0, 1, 2, 3],
                          np.zeros((4, 4), np.float32), images.__getitem__)
    suggestion = q.ask(ctx)
    assert suggestion.text


def test_resume_identical(tiny_llava_base, prepared_file, tmp_path):
    sets = [f"data.prepared={prepared_file}", f"model.base={tiny_llava_base}", *TINY, "data.limit=8",
            "train.epochs=2", "lora.lora_dropout=0.1"]
    run_cli("questioner", tmp_path / "a", sets)
    run_cli("questioner", tmp_path / "b", sets + ["train.stop_after=2"])
    run_cli("questioner", tmp_path / "b", sets, resume=True)
    a = load_file(str(tmp_path / "a" / "adapter" / "adapter_model.safetensors"))
    b = load_file(str(tmp_path / "b" / "adapter" / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "a" / "log.csv").read_text() == (tmp_path / "b" / "log.csv").read_text()
