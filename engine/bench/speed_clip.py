"""CLIP speed rows for ``interreid bench speed``: PyTorch reference vs ONNX fp32 / int8 (and OpenVINO).

Everything is measured in one run on the same images: the random-weight model is built from the
config, exported (fp32, dynamic int8, static int8 calibrated on the demo crops) to a temporary
folder, and each path embeds the same real crops (the bundled dev set's) with the same
preprocessing (``engine.full.preprocess``) after one warm-up batch. OpenVINO rows appear when the
``openvino`` package is importable (it is not a dependency; see docs/scale.md). Random weights
change nothing about speed; the cosines say how closely the ONNX paths reproduce the reference
(a trained model's activations differ, so its static int8 is checked again at ``pack build``).
``ratio_vs_reference`` > 1 means faster than PyTorch fp32.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

DESCRIPTION_60_WORDS = (
    "A young woman with long black hair tied in a ponytail is walking. She wears a short white "
    "jacket over a red shirt, dark blue jeans and white sneakers with black laces. She carries a large "
    "brown leather bag on her left shoulder and holds a phone in her right hand, and she has "
    "black glasses and a silver watch."
)


SHORT_ANSWER = "he wore a red jacket and blue jeans"


def _row(name: str, value: float, unit: str, ratio: float | None = None, **extra) -> dict:
    return {"group": "clip", "name": name, "value": round(float(value), 4), "unit": unit,
            "ratio_vs_reference": None if ratio is None else round(float(ratio), 3), **extra}


def _images(n: int, seed: int = 0):
    from PIL import Image  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        h, w = int(rng.integers(120, 300)), int(rng.integers(48, 120))
        arr = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        arr[: h // 2, :, i % 3] = 200  # a coloured "upper body", so images differ in content
        out.append(Image.fromarray(arr))
    return out


def _timed(fn, repeats: int = 1) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _real_crops(n: int):
    """``n`` real person crops (the bundled dev set's crops from the demo video, repeated as needed);
    synthetic images where the dev set is not installed."""
    from PIL import Image  # noqa: PLC0415

    from ..paths import resources_dir  # noqa: PLC0415

    files = sorted((resources_dir() / "devsets" / "vtest" / "images").glob("*.jpg"))
    if not files:
        return _images(n), "synthetic images"
    crops = []
    for path in files[:n]:
        with Image.open(path) as im:
            crops.append(im.convert("RGB"))
    return [crops[i % len(crops)] for i in range(n)], "real crops"


def _openvino_runner(path, threads: int | None, precision: str = "f32"):
    """A callable pixels -> features on OpenVINO's CPU plugin, or None when the ``openvino``
    package is not installed (an optional, separate runtime; see ``engine.full.openvino_runtime``)."""
    from ..full.openvino_runtime import OpenVinoSession, openvino_available  # noqa: PLC0415

    if not openvino_available():
        return None
    session = OpenVinoSession(path, threads=threads, precision=precision)

    def run(pixels):
        return session.run(None, {"pixels": pixels})[0]

    run.provider = session.get_providers()[0]
    return run


def clip_speed_rows(n_images: int = 64, tiny: bool = False, batch_size: int = 32, text_repeats: int = 10,
                    progress=None, batch_sizes=(1, 8, 32)) -> list[dict]:
    """Gallery embedding throughput (images/s) and text latency (ms), reference vs ONNX.

    ``tiny`` uses the tiny test config instead of ViT-B/16 (seconds instead of minutes).
    Rows: throughput on real crops for PyTorch fp32 (reference), ONNX fp32, ONNX dynamic int8,
    ONNX static int8 (QDQ, calibrated on the demo crops) at each of ``batch_sizes``, and OpenVINO
    where installed; min/mean cosine of each to the reference; opening the image tower with and
    without the saved optimised graph; text-encoding latency (median) for a 60-word description,
    PyTorch vs ONNX; and the text graph cut at the end-of-text token against the fixed-192-token
    graph of older packs (a 60-word description and an 8-word answer).
    """
    import torch  # noqa: PLC0415

    from ..embedder import EmbedderIdentity, l2_normalise  # noqa: PLC0415
    from ..full.clip_model import (DEFAULT_CONFIG, TINY_CONFIG, build_model, encode_images,  # noqa: PLC0415
                                   encode_tokens, image_tower, load_config)
    from ..full.export import export_text_tower, export_towers  # noqa: PLC0415
    from ..full.onnx_retriever import OnnxClipEmbedder, OnnxClipRetriever  # noqa: PLC0415
    from ..full.ort_cache import intra_op_threads, optimised_session  # noqa: PLC0415
    from ..full.preprocess import preprocess_batch  # noqa: PLC0415
    from ..full.providers import choose_providers  # noqa: PLC0415
    from ..full.quantize import quantize_tower  # noqa: PLC0415
    from ..full.tokenizer import ClipTokenizer  # noqa: PLC0415

    say = progress or (lambda _m: None)
    cfg = load_config(TINY_CONFIG if tiny else DEFAULT_CONFIG)
    model = build_model(cfg)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    providers = choose_providers()
    images, kind = _real_crops(n_images)
    pre = cfg["preprocess"]
    ident = EmbedderIdentity("clip-onnx", "bench", int(cfg["embed_dim"]))
    label = f"{cfg['name']}, {n_images} {kind}"
    threads = intra_op_threads() or torch.get_num_threads()
    rows: list[dict] = []

    with tempfile.TemporaryDirectory() as tmp:
        say("bench clip: exporting ONNX fp32 + dynamic int8 + static int8 (calibrating on the demo crops)...")
        paths = export_towers(model, Path(tmp), tuple(cfg["vision_cfg"]["image_size"]), int8=True)
        paths["image_static_onnx"], _info = quantize_tower("static", paths["image_onnx"], Path(tmp) / "static.onnx",
                                                           pre)
        fixed_text = export_text_tower(model, Path(tmp) / "text_fixed.onnx", dynamic_length=False)
        ref_model = model.to(device)

        def reference(imgs=images):
            pixels = preprocess_batch(imgs, pre)
            if device == "cpu":
                return encode_images(ref_model, pixels, batch_size)
            tower = image_tower(ref_model)
            with torch.inference_mode():  # the same tower, inputs moved to the GPU
                return np.concatenate([tower(torch.from_numpy(pixels[i:i + batch_size]).to(device)).float().cpu().numpy()
                                       for i in range(0, len(pixels), batch_size)])

        say("bench clip: PyTorch fp32 reference...")
        reference(images[:batch_size])  # warm-up
        t_ref, ref = _timed(reference)
        rows.append(_row(f"CLIP gallery embedding, PyTorch fp32 reference ({label}, batch {batch_size})",
                         n_images / t_ref, "images/s", 1.0, device=device, threads=threads))
        variants = [("ONNX fp32", "image_onnx", batch_size), ("ONNX dynamic int8", "image_int8_onnx", batch_size)]
        variants += [("ONNX static int8 (QDQ)", "image_static_onnx", b) for b in batch_sizes]
        cosines = {}
        for name, key, batch in variants:
            say(f"bench clip: {name}, batch {batch}...")
            emb = OnnxClipEmbedder(paths[key], ident, pre, batch_size=batch, providers=providers, cache=False,
                                   runtime="onnxruntime")
            emb.embed_images(images[:batch])  # warm-up
            t, vec = _timed(lambda e=emb: e.embed_images(images))
            rows.append(_row(f"CLIP gallery embedding, {name} ({label}, batch {batch})", n_images / t, "images/s",
                             t_ref / t, provider=emb.provider, threads=threads))
            cosines[name] = vec
        for runtime, key, precision in (("OpenVINO fp32", "image_onnx", "f32"),
                                        ("OpenVINO fp32 graph, CPU's own precision", "image_onnx", "auto"),
                                        ("OpenVINO static int8 (QDQ)", "image_static_onnx", "auto")):
            run = _openvino_runner(paths[key], intra_op_threads(), precision)
            if run is None:
                break
            say(f"bench clip: {runtime}...")

            def embed(imgs, r=run):
                return l2_normalise(np.concatenate([r(preprocess_batch(imgs[i:i + batch_size], pre))
                                                    for i in range(0, len(imgs), batch_size)]))

            embed(images[:batch_size])  # warm-up
            t, vec = _timed(lambda e=embed: e(images))
            rows.append(_row(f"CLIP gallery embedding, {runtime} ({label}, batch {batch_size})", n_images / t,
                             "images/s", t_ref / t, provider=run.provider, threads=threads))
            cosines[runtime] = vec
        for name, vec in cosines.items():
            cos = np.sum(vec * ref, axis=1)
            rows.append(_row(f"CLIP {name} vs PyTorch fp32, min cosine ({label})", float(cos.min()),
                             "cosine", mean=round(float(cos.mean()), 6)))

        say("bench clip: opening the image tower, optimising vs the saved optimised graph...")
        cache = Path(tmp) / "ort-cache"
        for name, key in (("fp32", "image_onnx"), ("static int8", "image_static_onnx")):
            t_direct, _s = _timed(lambda k=key: optimised_session(paths[k], ["CPUExecutionProvider"], folder=None), 2)
            optimised_session(paths[key], ["CPUExecutionProvider"], folder=cache)  # builds the saved graph
            t_cached, (_s, how) = _timed(lambda k=key: optimised_session(paths[k], ["CPUExecutionProvider"],
                                                                         folder=cache), 2)
            rows.append(_row(f"CLIP image tower session open, {name}, optimised on open (reference)", t_direct * 1000,
                             "ms", 1.0))
            rows.append(_row(f"CLIP image tower session open, {name}, saved optimised graph (hash checked)",
                             t_cached * 1000, "ms", t_direct / t_cached, how=how))

        say("bench clip: text encoding latency...")
        tok = ClipTokenizer(context_length=int(cfg["text_cfg"]["context_length"]))
        retriever = OnnxClipRetriever(paths["text_onnx"], ident, context_length=tok.context_length,
                                      providers=providers)
        n_words = len(DESCRIPTION_60_WORDS.split())

        def torch_text():
            tokens = tok([DESCRIPTION_60_WORDS])
            if device == "cpu":
                return encode_tokens(ref_model, tokens)
            with torch.inference_mode():
                return ref_model.encode_text(torch.from_numpy(tokens).to(device), normalize=True).cpu().numpy()

        def latencies(fn):
            fn()  # warm-up
            out = []
            for _ in range(text_repeats):
                t0 = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t0) * 1000)
            return float(np.median(out))

        # Packs built before the dynamic-length export run every query at the full 192 tokens.
        fixed = OnnxClipRetriever(fixed_text, ident, context_length=tok.context_length, providers=providers)
        lat_ref = latencies(torch_text)
        rows.append(_row(f"CLIP text encoding, PyTorch fp32 ({n_words}-word description, median)", lat_ref,
                         "ms", 1.0, device=device))
        for words, text in ((n_words, DESCRIPTION_60_WORDS), (len(SHORT_ANSWER.split()), SHORT_ANSWER)):
            lat_fixed = latencies(lambda t=text: fixed.encode_text([t]))
            lat_dyn = latencies(lambda t=text: retriever.encode_text([t]))
            cos_fixed = float(np.sum(fixed.encode_text([text])[0] * retriever.encode_text([text])[0]))
            n_tokens = int((tok([text]) > 0).sum())
            if text is DESCRIPTION_60_WORDS:
                text_cos = float(np.sum(torch_text()[0] * retriever.encode_text([text])[0]))
                rows.append(_row(f"CLIP text encoding, ONNX fp32 ({words}-word description, median)", lat_dyn,
                                 "ms", lat_ref / lat_dyn, provider=retriever.provider,
                                 cosine_vs_reference=round(text_cos, 6)))
            rows.append(_row(f"CLIP text encoding, ONNX fixed 192 tokens ({words} words, median)", lat_fixed,
                             "ms", provider=fixed.provider))
            rows.append(_row(f"CLIP text encoding, ONNX cut at end-of-text ({words} words = {n_tokens} tokens, "
                             "median)", lat_dyn, "ms", lat_fixed / lat_dyn, reference="fixed 192 tokens",
                             cosine_vs_fixed_192=round(cos_fixed, 6)))
    return rows
