"""The authors' LLaVA-ReID checkpoint → interreid model-pack components (``pack build --from-llava-reid``).

What their training writes (their ``main_train.py`` / ``train_llava_reid.py``, read at the
public repository's HEAD; docs/llava-reid-checkpoint.md):

- the retriever: ``retrieval_model_mix_IRRA/checkpoint.pth``, an IRRA state dict (``base_model.*``),
  which ``pack build --irra`` already reads;
- the selector: ``selector.pth``, the state dict of their ``model/selector.py`` ``Selector``;
- the questioner: either the LoRA adapter their trainer saves (``adapter_config.json`` +
  ``adapter_model.bin|safetensors``, peft, names of LLaVA-NeXT's ``LlavaQwenForCausalLM``) on top of
  ``lmms-lab/llava-onevision-qwen2-7b-ov`` (``--llava-base``), or the whole model merged by their
  ``merge_lora_weights.py`` (``config.json`` of a ``llava_qwen`` model + weights).

The questioner is rewritten as a transformers ``LlavaOnevisionForConditionalGeneration`` folder
(``base/``) and, when the checkpoint is a LoRA adapter, a peft adapter on it (``adapter/``): the
adapter is kept separate and applied at run time, not merged (see :func:`convert_adapter`).
Everything runs offline on local files. Each failure is a UserError naming the file or key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ...errors import UserError
from ...hashing import sha256_file
from . import keymaps

RETRIEVER_DIR = "retrieval_model_mix_IRRA"
_STEP = re.compile(r"(^|/)checkpoint-\d+(/|$)")  # transformers Trainer's step snapshots
RETRIEVER_FILE = "checkpoint.pth"
SELECTOR_FILE = "selector.pth"
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
SPECIAL_TOKENS = ("<image>", "<video>")
#: Their run-time choices (model/llava_reid.py generate_mini_batch; model/llava_qwen_reid.py;
#: config/train_question.yaml), written into the pack's questioner config.
QUESTIONER_SETTINGS = {
    "layout": "llava-reid",       # pool before the projector, unpad, a newline after every row
    "pad_colour": "mean",         # expand2square with int(mean * 255): (127, 127, 127) for SigLIP
    "unpad": True,                # mm_patch_merge_type spatial_unpad with image_aspect_ratio pad
    "prompt": "questioner-llava-reid.yaml",
    "do_sample": True,
    "top_p": 0.5,
    "top_k": 50,                  # transformers' default, which their generate() call leaves in place
    "temperature": 1.0,
    "max_new_tokens": 100,
}


@dataclass
class CheckpointParts:
    """Where each part of the authors' checkpoint lies inside the folder the user gave."""

    retriever: Path
    selector: Path
    adapter: Path | None  # folder with adapter_config.json
    merged: Path | None   # folder with a merged llava_qwen model

    def describe(self, root: Path) -> dict:
        def rel(p):
            return None if p is None else (p.relative_to(root).as_posix() or ".")
        return {"retriever": rel(self.retriever), "selector": rel(self.selector),
                "questioner_adapter": rel(self.adapter), "questioner_merged": rel(self.merged)}


def _is_llava_model_dir(folder: Path) -> bool:
    path = folder / "config.json"
    if not path.is_file():
        return False
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    has_weights = bool(_weight_files(folder))
    return isinstance(cfg, dict) and "mm_projector_type" in cfg and has_weights


def _weight_files(folder: Path) -> list[Path]:
    """A model folder's weight files (sharded or not), not a peft adapter's."""
    shards = sorted(p for p in folder.glob("*.safetensors") if not p.name.startswith("adapter_model"))
    return shards or sorted(folder.glob("pytorch_model*.bin"))


def _shallowest(paths: list[Path], what: str, root: Path) -> Path | None:
    if not paths:
        return None
    paths = sorted(paths, key=lambda p: (len(p.relative_to(root).parts), str(p)))
    depth = len(paths[0].relative_to(root).parts)
    tied = [p for p in paths if len(p.relative_to(root).parts) == depth]
    if len(tied) > 1:
        names = ", ".join(p.relative_to(root).as_posix() for p in tied[:4])
        raise UserError(f"{root} holds more than one {what} ({names}); give the folder of the one to convert.")
    return paths[0]


def find_parts(root: str | Path) -> CheckpointParts:
    """Locate the retriever, selector and questioner in the authors' output folder."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"The LLaVA-ReID checkpoint folder {root} does not exist; give the folder you unpacked "
                        "the authors' checkpoint into.")
    files = [p for p in root.rglob("*") if not any(part.startswith(".") for part in p.relative_to(root).parts)]
    retrievers = [p for p in files if p.name == RETRIEVER_FILE and p.is_file()]
    preferred = [p for p in retrievers if p.parent.name == RETRIEVER_DIR]
    retriever = _shallowest(preferred or retrievers, "retriever checkpoint", root)
    selectors = [p for p in files if p.name == SELECTOR_FILE and p.is_file()]
    adapters = [p.parent for p in files if p.name == ADAPTER_CONFIG]
    finals = [a for a in adapters if not _STEP.search(a.relative_to(root).as_posix())]
    adapters = finals or adapters  # the trainer's checkpoint-N/ snapshots only when nothing else
    # their joint training (stage train_selector) writes the final adapter and selector.pth into one
    # folder: that pair is the paper's model, whatever earlier stages left next to it
    joint = [a for a in adapters if (a / SELECTOR_FILE).is_file()]
    if joint:
        adapter = _shallowest(joint, "jointly trained questioner and selector", root)
        selector = adapter / SELECTOR_FILE
    else:
        adapter = _shallowest(adapters, "questioner LoRA adapter", root)
        selector = _shallowest(selectors, "selector", root)
    merged = None if adapter is not None else _shallowest(
        [p for p in files if p.is_dir() and _is_llava_model_dir(p)] + ([root] if _is_llava_model_dir(root) else []),
        "merged questioner", root)
    if retriever is None:
        raise UserError(f"{root} has no retriever checkpoint ({RETRIEVER_DIR}/{RETRIEVER_FILE}); give the folder "
                        "holding the authors' whole checkpoint.")
    if selector is None:
        raise UserError(f"{root} has no selector weights ({SELECTOR_FILE}); give the folder holding the authors' "
                        "whole checkpoint.")
    if adapter is None and merged is None:
        raise UserError(f"{root} has no questioner: neither a LoRA adapter ({ADAPTER_CONFIG}) nor a merged model "
                        "(config.json with mm_projector_type and its weights).")
    return CheckpointParts(retriever, selector, adapter, merged)


# -- reading weights -------------------------------------------------------------------------------

def read_state_dict(path: Path, what: str) -> dict:
    """Tensors of a ``.safetensors``/``.bin``/``.pth`` file, or of every weight file in a folder
    (sharded checkpoints). ``.bin``/``.pth`` are read with ``weights_only=True``."""
    import torch

    path = Path(path)
    if path.is_dir():
        shards = _weight_files(path)
        if not shards:
            raise UserError(f"The {what} folder {path} has no weights (*.safetensors or pytorch_model*.bin).")
        out: dict = {}
        for shard in shards:
            out.update(read_state_dict(shard, what))
        return out
    if not path.is_file():
        raise UserError(f"The {what} file {path} does not exist.")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return dict(load_file(str(path)))
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001  (any failure means the file is not a readable checkpoint)
        raise UserError(f"The {what} file {path} cannot be read as weights ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:160]}).") from None
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]  # saved together with optimizer/scheduler (their utils/iotools.save_model)
    if not isinstance(state, dict):
        raise UserError(f"The {what} file {path} does not hold a state dict.")
    return state


def _read_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise UserError(f"The {what} folder {path.parent} has no {path.name}.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{path} cannot be read as JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} is not a JSON object.")
    return data


# -- the selector ----------------------------------------------------------------------------------

def convert_selector(path: Path, out_dir: Path, heads: int = 8) -> dict:
    """Their ``selector.pth`` → ``selector.safetensors`` + ``selector.json`` in ``out_dir``.

    ``heads`` is not stored in the weights: their ``SelectorConfig`` default (8) is what their
    code builds. The config records ``normalize_inputs: false``: their ``Selector.forward`` does
    not normalise, its inputs are L2-normalised before it is called (``encode_text``/``set_gallery``).
    """
    from ..selector import SelectorNet, default_config, save_selector

    state = read_state_dict(path, "selector")
    mapped = {}
    for key, value in state.items():
        try:
            mapped[keymaps.map_selector_key(key)] = value
        except KeyError:
            raise UserError(f"The selector file {path} has the unexpected key '{key}'; it is not the state dict of "
                            "the authors' Selector.") from None
    if "modality.weight" not in mapped or "head.weight" not in mapped:
        missing = "modality_embed.weight" if "modality.weight" not in mapped else "selector.weight"
        raise UserError(f"The selector file {path} has no '{missing}'; it is not the state dict of the authors' "
                        "Selector.")
    d = int(mapped["modality.weight"].shape[1])
    layers = 1 + max((int(k.split(".")[2]) for k in mapped if k.startswith("encoder.layers.")), default=-1)
    if layers < 1:
        raise UserError(f"The selector file {path} has no encoder layers (encoder.layers.*).")
    ffn = int(mapped["encoder.layers.0.linear1.weight"].shape[0])
    if d % heads:
        raise UserError(f"The selector's width {d} is not divisible by {heads} heads; give --selector-heads.")
    config = {**default_config(), "embed_dim": d, "d_model": d, "layers": layers, "heads": heads, "ffn": ffn,
              "normalize_inputs": False, "masked_score": -10000.0,
              "source": "authors' LLaVA-ReID selector.pth (model/selector.py)"}
    net = SelectorNet(config)
    ours = net.state_dict()
    missing = sorted(set(ours) - set(mapped))
    if missing:
        raise UserError(f"The selector file {path} lacks '{missing[0]}' (in our names); it is not a "
                        f"{layers}-layer Selector.")
    for key, value in mapped.items():
        if tuple(value.shape) != tuple(ours[key].shape):
            raise UserError(f"The selector file {path} has '{key}' of shape {tuple(value.shape)}, expected "
                            f"{tuple(ours[key].shape)}.")
    net.load_state_dict({k: v.float() for k, v in mapped.items()})
    save_selector(net, out_dir)
    return {"file": path.name, "sha256": sha256_file(path), "layers": layers, "d_model": d, "heads": heads, "ffn": ffn}


# -- the questioner --------------------------------------------------------------------------------

def _target_prefixes(model) -> dict[str, str]:
    """Where each part lives in the installed transformers' LlavaOnevision state dict."""
    keys = list(model.state_dict())

    def prefix(suffix: str) -> str:
        hits = [k for k in keys if k.endswith(suffix)]
        if not hits:
            raise RuntimeError(f"transformers' LlavaOnevision has no parameter ending in {suffix}")
        return min(hits, key=len)[: -len(suffix)]

    return {"lm": prefix("embed_tokens.weight"), "vision": prefix("embeddings.patch_embedding.weight"),
            "projector": prefix("linear_1.weight"), "newline": prefix("image_newline"), "lm_head": ""}


def _vision_config(siglip_dir: Path) -> dict:
    cfg = _read_json(siglip_dir / "config.json", "SigLIP")
    vision = cfg.get("vision_config", cfg)
    if not isinstance(vision, dict) or "hidden_size" not in vision:
        raise UserError(f"{siglip_dir / 'config.json'} has no SigLIP vision_config; give the "
                        "google/siglip-so400m-patch14-384 folder as --siglip.")
    keep = {"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_channels",
            "image_size", "patch_size", "hidden_act", "layer_norm_eps", "attention_dropout"}
    return {k: v for k, v in vision.items() if k in keep}


def _text_config(cfg: dict, vocab_rows: int) -> dict:
    keep = {"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
            "hidden_act", "max_position_embeddings", "rms_norm_eps", "rope_theta", "sliding_window",
            "use_sliding_window", "max_window_layers", "attention_dropout", "initializer_range"}
    text = {k: v for k, v in cfg.items() if k in keep}
    text.update(model_type="qwen2", vocab_size=vocab_rows, tie_word_embeddings=bool(cfg.get("tie_word_embeddings", False)))
    return text


def convert_adapter(adapter_dir: Path, out_dir: Path, prefixes: dict[str, str]) -> tuple[dict, dict]:
    """Their peft LoRA adapter → a peft adapter on the transformers model, written to ``out_dir``.

    Returns (their modules_to_save tensors in their names, e.g. the ``model.mm_projector`` copy their
    trainer saves; the conversion record). Kept as an adapter rather than merged: it was trained on
    an NF4-quantised base (``bits: 4``), so NF4 base + bf16 LoRA at run time is the arithmetic it was
    trained with, whereas merging into bf16 and quantising again would round the LoRA update into
    NF4; and the base stays the public model, byte for byte.
    """
    from safetensors.torch import save_file

    cfg = _read_json(adapter_dir / ADAPTER_CONFIG, "questioner adapter")
    if str(cfg.get("peft_type", "LORA")).upper() != "LORA":
        raise UserError(f"{adapter_dir / ADAPTER_CONFIG} is a {cfg.get('peft_type')} adapter; only LoRA is supported.")
    for flag in ("use_dora", "use_rslora"):
        if flag == "use_dora" and cfg.get(flag):
            raise UserError(f"{adapter_dir / ADAPTER_CONFIG} sets use_dora; DoRA adapters are not supported.")
    if cfg.get("rank_pattern") or cfg.get("alpha_pattern"):
        raise UserError(f"{adapter_dir / ADAPTER_CONFIG} sets per-module ranks (rank_pattern/alpha_pattern), which "
                        "this converter does not map.")
    if str(cfg.get("bias", "none")) != "none":
        raise UserError(f"{adapter_dir / ADAPTER_CONFIG} trains biases (bias: {cfg.get('bias')}); not supported.")
    weights = next((adapter_dir / n for n in ADAPTER_WEIGHTS if (adapter_dir / n).is_file()), None)
    if weights is None:
        raise UserError(f"The questioner adapter folder {adapter_dir} has no {' or '.join(ADAPTER_WEIGHTS)}.")
    state = read_state_dict(weights, "questioner adapter")
    lora, saved, modules = {}, {}, set()
    for key, value in state.items():
        split = keymaps.split_lora_key(key)
        if split is not None:
            module, tensor = split
            try:
                mapped = keymaps.map_key(module + ".weight")
            except KeyError:
                mapped = None
            if mapped is None:
                raise UserError(f"The questioner adapter {weights} has LoRA weights on '{module}', which has no "
                                "counterpart in the converted model.")
            part, name = mapped
            target = prefixes[part] + name[: -len(".weight")]
            modules.add(target)
            lora[f"{keymaps.PEFT_PREFIX}{target}.{tensor}.weight"] = value.contiguous()
            continue
        plain = keymaps.saved_module_key(key)
        if plain is not None:
            saved[plain] = value
            continue
        raise UserError(f"The questioner adapter {weights} has the unexpected key '{key}'.")
    if not lora:
        raise UserError(f"The questioner adapter {weights} holds no LoRA weights (lora_A/lora_B).")
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(lora, str(out_dir / "adapter_model.safetensors"))
    ours = {"peft_type": "LORA", "task_type": None, "base_model_name_or_path": None, "inference_mode": True,
            "r": int(cfg["r"]), "lora_alpha": cfg.get("lora_alpha", 8), "lora_dropout": cfg.get("lora_dropout", 0.0),
            "use_rslora": bool(cfg.get("use_rslora", False)), "fan_in_fan_out": bool(cfg.get("fan_in_fan_out", False)),
            "bias": "none", "init_lora_weights": True,
            # exactly the modules their adapter holds, in transformers' names
            "target_modules": "^(" + "|".join(re.escape(m) for m in sorted(modules)) + ")$"}
    (out_dir / ADAPTER_CONFIG).write_text(json.dumps(ours, indent=2) + "\n", encoding="utf-8")
    record = {"file": weights.name, "sha256": sha256_file(weights), "config_sha256": sha256_file(adapter_dir / ADAPTER_CONFIG),
              "r": ours["r"], "lora_alpha": ours["lora_alpha"], "modules": len(modules),
              "modules_to_save": sorted(saved)}
    return saved, record


def convert_questioner(model_dir: Path, siglip_dir: Path, out_dir: Path, tokenizer_dir: Path | None = None,
                       overrides: dict | None = None) -> dict:
    """A LLaVA-NeXT ``llava_qwen`` folder (the lmms-lab base, or their merged questioner) → a
    transformers LlavaOnevision folder ``out_dir`` (config, safetensors, tokenizer, preprocessor).

    ``overrides`` are tensors in their names that replace the folder's (the adapter's saved
    projector copy). The vision tower comes from the folder when it holds one (LLaVA-OneVision
    trained it, and LLaVA-NeXT's ``from_pretrained`` loads it from there), else from ``siglip_dir``;
    ``siglip_dir`` always gives the tower's config and preprocessing. Returns the conversion record.
    """
    import torch
    from transformers import (
        AutoTokenizer,
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
    )

    model_dir, siglip_dir, out_dir = Path(model_dir), Path(siglip_dir), Path(out_dir)
    cfg = _read_json(model_dir / "config.json", "LLaVA base model")
    if cfg.get("mm_projector_type") != "mlp2x_gelu":
        raise UserError(f"{model_dir / 'config.json'} has mm_projector_type {cfg.get('mm_projector_type')!r}; the "
                        "LLaVA-ReID questioner uses 'mlp2x_gelu' (give lmms-lab/llava-onevision-qwen2-7b-ov).")
    vision_cfg = _vision_config(siglip_dir)
    state = read_state_dict(model_dir, "LLaVA base model")
    for key, value in (overrides or {}).items():
        if key not in state:
            raise UserError(f"The adapter replaces '{key}', which the LLaVA base model in {model_dir} does not have.")
        state[key] = value
    parts: dict[str, dict] = {"lm": {}, "lm_head": {}, "vision": {}, "projector": {}, "newline": {}}
    dropped = []
    for key, value in state.items():
        try:
            mapped = keymaps.map_key(key)
        except KeyError:
            raise UserError(f"The LLaVA model in {model_dir} has the unexpected key '{key}'; it is not a "
                            "LLaVA-NeXT llava_qwen checkpoint.") from None
        if mapped is None:
            dropped.append(key)
        else:
            parts[mapped[0]][mapped[1]] = value
    vision_source = "checkpoint"
    if not parts["vision"]:
        vision_source = "siglip"
        sig_state = read_state_dict(siglip_dir, "SigLIP")
        for key, value in sig_state.items():
            try:
                mapped = keymaps.map_key(key, keymaps.SIGLIP_RULES, keymaps.SIGLIP_IGNORED)
            except KeyError:
                raise UserError(f"The SigLIP model in {siglip_dir} has the unexpected key '{key}'.") from None
            if mapped is not None:
                parts["vision"][mapped[1]] = value
    # LLaVA-NeXT's SigLipVisionTower deletes the last encoder layer and reads hidden_states[-1]
    # (= the full tower's hidden_states[-2], their mm_vision_select_layer: -2).
    keep = int(vision_cfg["num_hidden_layers"]) - 1
    for name in list(parts["vision"]):
        layer = keymaps.vision_layer(name)
        if layer is not None and layer >= keep:
            dropped.append(f"vision encoder.layers.{layer}")
            del parts["vision"][name]
    for name in ("post_layernorm.weight", "post_layernorm.bias"):  # unused by hidden_states[-1]
        if name not in parts["vision"]:
            width = int(vision_cfg["hidden_size"])
            parts["vision"][name] = torch.ones(width) if name.endswith("weight") else torch.zeros(width)
    embed = parts["lm"].get("embed_tokens.weight")
    if embed is None:
        raise UserError(f"The LLaVA model in {model_dir} has no 'model.embed_tokens.weight'.")
    dtype = embed.dtype

    tok_dir = Path(tokenizer_dir or model_dir)
    try:
        tok = AutoTokenizer.from_pretrained(str(tok_dir), local_files_only=True)
    except Exception as exc:  # noqa: BLE001
        raise UserError(f"The tokenizer in {tok_dir} cannot be loaded ({type(exc).__name__}); give the "
                        "lmms-lab base folder with its tokenizer files.") from None
    missing_tokens = [t for t in SPECIAL_TOKENS if t not in tok.get_vocab()]
    if missing_tokens:
        tok.add_tokens(missing_tokens, special_tokens=True)
    rows = int(embed.shape[0])
    if len(tok) > rows:  # new rows only for the added placeholders: their embeddings are never read
        extra = len(tok) - rows
        parts["lm"]["embed_tokens.weight"] = torch.cat([embed, embed.mean(0, keepdim=True).expand(extra, -1)])
        if "lm_head.weight" in parts["lm_head"]:
            head = parts["lm_head"]["lm_head.weight"]
            parts["lm_head"]["lm_head.weight"] = torch.cat([head, head.mean(0, keepdim=True).expand(extra, -1)])
        rows = len(tok)

    tied = bool(cfg.get("tie_word_embeddings", False))
    config = LlavaOnevisionConfig(
        text_config=_text_config(cfg, rows),
        vision_config={**vision_cfg, "model_type": "siglip_vision_model", "num_hidden_layers": keep,
                       "vision_use_head": False},
        image_token_index=tok.convert_tokens_to_ids("<image>"), video_token_index=tok.convert_tokens_to_ids("<video>"),
        vision_feature_layer=-1, vision_feature_select_strategy="full", projector_hidden_act="gelu",
        multimodal_projector_bias=True, tie_word_embeddings=tied)
    with torch.device("meta"):
        model = LlavaOnevisionForConditionalGeneration(config)
    prefixes = _target_prefixes(model)
    target = {prefixes[part] + name: value.to(dtype) for part, names in parts.items() for name, value in names.items()}
    expected = model.state_dict()
    missing = sorted(k for k in set(expected) - set(target) if not (tied and k.startswith("lm_head.")))
    unexpected = sorted(set(target) - set(expected))
    if missing:
        raise UserError(f"The LLaVA model in {model_dir} lacks the weights for '{missing[0]}' (in transformers' names)"
                        f"{f' and {len(missing) - 1} more' if len(missing) > 1 else ''}.")
    if unexpected:
        raise UserError(f"The LLaVA model in {model_dir} has '{unexpected[0]}' (in transformers' names), which "
                        "transformers' LlavaOnevision does not have.")
    for key, value in target.items():
        if tuple(value.shape) != tuple(expected[key].shape):
            raise UserError(f"The LLaVA model in {model_dir} has '{key}' of shape {tuple(value.shape)}, but its "
                            f"config implies {tuple(expected[key].shape)}.")
    model.load_state_dict(target, strict=False, assign=True)
    if tied:
        model.tie_weights()
    model.config.dtype = dtype
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir), max_shard_size="4GB")
    tok.save_pretrained(str(out_dir))
    pre = {"image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}
    sig_pre = siglip_dir / "preprocessor_config.json"
    if sig_pre.is_file():
        raw = _read_json(sig_pre, "SigLIP")
        pre.update({k: raw[k] for k in ("image_mean", "image_std") if k in raw})
    pre["size"] = {"height": config.vision_config.image_size, "width": config.vision_config.image_size}
    pre["resample"] = 3  # PIL bicubic, as SigLipImageProcessor
    (out_dir / "preprocessor_config.json").write_text(json.dumps(pre, indent=2) + "\n", encoding="utf-8")
    return {"config_sha256": sha256_file(model_dir / "config.json"), "vision_from": vision_source,
            "vision_layers": keep, "dropped": sorted(set(dropped))[:20], "added_tokens": missing_tokens,
            "dtype": str(dtype).replace("torch.", ""), "pool_ratio": float(cfg.get("mm_spatial_pool_ratio") or 2.0),
            "image_aspect_ratio": cfg.get("image_aspect_ratio"), "mm_patch_merge_type": cfg.get("mm_patch_merge_type")}


# -- the whole checkpoint --------------------------------------------------------------------------

def llava_reid_components(from_dir: str | Path, llava_base: str | Path | None, siglip: str | Path | None,
                          scratch: Path, selector_heads: int = 8, progress=None) -> tuple[Path, dict, str]:
    """(retriever checkpoint for ``build_pack(irra_ckpt=...)``, selector + questioner components
    written under ``scratch``, the manifest's source line)."""
    say = progress or (lambda _msg: None)
    root = Path(from_dir)
    parts = find_parts(root)
    if siglip is None or not Path(siglip).is_dir():
        raise UserError("--siglip must name the google/siglip-so400m-patch14-384 folder (the questioner's "
                        f"vision tower){f'; {siglip} does not exist' if siglip else ''}.")
    siglip = Path(siglip)
    if parts.adapter is not None and (llava_base is None or not Path(llava_base).is_dir()):
        raise UserError("The checkpoint's questioner is a LoRA adapter: --llava-base must name the "
                        "lmms-lab/llava-onevision-qwen2-7b-ov folder it was trained on"
                        f"{f' ({llava_base} does not exist)' if llava_base else ''}.")
    scratch = Path(scratch)
    say(f"converting the selector {parts.selector.relative_to(root)}")
    selector_record = convert_selector(parts.selector, scratch / "selector", selector_heads)
    qdir = scratch / "questioner"
    record: dict = {"checkpoint": parts.describe(root), "selector": selector_record}
    if parts.adapter is not None:
        say(f"converting the questioner adapter {parts.adapter.relative_to(root).as_posix() or '.'} and the base "
            f"{Path(llava_base).name} (this takes a while for the 7B model)")
        from transformers import LlavaOnevisionForConditionalGeneration  # noqa: F401  (fail early if missing)

        prefixes = _prefixes_for_installed_transformers()
        saved, adapter_record = convert_adapter(parts.adapter, qdir / "adapter", prefixes)
        base_record = convert_questioner(Path(llava_base), siglip, qdir / "base", overrides=saved)
        record.update(questioner="lora adapter (applied at run time, not merged)", adapter=adapter_record,
                      base=base_record)
        files = {"base": qdir / "base", "adapter": qdir / "adapter"}
    else:
        say(f"converting the merged questioner {parts.merged.relative_to(root).as_posix() or '.'}")
        tok_dir = parts.merged if (parts.merged / "tokenizer_config.json").is_file() else llava_base
        base_record = convert_questioner(parts.merged, siglip, qdir / "base", tokenizer_dir=tok_dir)
        record.update(questioner="merged weights", base=base_record)
        files = {"base": qdir / "base"}
    (qdir / "conversion.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    files["conversion.json"] = qdir / "conversion.json"
    settings = {**QUESTIONER_SETTINGS, "pool_ratio": base_record["pool_ratio"],
                "converted_from": "authors' LLaVA-ReID checkpoint (see questioner/conversion.json)"}
    components = {
        "selector": {"files": {p.name: p for p in sorted((scratch / "selector").iterdir())},
                     "config": {"converted_from": "authors' LLaVA-ReID selector.pth", "normalize_inputs": False}},
        "questioner": {"files": files, "config": settings},
    }
    source = (f"authors' LLaVA-ReID checkpoint {root.name} (retriever {parts.retriever.relative_to(root).as_posix()}, "
              f"selector sha256 {selector_record['sha256'][:16]}, questioner "
              f"{'LoRA adapter on ' + Path(llava_base).name if parts.adapter is not None else 'merged'}; "
              f"vision tower config from {siglip.name})")
    return parts.retriever, components, source


def _prefixes_for_installed_transformers() -> dict[str, str]:
    """Target prefixes read from a tiny meta-device LlavaOnevision (no weights allocated)."""
    import torch
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
    )

    config = LlavaOnevisionConfig(
        text_config={"model_type": "qwen2", "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1,
                     "num_attention_heads": 1, "num_key_value_heads": 1, "vocab_size": 8},
        vision_config={"model_type": "siglip_vision_model", "hidden_size": 8, "intermediate_size": 8,
                       "num_hidden_layers": 1, "num_attention_heads": 1, "image_size": 8, "patch_size": 4})
    with torch.device("meta"):
        model = LlavaOnevisionForConditionalGeneration(config)
    return _target_prefixes(model)
