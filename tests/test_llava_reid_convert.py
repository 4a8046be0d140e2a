"""The authors' LLaVA-ReID checkpoint → an interreid pack (``pack build --from-llava-reid``).

A tiny random checkpoint in their layout (``fixtures_llava_reid``) is converted; the converted
models must compute what theirs compute on the same inputs, stage by stage: the selector's
log-probabilities and picks, the questioner's pixels, vision features, visual tokens per image,
prompt, input embeddings and logits (adapter and merged checkpoints), and the retriever's
embeddings. Then the converted pack drives a CLI interview and ``bench interactive``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures_llava_reid import TRAINED_QUESTION, authors_checkpoint, their_prompt  # noqa: F401
from PIL import Image

from interreid.engine.errors import UserError
from interreid.engine.full.convert import keymaps
from interreid.engine.interview.protocols import Turn

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


def run(*args, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "interreid.engine.cli.main", *map(str, args)], capture_output=True,
                          text=True, input=stdin, cwd=ROOT, env=dict(os.environ), timeout=600, check=False)


def crops() -> list[Image.Image]:
    """Person-like crops of several aspect ratios (tall, very tall, wide, square): unpadding differs."""
    rng = np.random.default_rng(5)
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in
            ((128, 64), (150, 40), (50, 100), (60, 60))]


@pytest.fixture(scope="module")
def converted(authors_checkpoint, tmp_path_factory):
    from interreid.engine.full.convert.llava_reid import llava_reid_components

    ck = authors_checkpoint
    scratch = tmp_path_factory.mktemp("converted")
    irra, comps, source = llava_reid_components(ck["authors"], ck["base"], ck["siglip"], scratch)
    return {"irra": irra, "components": comps, "source": source, "scratch": scratch}


def _questioner(base: Path, adapter: Path | None, settings: dict):
    from interreid.engine.full.questioner import LlavaQuestioner

    q = LlavaQuestioner(base, adapter, settings={**settings, "quantize": "none"}, device="cpu")
    with pytest.warns(RuntimeWarning, match="CPU"):
        q.load()
    return q


def _compare_stages(q, theirs, images):
    from interreid.engine.full.llava_inputs import (
        build_inputs_embeds,
        encode_images_llava_reid,
        vision_features,
    )

    initial, dialogue = "A man in a red jacket.", [Turn("What colour are his shoes?", "White.")]
    prompt = their_prompt(initial, [t.question for t in dialogue], [t.answer for t in dialogue], len(images))
    assert q.prompt_text(initial, dialogue, len(images)) == prompt  # their template, character for character
    ref = theirs.stages(images, prompt)
    with torch.no_grad():
        pixels = q.preprocess(images)
        assert torch.allclose(pixels, ref["pixels"], atol=1e-6)  # pad to square (127 grey), bicubic, 0.5/0.5
        vision = vision_features(q.base_model, pixels)
        assert torch.allclose(vision, ref["vision"], atol=1e-5)  # SigLIP minus its last layer
        ours = encode_images_llava_reid(q.base_model, pixels, [im.size for im in images])
        assert [t.shape[0] for t in ours] == [t.shape[0] for t in ref["per_image"]]
        assert len({t.shape[0] for t in ours}) > 1  # aspect ratios give different token counts
        for a, b in zip(ours, ref["per_image"]):
            assert torch.allclose(a, b, atol=1e-5)  # pool → projector (the adapter's copy) → unpad → newlines
        visual, counts = q.visual_tokens(images)
        ids = q.input_ids(q.prompt_text(initial, dialogue, len(images)), counts)
        embeds = build_inputs_embeds(q.base_model, ids, visual, q.image_token_id)
        assert embeds.shape[1] == ref["embeds"].shape[0]
        assert torch.allclose(embeds[0], ref["embeds"], atol=1e-5)
        logits = q.model(inputs_embeds=embeds).logits[0]
    ref_logits = ref["logits"]
    assert logits.shape[-1] >= ref_logits.shape[-1]
    diff = (logits[:, :ref_logits.shape[-1]] - ref_logits).abs().max().item()
    assert diff < 1e-3 * max(1.0, ref_logits.abs().max().item()), diff
    assert torch.equal(logits[:, :ref_logits.shape[-1]].argmax(-1), ref_logits.argmax(-1))
    return diff


def test_key_maps_name_every_part():
    assert keymaps.map_key("model.layers.3.self_attn.q_proj.weight") == ("lm", "layers.3.self_attn.q_proj.weight")
    assert keymaps.map_key("model.embed_tokens.weight") == ("lm", "embed_tokens.weight")
    assert keymaps.map_key("lm_head.weight") == ("lm_head", "lm_head.weight")
    assert keymaps.map_key("model.mm_projector.2.bias") == ("projector", "linear_2.bias")
    assert keymaps.map_key("model.image_newline") == ("newline", "image_newline")
    assert keymaps.map_key("model.vision_tower.vision_tower.vision_model.encoder.layers.25.mlp.fc1.weight") == (
        "vision", "encoder.layers.25.mlp.fc1.weight")
    assert keymaps.map_key("model.vision_tower.vision_tower.vision_model.head.probe") is None
    with pytest.raises(KeyError):
        keymaps.map_key("model.vision_resampler.pool.weight")
    assert keymaps.split_lora_key("base_model.model.model.layers.0.mlp.up_proj.lora_B.weight") == (
        "model.layers.0.mlp.up_proj", "lora_B")
    assert keymaps.saved_module_key("base_model.model.model.mm_projector.modules_to_save.0.weight") == (
        "model.mm_projector.0.weight")
    assert keymaps.map_selector_key("module.selector.weight") == "head.weight"
    assert keymaps.map_selector_key("modality_embed.weight") == "modality.weight"
    with pytest.raises(KeyError):
        keymaps.map_selector_key("projector.weight")


def test_finds_the_jointly_trained_pair_in_their_output_folder(tmp_path):
    """Their stages share one output folder; the joint stage's adapter + selector.pth win."""
    from interreid.engine.full.convert.llava_reid import find_parts

    root = tmp_path / "Interactive-PEDES_LLaVA-ReID"
    for rel in ("retrieval_model_mix_IRRA/checkpoint.pth", "adapter_config.json",  # train_questioner
                "checkpoint-1000/adapter_config.json", "selector_model_warm_up/selector.pth",
                "questioner-c4-selector-join/adapter_config.json", "questioner-c4-selector-join/selector.pth",
                "questioner-c4-selector-join/checkpoint-2000/adapter_config.json"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("{}")
    parts = find_parts(root)
    assert parts.adapter == root / "questioner-c4-selector-join" and parts.merged is None
    assert parts.selector == root / "questioner-c4-selector-join" / "selector.pth"
    assert parts.retriever == root / "retrieval_model_mix_IRRA" / "checkpoint.pth"
    (root / "questioner-c4-selector-join" / "selector.pth").unlink()  # no joint pair: shallowest of each
    parts = find_parts(root)
    assert parts.adapter == root and parts.selector == root / "selector_model_warm_up" / "selector.pth"
    (root / "other" / "selector.pth").parent.mkdir()
    (root / "other" / "selector.pth").write_text("{}")
    with pytest.raises(UserError, match="more than one selector"):
        find_parts(root)


def test_selector_scores_and_picks_match_theirs(authors_checkpoint, converted):
    from interreid.engine.full.selector import LearnedSelector, load_selector_net

    net = load_selector_net(converted["scratch"] / "selector").eval()
    assert net.config["normalize_inputs"] is False and net.config["layers"] == 2 and net.config["heads"] == 8
    theirs = authors_checkpoint["selector"]
    g = torch.Generator().manual_seed(0)
    text = torch.nn.functional.normalize(torch.randn(3, 512, generator=g), dim=-1)
    images = torch.nn.functional.normalize(torch.randn(3, 9, 512, generator=g), dim=-1)
    mask = torch.ones(3, 9, dtype=torch.bool)
    mask[1, 6:] = False  # a shorter top-k, padded (their k shrinks each round)
    with torch.no_grad():
        ref, khot = theirs(text, images, mask)
        ours = net(text, images, mask)
    assert torch.allclose(ours[mask], ref[mask], atol=1e-5)
    assert (ours[~mask] < -1000).all()
    # the interview's pick: rank 1 + their top-3 of ranks 2..k, in rank order
    vectors = np.concatenate([text[0:1].numpy(), images[0].numpy()])
    picks = LearnedSelector(net, "cpu").select(np.arange(10), vectors, c=4, query_vector=text[0].numpy())
    assert picks == [0] + [int(i) + 1 for i in torch.where(khot[0])[0]]


def test_adapter_checkpoint_forward_matches_theirs(authors_checkpoint, converted):
    comps = converted["components"]["questioner"]
    assert comps["config"]["layout"] == "llava-reid" and comps["config"]["top_p"] == 0.5
    files = comps["files"]
    adapter_cfg = json.loads((files["adapter"] / "adapter_config.json").read_text())
    assert "vision" not in adapter_cfg["target_modules"] and adapter_cfg["r"] == 4
    q = _questioner(files["base"], files["adapter"], comps["config"])
    _compare_stages(q, authors_checkpoint["theirs"], crops())


def test_merged_checkpoint_forward_matches_theirs(authors_checkpoint, tmp_path):
    from interreid.engine.full.convert.llava_reid import QUESTIONER_SETTINGS, convert_questioner

    ck = authors_checkpoint
    record = convert_questioner(ck["merged"], ck["siglip"], tmp_path / "base")
    assert record["vision_from"] == "checkpoint" and record["vision_layers"] == 2
    q = _questioner(tmp_path / "base", None, {**QUESTIONER_SETTINGS, "pool_ratio": record["pool_ratio"]})
    _compare_stages(q, ck["theirs"], crops())


def test_vision_tower_from_siglip_when_the_checkpoint_has_none(authors_checkpoint, tmp_path):
    """A checkpoint saved without its tower takes SigLIP's, minus the last layer (their select layer -2)."""
    from safetensors.torch import load_file, save_file
    from transformers import SiglipVisionModel

    from interreid.engine.full.convert.llava_reid import convert_questioner
    from interreid.engine.full.llava_inputs import vision_features
    from interreid.engine.full.questioner import LlavaQuestioner

    ck = authors_checkpoint
    src = tmp_path / "no-tower"
    src.mkdir()
    state = {k: v for k, v in load_file(str(ck["merged"] / "model.safetensors")).items() if "vision_tower" not in k}
    save_file(state, str(src / "model.safetensors"))
    for f in ck["merged"].iterdir():
        if f.suffix != ".safetensors":
            (src / f.name).write_bytes(f.read_bytes())
    assert convert_questioner(src, ck["siglip"], tmp_path / "base")["vision_from"] == "siglip"
    q = LlavaQuestioner(tmp_path / "base", None, {"quantize": "none"}, device="cpu")
    with pytest.warns(RuntimeWarning):
        q.load()
    full = SiglipVisionModel.from_pretrained(str(ck["siglip"])).eval()
    px = torch.randn(2, 3, 28, 28)
    with torch.no_grad():
        assert torch.allclose(vision_features(q.base_model, px), full(px, output_hidden_states=True).hidden_states[-2],
                              atol=1e-5)


def test_pack_build_verify_interview_and_bench(authors_checkpoint, crops_dir, tmp_path):
    ck = authors_checkpoint
    pack = tmp_path / "pack"
    out = run("pack", "build", pack, "--from-llava-reid", ck["authors"], "--llava-base", ck["base"], "--siglip",
              ck["siglip"], "--config", "clip-reid-tiny", "--name", "llava-reid-tiny", "--version", "1.0", "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["components"] == ["questioner", "retriever", "selector"] and summary["weights"] == "trained"
    assert summary["source"].startswith("authors' LLaVA-ReID checkpoint")
    manifest = json.loads((pack / "manifest.json").read_text())
    assert manifest["components"]["retriever"]["checkpoint"]["kind"] == "irra"
    assert "questioner/conversion.json" in manifest["components"]["questioner"]["files"]
    assert run("pack", "verify", pack).returncode == 0
    out = run("pack", "install", pack, "--json")  # into this test's data folder
    assert out.returncode == 0, out.stderr
    installed = json.loads(out.stdout)["folder"]

    # the retriever: the pack's ONNX towers give the IRRA checkpoint's CLIP embeddings
    from interreid.engine.full.clip_model import encode_images, encode_tokens
    from interreid.engine.full.preprocess import preprocess_batch
    from interreid.engine.full.providers import CPU, make_session
    from interreid.engine.full.tokenizer import ClipTokenizer

    cfg = manifest["components"]["retriever"]["config"]
    pixels = preprocess_batch(crops(), cfg["preprocess"])
    image_sess = make_session(pack / manifest["components"]["retriever"]["image_onnx"], [CPU])
    got = image_sess.run(None, {image_sess.get_inputs()[0].name: pixels})[0]
    want = encode_images(ck["clip"], pixels)
    assert np.allclose(got, want, atol=1e-4)
    tokens = ClipTokenizer(pack / manifest["components"]["retriever"]["tokenizer"])(["a man in a red jacket"])
    text_sess = make_session(pack / manifest["components"]["retriever"]["text_onnx"], [CPU])
    assert np.allclose(text_sess.run(None, {text_sess.get_inputs()[0].name: tokens})[0],
                       encode_tokens(ck["clip"], tokens), atol=1e-4)

    # a whole interview through the CLI with the converted selector and questioner
    out = run("gallery", "import", crops_dir, "--gallery", tmp_path / "g", "--engine", "full", "--pack",
              "llava-reid-tiny")  # the installed pack, by name
    assert out.returncode == 0, out.stderr
    out = run("interview", "--gallery", tmp_path / "g", "--pack", installed, "--selector", "learned", "--questioner",
              "llava", "--case", tmp_path / "c.case", "--description", "a man in a red jacket", "--json", "-",
              stdin="\nBlack.\n:quit\n")
    assert out.returncode == 0, out.stderr + out.stdout
    transcript = json.loads(out.stdout[out.stdout.index('{\n  "engine"'):])
    assert transcript["engine"]["selector"] == "learned" and transcript["engine"]["questioner"] == "llava"
    assert transcript["rounds"][0]["answer"] == "Black."
    assert transcript["rounds"][0]["asked"] == TRAINED_QUESTION  # generated by the converted questioner

    # bench interactive with the converted questioner and selector (a few queries)
    from interreid.engine.synth.dataset import generate

    synth = tmp_path / "synth"
    generate(synth, ids=6, images_per_id=2, seed=3, test_fraction=1.0)
    out = run("bench", "interactive", "--data", synth / "annotations.json", "--images", synth, "--engine", "full",
              "--pack", pack, "--method", "llava", "--selector", "learned", "--rounds", "1", "--limit", "2",
              "--answerer", "annotated", "--cache", tmp_path / "cache", "--json", tmp_path / "bench.json")
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "bench.json").read_text())
    assert data["queries_done"] == 2 and any("llava" in name for name in data["runs"])


def test_errors_name_the_missing_or_unexpected_part(authors_checkpoint, tmp_path):
    import shutil

    from interreid.engine.full.convert.llava_reid import (
        convert_selector,
        find_parts,
        llava_reid_components,
    )

    ck = authors_checkpoint
    broken = tmp_path / "authors"
    shutil.copytree(ck["authors"], broken)
    (broken / "selector_model" / "selector.pth").unlink()
    with pytest.raises(UserError, match="no selector weights \\(selector.pth\\)"):
        find_parts(broken)
    with pytest.raises(UserError, match="--llava-base must name"):
        llava_reid_components(ck["authors"], None, ck["siglip"], tmp_path / "s")
    with pytest.raises(UserError, match="--siglip must name"):
        llava_reid_components(ck["authors"], ck["base"], tmp_path / "nowhere", tmp_path / "s")
    state = torch.load(ck["authors"] / "selector_model" / "selector.pth", weights_only=True)
    state["projector.weight"] = torch.zeros(2, 2)
    torch.save(state, tmp_path / "selector.pth")
    with pytest.raises(UserError, match="unexpected key 'projector.weight'"):
        convert_selector(tmp_path / "selector.pth", tmp_path / "sel")
    out = run("pack", "build", tmp_path / "p", "--from-llava-reid", broken, "--llava-base", ck["base"], "--siglip",
              ck["siglip"], "--config", "clip-reid-tiny")
    assert out.returncode == 2 and "selector.pth" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 2  # the progress line and the one sentence
    out = run("pack", "build", tmp_path / "p", "--from-llava-reid", ck["authors"], "--irra", "x.pth")
    assert out.returncode == 2 and "drop --irra" in out.stderr


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no GPU: the NF4 memory/latency check needs one"))])
def test_converted_questioner_loads_in_nf4_and_asks(converted, device, capsys):
    """The converted base + adapter load as the app loads them on a GPU (4-bit NF4, vision tower
    and projector unquantised, LoRA on top; on the CPU through bitsandbytes' CPU kernels) and ask."""
    import time

    bnb = pytest.importorskip("bitsandbytes")
    from interreid.engine.full.questioner import LlavaQuestioner

    comps = converted["components"]["questioner"]
    files = comps["files"]
    q = LlavaQuestioner(files["base"], files["adapter"], {**comps["config"], "quantize": "4bit", "max_new_tokens": 16},
                        device=device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        q.load()
    else:
        with pytest.warns(RuntimeWarning, match="4-bit"):
            q.load()
    layers = [m for m in q.base_model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert layers and all(m.weight.quant_type == "nf4" for m in layers)
    assert not any(isinstance(m, bnb.nn.Linear4bit) for m in q.base_model.model.vision_tower.modules())
    assert not any(isinstance(m, bnb.nn.Linear4bit) for m in q.base_model.model.multi_modal_projector.modules())
    tick = time.perf_counter()
    out = q.generate_text("a man in a red jacket", [], crops(), [None])[0]
    seconds = time.perf_counter() - tick
    assert isinstance(out, str) and out
    with capsys.disabled():
        memory = f", peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB" if device == "cuda" else ""
        print(f"\n[converted tiny questioner, NF4 on {device}] load {q.load_seconds:.1f} s, one greedy question "
              f"{seconds:.2f} s{memory}: {out[:60]!r}")
