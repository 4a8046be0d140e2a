"""Key maps from the authors' LLaVA-ReID checkpoint (LLaVA-NeXT layout) to interreid's layouts.

Pure data and string functions (no torch), so they can be read, tested and documented on their own.
docs/llava-reid-checkpoint.md says where each name comes from.

Their questioner is LLaVA-NeXT's ``LlavaQwenForCausalLM`` (a ``Qwen2ForCausalLM`` whose ``model``
also holds ``vision_tower``, ``mm_projector`` and ``image_newline``); ours is transformers'
``LlavaOnevisionForConditionalGeneration``. Target names are given *relative to a prefix* that is
read from the installed transformers' model (``model.language_model.`` in transformers 5,
``language_model.model.`` in 4.4x), so the map does not depend on one transformers version.
"""

from __future__ import annotations

import re

# -- the questioner (LLaVA-NeXT LlavaQwenForCausalLM → transformers LlavaOnevision) ------------

#: (pattern on their key, target part, replacement). Target part is one of "lm" (the Qwen2 decoder,
#: under the language model prefix), "lm_head" (the output layer, kept as is), "vision" (the SigLIP
#: vision transformer, under the vision tower prefix), "projector" and "newline" (under the
#: multimodal prefix).
QUESTIONER_RULES: tuple[tuple[str, str, str], ...] = (
    (r"^model\.embed_tokens\.(.+)$", "lm", r"embed_tokens.\1"),
    (r"^model\.layers\.(\d+)\.(.+)$", "lm", r"layers.\1.\2"),
    (r"^model\.norm\.(.+)$", "lm", r"norm.\1"),
    (r"^lm_head\.(.+)$", "lm_head", r"lm_head.\1"),
    # mm_projector_type "mlp2x_gelu": nn.Sequential(Linear, GELU, Linear) → linear_1, act, linear_2
    (r"^model\.mm_projector\.0\.(weight|bias)$", "projector", r"linear_1.\1"),
    (r"^model\.mm_projector\.2\.(weight|bias)$", "projector", r"linear_2.\1"),
    (r"^model\.image_newline$", "newline", r"image_newline"),
    # SigLipVisionTower.vision_tower (SigLipVisionModel) .vision_model (the transformer)
    (r"^model\.vision_tower\.vision_tower\.vision_model\.(.+)$", "vision", r"\1"),
)

#: Their keys that hold nothing our model uses: the SigLIP head, which LLaVA-NeXT replaces with
#: nn.Identity() and never runs, and rotary caches some older checkpoints saved.
QUESTIONER_IGNORED = (
    r"^model\.vision_tower\.vision_tower\.vision_model\.head\.",
    r"\.rotary_emb\.inv_freq$",
)

#: The SigLIP checkpoint (google/siglip-so400m-patch14-384, transformers' SiglipModel): its vision
#: transformer is ``vision_model.*``; the text half, logit scale/bias are not used.
SIGLIP_RULES: tuple[tuple[str, str, str], ...] = (
    (r"^vision_model\.(.+)$", "vision", r"\1"),
)
SIGLIP_IGNORED = (r"^text_model\.", r"^logit_(scale|bias)$", r"^vision_model\.head\.")


def map_key(key: str, rules=QUESTIONER_RULES, ignored=QUESTIONER_IGNORED) -> tuple[str, str] | None:
    """(part, name inside that part) for one of their keys; None when the key is to be dropped.

    Raises KeyError (with the key) for a key no rule knows: an unexpected key is a different
    model, not something to skip silently.
    """
    for pattern in ignored:
        if re.search(pattern, key):
            return None
    for pattern, part, repl in rules:
        if re.match(pattern, key):
            return part, re.sub(pattern, repl, key)
    raise KeyError(key)


def vision_layer(name: str) -> int | None:
    """The encoder layer index of a vision-tower name (``encoder.layers.N....``), else None."""
    m = re.match(r"^encoder\.layers\.(\d+)\.", name)
    return int(m.group(1)) if m else None


# -- LoRA adapters (peft) -----------------------------------------------------------------------

#: peft prefixes the wrapped model's names with ``base_model.model.``; the LoRA tensors of a
#: module ``M`` are ``M.lora_A.weight`` and ``M.lora_B.weight`` (rank r × in, out × r).
PEFT_PREFIX = "base_model.model."
_LORA = re.compile(r"^(?P<module>.+)\.(?P<tensor>lora_A|lora_B)(?:\.[A-Za-z0-9_]+)?\.weight$")
#: modules_to_save copies (their training saves ``model.mm_projector`` this way): the copy
#: replaces the base module at run time, so the converter writes it into the base.
_SAVED = re.compile(r"^(?P<module>.+?)\.(?:modules_to_save\.)?(?:default\.)?(?P<rest>\d+\.(?:weight|bias))$")


def split_lora_key(key: str) -> tuple[str, str] | None:
    """(their module name, "lora_A" | "lora_B") for a peft LoRA key, None for any other key."""
    if not key.startswith(PEFT_PREFIX):
        return None
    m = _LORA.match(key[len(PEFT_PREFIX):])
    return (m.group("module"), m.group("tensor")) if m else None


def saved_module_key(key: str) -> str | None:
    """Their plain parameter name of a modules_to_save copy (``model.mm_projector.0.weight``), or None."""
    if not key.startswith(PEFT_PREFIX) or "lora_" in key:
        return None
    m = _SAVED.match(key[len(PEFT_PREFIX):])
    return f"{m.group('module')}.{m.group('rest')}" if m else None


# -- the selector (their model/selector.py → engine/full/selector.py) ------------------------------

#: Their ``Selector``: ``modality_embed`` (nn.Embedding(2, d)), ``encoder`` (nn.TransformerEncoder
#: of post-norm GELU layers), ``selector`` (nn.Linear(d, 1, bias=False)). Ours: ``modality``,
#: ``encoder`` (same nn.TransformerEncoderLayer parameter names; batch_first does not change
#: them), ``head``.
SELECTOR_RULES: tuple[tuple[str, str], ...] = (
    (r"^modality_embed\.weight$", "modality.weight"),
    ((r"^encoder\.layers\.(\d+)\.(self_attn\.in_proj_weight|self_attn\.in_proj_bias|self_attn\.out_proj\.weight|"
      r"self_attn\.out_proj\.bias|linear1\.weight|linear1\.bias|linear2\.weight|linear2\.bias|norm1\.weight|"
      r"norm1\.bias|norm2\.weight|norm2\.bias)$"), r"encoder.layers.\1.\2"),
    (r"^selector\.weight$", "head.weight"),
)
#: Prefixes a saved state dict may carry (DistributedDataParallel's ``module.``; a parent's ``selector.``).
SELECTOR_STRIP = ("module.",)


def map_selector_key(key: str) -> str:
    """Our name for one of their selector keys. Raises KeyError for an unknown key."""
    for prefix in SELECTOR_STRIP:
        key = key.removeprefix(prefix)
    for pattern, repl in SELECTOR_RULES:
        if re.match(pattern, key):
            return re.sub(pattern, repl, key)
    raise KeyError(key)
