"""The full engine's CLIP: 192-token text, weight loading, ONNX parity, tokenizer, preprocessing."""

from __future__ import annotations

import re

import numpy as np
import pytest

from fixtures_full import TEXTS, TINY, person_images, tiny_model, tiny_onnx, tiny_pack  # noqa: F401

from interreid.engine.errors import ModelPackError
from interreid.engine.full import clip_model
from interreid.engine.full.preprocess import preprocess_batch, preprocess_image
from interreid.engine.full.tokenizer import ClipTokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return ClipTokenizer()


def _identity():
    from interreid.engine.embedder import EmbedderIdentity

    return EmbedderIdentity("clip-onnx", "test", 512)


# -- tokenizer -----------------------------------------------------------------------------------

def test_tokenizer_truncates_to_192_with_eot_last(tokenizer):
    tokens = tokenizer(["word " * 500, "a man in red"])
    assert tokens.shape == (2, 192) and tokens.dtype == np.int64
    assert tokens[0, 0] == tokenizer.sot_id and tokens[0, -1] == tokenizer.eot_id
    assert (tokens[0] != 0).all()
    short = tokens[1]
    n = int((short != 0).sum())
    assert short[0] == tokenizer.sot_id and short[n - 1] == tokenizer.eot_id and (short[n:] == 0).all()
    assert int(short.argmax()) == n - 1  # the text tower pools at the argmax: the EOT


def test_tokenizer_matches_open_clip(tokenizer):
    from open_clip.tokenizer import SimpleTokenizer

    texts = TEXTS + ["Café &amp; naïve   spacing — 2 bags!", ""]
    assert np.array_equal(tokenizer(texts), SimpleTokenizer(context_length=192)(texts).numpy())


# -- preprocessing -------------------------------------------------------------------------------

def test_preprocess_matches_torchvision_resize_bicubic():
    import torch
    from torchvision import transforms as T

    image = person_images(1)[0]
    ours = preprocess_image(image)
    ref = T.Compose([T.Resize((384, 128), interpolation=T.InterpolationMode.BICUBIC), T.ToTensor(),
                     T.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))])
    assert ours.shape == (3, 384, 128) and ours.dtype == np.float32
    assert np.allclose(ours, ref(image).numpy(), atol=1e-5)
    assert preprocess_batch([], {"size": [64, 32]}).shape == (0, 3, 64, 32)
    assert isinstance(torch.zeros(1), torch.Tensor)


# -- model and weights -------------------------------------------------------------------------

def test_real_architecture_interpolates_text_positions_from_77():
    """ViT-B/16 weights in OpenAI layout (77 tokens, 224x224) load into the 384x128 / 192 model."""
    import torch

    cfg = clip_model.load_config("clip-reid-vit-b-16")
    src_cfg = {**cfg, "vision_cfg": {**cfg["vision_cfg"], "image_size": 224},
               "text_cfg": {**cfg["text_cfg"], "context_length": 77}}
    source = clip_model.build_model(src_cfg, seed=1).state_dict()
    model = clip_model.build_model(cfg, seed=0)
    report = clip_model.load_weights(model, source)

    old, new = source["positional_embedding"], model.positional_embedding.detach()
    assert old.shape == (77, 512) and new.shape == (192, 512)
    assert torch.equal(new[0], old[0]) and torch.equal(new[-1], old[-1])  # corner rows
    i = 100  # a middle row is the linear blend at (i + 0.5) * 77 / 192 - 0.5 (align_corners=False)
    x = (i + 0.5) * 77 / 192 - 0.5
    lo, frac = int(np.floor(x)), x - np.floor(x)
    assert torch.allclose(new[i], old[lo] * (1 - frac) + old[lo + 1] * frac, atol=1e-6)
    assert tuple(model.attn_mask.shape) == (192, 192)
    assert torch.isinf(model.attn_mask[0, 1]) and model.attn_mask[1, 0] == 0  # causal
    assert model.visual.positional_embedding.shape == (1 + 24 * 8, 768)
    assert torch.equal(model.visual.positional_embedding[0], source["visual.positional_embedding"][0])
    assert any(r.startswith("positional_embedding 77->192") for r in report["resized"])
    assert torch.equal(model.visual.conv1.weight, source["visual.conv1.weight"])


def test_missing_and_unknown_keys_are_named(tiny_model):
    sd = dict(tiny_model.state_dict())
    missing = {k: v for k, v in sd.items() if k not in ("visual.proj", "ln_final.weight")}
    model = clip_model.build_model(TINY)
    with pytest.raises(ModelPackError, match=r"missing 2 .*ln_final\.weight, visual\.proj"):
        clip_model.load_weights(model, missing)
    with pytest.raises(ModelPackError, match=r"does not know: extra_head\.weight"):
        clip_model.load_weights(model, {**sd, "extra_head.weight": sd["visual.proj"]})
    wrong = {**sd, "visual.proj": sd["visual.proj"][:, :10]}
    with pytest.raises(ModelPackError, match=r"wrong shape: visual\.proj"):
        clip_model.load_weights(model, wrong)


def test_irra_checkpoint_with_base_model_prefix_loads(tiny_model, tmp_path):
    import torch

    sd = {f"base_model.{k}": v.clone() + 1.0 for k, v in tiny_model.state_dict().items()}
    heads = {"classifier.weight": torch.zeros(3, 512), "mlm_head.fc.weight": torch.zeros(2, 2),
             "cross_attn.in_proj_weight": torch.zeros(2, 2), "ln_pre_t.weight": torch.zeros(2),
             "cross_modal_transformer.resblocks.0.ln_1.weight": torch.zeros(2), "logit_scale": torch.ones(())}
    path = tmp_path / "best.pth"
    torch.save({"model": {**sd, **heads}, "epoch": 60}, path)
    model = clip_model.build_model(TINY)
    report = clip_model.load_checkpoint(model, path, kind="irra")
    assert torch.equal(model.visual.proj, sd["base_model.visual.proj"])
    assert torch.equal(model.token_embedding.weight, sd["base_model.token_embedding.weight"])
    assert set(heads) <= set(report["ignored"])
    torch.save({"model": {**sd, "prompt_learner.ctx": torch.zeros(2)}}, path)
    with pytest.raises(ModelPackError, match=r"prompt_learner\.ctx"):
        clip_model.load_checkpoint(clip_model.build_model(TINY), path, kind="irra")
    torch.save({"model": {**sd, **heads}}, path)
    with pytest.raises(ModelPackError, match=r"looks like an IRRA"):  # an IRRA file read as plain CLIP
        clip_model.load_checkpoint(clip_model.build_model(TINY), tmp_path / "best.pth", kind="clip")


# -- ONNX parity --------------------------------------------------------------------------------

def test_onnx_fp32_matches_torch_for_images_and_texts(tiny_model, tiny_onnx, tokenizer):
    from interreid.engine.full.onnx_retriever import OnnxClipEmbedder, OnnxClipRetriever

    cfg = clip_model.load_config(TINY)
    images = person_images(6)
    ref = clip_model.encode_images(tiny_model, preprocess_batch(images, cfg["preprocess"]))
    emb = OnnxClipEmbedder(tiny_onnx["image_onnx"], _identity(), cfg["preprocess"], batch_size=4)
    out = emb.embed_images(images)
    assert out.shape == (6, 512) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert np.sum(out * ref, axis=1).min() >= 0.9999
    assert emb.provider in ("CPUExecutionProvider", "CUDAExecutionProvider")

    ret = OnnxClipRetriever(tiny_onnx["text_onnx"], _identity())
    txt = ret.encode_text(TEXTS)
    ref_txt = clip_model.encode_tokens(tiny_model, tokenizer(TEXTS))
    assert txt.shape == (3, 512)
    assert np.sum(txt * ref_txt, axis=1).min() >= 0.9999


def test_dynamic_length_text_tower_matches_the_fixed_192_export(tiny_model, tiny_onnx, tmp_path):
    """The pack's text tower takes any sequence length and is cut at the end-of-text token; an
    older fixed-192 export still works, and both give the same features."""
    from interreid.engine.full.export import export_text_tower
    from interreid.engine.full.onnx_retriever import OnnxClipRetriever

    fixed_path = export_text_tower(tiny_model, tmp_path / "text_fixed.onnx", dynamic_length=False)
    dynamic = OnnxClipRetriever(tiny_onnx["text_onnx"], _identity())
    fixed = OnnxClipRetriever(fixed_path, _identity())
    assert dynamic.dynamic_length and not fixed.dynamic_length
    short = ["red jacket", "a man"]  # padded to 192, cut to a few tokens
    tokens = dynamic.tokenizer(short)
    from interreid.engine.full.tokenizer import trim_padding

    assert trim_padding(tokens).shape[1] == int((tokens > 0).sum(axis=1).max()) < 192
    for texts in (short, TEXTS):
        a, b = dynamic.encode_text(texts), fixed.encode_text(texts)
        assert np.sum(a * b, axis=1).min() >= 0.9999
        ref = clip_model.encode_tokens(tiny_model, dynamic.tokenizer(texts))
        assert np.sum(a * ref, axis=1).min() >= 0.9999
    # A fixed-length graph refuses a cut sequence: the retriever must keep padding for it.
    with pytest.raises(Exception):
        fixed.session.run(None, {"tokens": trim_padding(tokens)})


def test_onnx_int8_image_tower_close_to_torch(tiny_model, tiny_onnx):
    from interreid.engine.full.onnx_retriever import OnnxClipEmbedder

    cfg = clip_model.load_config(TINY)
    images = person_images(8, seed=3)
    ref = clip_model.encode_images(tiny_model, preprocess_batch(images, cfg["preprocess"]))
    out = OnnxClipEmbedder(tiny_onnx["image_int8_onnx"], _identity(), cfg["preprocess"]).embed_images(images)
    assert np.sum(out * ref, axis=1).min() >= 0.995


def test_retriever_scores_are_cosines_and_explain(tiny_onnx):
    from interreid.engine.full.onnx_retriever import OnnxClipRetriever
    from interreid.engine.retriever import posterior

    ret = OnnxClipRetriever(tiny_onnx["text_onnx"], _identity())
    vectors = np.random.default_rng(0).standard_normal((5, 512)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = ret.score("a man in a red coat", vectors)
    assert scores.shape == (5,) and scores.dtype == np.float32
    assert np.allclose(scores, vectors @ ret.encode_text("a man in a red coat")[0], atol=1e-6)
    assert ret.temperature == 0.02 and abs(posterior(scores, ret.temperature).sum() - 1) < 1e-9
    assert re.fullmatch(r"cosine -?\d\.\d\d to the description", ret.explain("a man in a red coat", vectors[0]))
    with pytest.raises(ValueError):
        ret.score("x", vectors[:, :10])


def test_provider_choice_is_explicit_and_quiet(capfd):
    from interreid.engine.full import providers

    assert providers.choose_providers("cpu") == ["CPUExecutionProvider"]
    providers.cuda_usable.cache_clear()
    chosen = providers.choose_providers()
    assert chosen[-1] == "CPUExecutionProvider"
    assert chosen[0] == ("CUDAExecutionProvider" if providers.cuda_usable() else "CPUExecutionProvider")
    err = capfd.readouterr().err
    assert "Failed" not in err and "onnxruntime" not in err


def test_full_embedder_registered_with_pack_identity(tiny_pack):
    from interreid.engine.embedder import create_embedder
    from interreid.engine.full.pack import manifest_hash

    emb = create_embedder("full", pack=str(tiny_pack))
    sha = manifest_hash(tiny_pack)
    assert emb.identity.name == "clip-onnx" and emb.identity.dim == 512
    assert emb.identity.version == f"1:{sha[:16]}"
    assert emb.identity.extra["manifest_sha256"] == sha and emb.identity.extra["pack"] == "tiny-test"
    int8 = create_embedder("full", pack=str(tiny_pack), precision="int8")
    assert int8.identity != emb.identity  # int8 vectors never mix with fp32 ones in a gallery
    assert emb.embed_images(person_images(2)).shape == (2, 512)
    with pytest.raises(ModelPackError, match="needs a model pack"):
        create_embedder("full")


def test_speed_rows_tiny():
    from interreid.engine.bench.speed_clip import clip_speed_rows

    rows = clip_speed_rows(n_images=8, tiny=True, batch_size=4, text_repeats=2, batch_sizes=(1, 4))
    names = [r["name"] for r in rows]
    assert any("PyTorch fp32 reference" in n for n in names) and any("ONNX dynamic int8" in n for n in names)
    static = [r for r in rows if "ONNX static int8" in r["name"] and r["unit"] == "images/s"]
    assert [r["name"].rsplit("batch ", 1)[1] for r in static] == ["1)", "4)"] and all(r["value"] > 0 for r in static)
    assert all("real crops" in n for n in names if n.startswith("CLIP gallery embedding"))
    for r in rows:
        assert set(r) >= {"name", "value", "unit", "ratio_vs_reference"}
    cos = {r["name"]: r["value"] for r in rows if r["unit"] == "cosine"}
    assert min(v for n, v in cos.items() if n.startswith("CLIP ONNX fp32")) >= 0.9999
    assert min(v for n, v in cos.items() if "int8" in n) >= 0.995  # both int8 towers, on real crops
    opens = [r for r in rows if "session open" in r["name"] and "saved optimised graph" in r["name"]]
    assert len(opens) == 2 and all(r["how"] == "cached" for r in opens)
    cut = [r for r in rows if "cut at end-of-text" in r["name"]]  # vs the fixed-192 graph of older packs
    assert len(cut) == 2 and all(r["cosine_vs_fixed_192"] >= 0.9999 and r["ratio_vs_reference"] > 0 for r in cut)


def test_onnx_runtime_path_does_not_import_torch(tiny_pack):
    """Loading a pack and searching with it needs onnxruntime only (fast start, small install)."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys\nfrom PIL import Image\nfrom interreid.engine.full import load_embedder, load_retriever\n"
            f"e = load_embedder({str(tiny_pack)!r})\nr = load_retriever({str(tiny_pack)!r})\n"
            "v = e.embed_images([Image.new('RGB', (40, 100), 'red')])\nr.score('a man in red', v)\n"
            "print('TORCH', 'torch' in sys.modules, 'open_clip' in sys.modules)\n")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert "TORCH False False" in out.stdout, out.stdout + out.stderr
