"""Building a model pack from local checkpoints: export the CLIP towers to ONNX, check them against
PyTorch, add the optional components and write a verified manifest (see ``manifest.py``).

``build_pack`` is the entry point (``interreid pack build``); ``write_manifest`` and the
component helpers are public for converters that assemble a pack from other checkpoints.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from ..errors import UserError
from ..hashing import sha256_file
from .manifest import (_SAFE_NAME, FORMAT_VERSION, MANIFEST, RETRIEVER, Manifest, read_manifest, set_offline,
                       verify_pack)


def _versions() -> dict:
    from importlib import metadata  # noqa: PLC0415

    from .. import __version__  # noqa: PLC0415

    def ver(*dists: str) -> str | None:
        for dist in dists:
            try:
                return metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
        return None

    return {"torch": ver("torch"), "open_clip": ver("open_clip_torch"), "onnx": ver("onnx"),
            "onnxruntime": ver("onnxruntime-gpu", "onnxruntime"), "interreid": __version__}


def _file_entry(folder: Path, rel: str) -> dict:
    path = folder / rel
    return {"sha256": sha256_file(path), "size": path.stat().st_size}


def write_manifest(folder: Path, data: dict) -> Manifest:
    """Write ``manifest.json`` (sorted keys, indented) and return the parsed Manifest."""
    (folder / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return read_manifest(folder)


def _check_export(model, cfg: dict, paths: dict) -> dict:
    """Cosine of each exported tower to PyTorch on a few inputs; a low one is a bug, not user error."""
    import numpy as np  # noqa: PLC0415

    from .export import check_export  # noqa: PLC0415
    from .tokenizer import ClipTokenizer  # noqa: PLC0415

    h, w = cfg["vision_cfg"]["image_size"]
    pixels = np.random.default_rng(0).standard_normal((2, 3, h, w)).astype(np.float32)
    tokens = ClipTokenizer()(["a man in a red jacket and blue jeans", "a woman carrying a white bag"])
    result = {k: round(v, 6) for k, v in check_export(model, paths, pixels, tokens).items()}
    floors = {"image_onnx": 0.999, "text_onnx": 0.999, "image_int8_onnx": 0.98}
    bad = {k: v for k, v in result.items() if v < floors[k]}
    if bad:
        raise RuntimeError(f"ONNX export does not match PyTorch (cosine {bad}); this is a bug in the exporter")
    return result


INT8_CROP_FLOOR = 0.99


def _check_int8_on_crops(cfg: dict, paths: dict, calibration) -> dict:
    """Min and mean cosine of the int8 image tower to the fp32 one on real crops (the calibration folder's)."""
    import numpy as np  # noqa: PLC0415

    from .providers import CPU, make_session  # noqa: PLC0415
    from .quantize import calibration_files, calibration_pixels  # noqa: PLC0415

    pixels = calibration_pixels(calibration_files(calibration, limit=16), cfg["preprocess"])
    outs = []
    for key in ("image_onnx", "image_int8_onnx"):
        out = make_session(paths[key], [CPU]).run(None, {"pixels": pixels})[0]
        outs.append(out / np.linalg.norm(out, axis=1, keepdims=True))
    cos = np.sum(outs[0] * outs[1], axis=1)
    return {"images": len(pixels), "min": round(float(cos.min()), 6), "mean": round(float(cos.mean()), 6)}


def build_pack(out: str | Path, clip_ckpt: str | Path | None = None, irra_ckpt: str | Path | None = None,
               int8: bool = False, random_weights: bool = False, config: str = "clip-reid-vit-b-16",
               name: str = "clip-reid", version: str = "0.1.0", licence: str | None = None,
               source: str | None = None, components: dict[str, dict] | None = None,
               seed: int = 0, int8_method: str = "static", calibration: str | Path | None = None) -> Manifest:
    """Assemble a model pack in the new folder ``out`` from local files only.

    Weights: exactly one of ``clip_ckpt`` (open_clip/OpenAI CLIP state dict; text positions are
    interpolated 77 -> 192), ``irra_ckpt`` (IRRA / LLaVA-ReID checkpoint, ``base_model.`` prefix) or
    ``random_weights`` (seeded; for tests). ``config`` is a model config name or JSON path.
    ``components`` adds other components: ``{"selector": {"files": {relpath: source}, "config": {...}}}``
    (relpaths inside the component folder). ``int8`` adds an int8 image tower made by ``int8_method``
    (``static``: QDQ calibrated on the crops in ``calibration``, default the demo crops; or
    ``dynamic``; see ``quantize.py``). Returns the written pack's Manifest (verified).
    Raises UserError/ModelPackError on bad input; ``out`` is never left half-written.
    """
    set_offline()
    chosen = [x for x in (clip_ckpt, irra_ckpt, random_weights or None) if x]
    if len(chosen) != 1:
        raise UserError("Give exactly one source of weights: a CLIP checkpoint (--clip), an IRRA checkpoint "
                        "(--irra), or --random-weights for a test pack.")
    for label, value in (("name", name), ("version", version)):
        if not _SAFE_NAME.match(str(value)):
            raise UserError(f"The pack {label} '{value}' must be letters, digits, '.', '_', '+' or '-'.")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} already exists and is not empty; give a new folder for the pack.")

    from .clip_model import build_model, load_checkpoint, load_config  # noqa: PLC0415
    from .components import add_component_files  # noqa: PLC0415
    from .export import export_towers  # noqa: PLC0415
    from .tokenizer import BPE_FILENAME, default_bpe_path  # noqa: PLC0415

    cfg = load_config(config)
    model = build_model(cfg, seed=seed)
    checkpoint = None
    ckpt = clip_ckpt or irra_ckpt
    if ckpt:
        kind = "clip" if clip_ckpt else "irra"
        report = load_checkpoint(model, ckpt, kind=kind)
        checkpoint = {"kind": kind, "file": Path(ckpt).name, "sha256": sha256_file(ckpt), **report}

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        rdir = tmp / RETRIEVER
        paths = export_towers(model, rdir, tuple(cfg["vision_cfg"]["image_size"]))
        int8_info = None
        if int8:
            from .quantize import quantize_tower  # noqa: PLC0415

            paths["image_int8_onnx"], int8_info = quantize_tower(int8_method, paths["image_onnx"],
                                                                 rdir / "image_int8.onnx", cfg["preprocess"],
                                                                 calibration)
        # A static tower is calibrated on real crops and is checked on them (random pixels fall
        # outside its calibrated ranges); the others against PyTorch on random pixels as before.
        static = int8_info is not None and int8_info["method"] == "static-qdq"
        export_check = _check_export(model, cfg, {k: v for k, v in paths.items()
                                                  if not (static and k == "image_int8_onnx")})
        if int8_info is not None:
            crops = _check_int8_on_crops(cfg, paths, calibration)
            int8_info["cosine_to_fp32_on_crops"] = crops
            if crops["min"] < INT8_CROP_FLOOR:
                raise UserError(f"The int8 image tower differs too much from the fp32 one on the calibration crops "
                                f"(lowest cosine {crops['min']:.4f}, below {INT8_CROP_FLOOR}); build with "
                                "--int8-method dynamic, or calibrate on other crops with --calibration DIR.")
        shutil.copyfile(default_bpe_path(), rdir / BPE_FILENAME)
        (rdir / "config.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        entry: dict = {"dir": RETRIEVER, "config": cfg, "checkpoint": checkpoint, "export_check": export_check,
                       "config_file": f"{RETRIEVER}/config.json", "tokenizer": f"{RETRIEVER}/{BPE_FILENAME}"}
        if int8_info is not None:
            entry["int8"] = int8_info
        for key, path in paths.items():
            entry[key] = path.relative_to(tmp).as_posix()
        rels = sorted(p.relative_to(tmp).as_posix() for p in rdir.rglob("*") if p.is_file())
        entry["files"] = {rel: _file_entry(tmp, rel) for rel in rels}
        all_components = {RETRIEVER: entry}
        for comp_name, spec in (components or {}).items():
            all_components[comp_name] = add_component_files(tmp, comp_name, spec["files"], spec.get("config"))
        weights = "random" if random_weights else "trained"
        data = {
            "format_version": FORMAT_VERSION, "name": name, "version": version,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "licence": licence or ("none: random weights, for testing only" if random_weights else "unspecified"),
            "source": source or (f"random weights (seed {seed}), config {cfg['name']}" if random_weights
                                 else f"{checkpoint['kind']} checkpoint {checkpoint['file']} "
                                      f"(sha256 {checkpoint['sha256']})"),
            "weights": weights, "components": all_components, "versions": _versions(),
        }
        write_manifest(tmp, data)
        verify_pack(tmp)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return read_manifest(out)
