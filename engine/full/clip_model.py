"""The retriever's CLIP (ViT-B/16, 384x128 images, 192-token text) built with open_clip.

The architecture is data: ``resources/models/<name>.json`` (open_clip's ``embed_dim`` /
``vision_cfg`` / ``text_cfg`` plus ``preprocess``). The model is built directly at the 192-token
context (open_clip then registers the 192x192 causal mask itself); 77-token CLIP weights get their
text positional embedding linearly interpolated to 192 rows on load (1-D, align_corners=False),
exactly as IRRA does. Features: image = projected CLS token; text = projected output at the
end-of-text token (argmax of the token ids); both L2-normalised, 512-d.

Two weight sources are understood:

* an open_clip / OpenAI CLIP state dict (``visual.*``, ``transformer.*``, ``token_embedding.*``,
  ``positional_embedding``, ``ln_final.*``, ``text_projection``, ``logit_scale``), in a ``.pt``
  (plain or TorchScript), ``.bin`` or ``.safetensors`` file;
* an IRRA / LLaVA-ReID retriever checkpoint: the same CLIP names under ``base_model.``, usually
  inside ``{"model": ...}``; its training-only heads (see ``IRRA_IGNORED_PREFIXES``) are skipped.

torch and open_clip are imported inside functions so that importing this module costs nothing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelPackError
from ..paths import resources_dir

DEFAULT_CONFIG = "clip-reid-vit-b-16"
TINY_CONFIG = "clip-reid-tiny"

#: IRRA / LLaVA-ReID heads used only in training (ID classifier, cross-modal MLM branch).
IRRA_IGNORED_PREFIXES = (
    "classifier.",
    "cross_attn.",
    "cross_modal_transformer.",
    "ln_pre_t.",
    "ln_pre_i.",
    "ln_post.",
    "mlm_head.",
)
#: Entries of OpenAI's TorchScript state dicts that are metadata, not weights.
_OPENAI_METADATA = ("input_resolution", "context_length", "vocab_size")
#: Weights the retrieval features do not need; loaded when present, left at init when absent.
_OPTIONAL = ("logit_scale", "logit_bias")


def load_config(name_or_path: str | Path = DEFAULT_CONFIG) -> dict:
    """A model config by name (``resources/models/<name>.json``) or by path to a JSON file."""
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = resources_dir() / "models" / f"{name_or_path}.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelPackError(f"No model config '{name_or_path}' ({path} does not exist); choose "
                             f"{DEFAULT_CONFIG} or {TINY_CONFIG}.") from None
    except ValueError as exc:
        raise ModelPackError(f"The model config {path} is not valid JSON ({exc}).") from None
    config.setdefault("name", path.stem)
    return config


def build_model(config: dict | str = DEFAULT_CONFIG, seed: int | None = 0):
    """An open_clip ``CLIP`` in eval mode, fp32, random weights, text context from the config (192).

    ``seed`` makes the random weights reproducible (None leaves torch's RNG alone).
    """
    import torch  # noqa: PLC0415
    from open_clip.model import CLIP  # noqa: PLC0415

    cfg = load_config(config) if isinstance(config, str) else config
    vision = dict(cfg["vision_cfg"])
    vision["image_size"] = tuple(vision["image_size"]) if isinstance(vision["image_size"], list) \
        else vision["image_size"]
    if seed is not None:
        torch.manual_seed(seed)
    model = CLIP(int(cfg["embed_dim"]), vision_cfg=vision, text_cfg=dict(cfg["text_cfg"]),
                 quick_gelu=bool(cfg.get("quick_gelu", True)))
    n_ctx = int(cfg["text_cfg"]["context_length"])
    assert model.positional_embedding.shape[0] == n_ctx and tuple(model.attn_mask.shape) == (n_ctx, n_ctx)
    return model.eval()


def interpolate_text_positions(pos, n_positions: int):
    """(L, W) text positional embedding -> (n_positions, W), 1-D linear, align_corners=False."""
    import torch.nn.functional as F  # noqa: PLC0415

    if pos.shape[0] == n_positions:
        return pos
    x = pos.detach().float().T.unsqueeze(0)  # (1, W, L)
    return F.interpolate(x, size=n_positions, mode="linear", align_corners=False)[0].T.contiguous()


def resize_image_positions(pos, grid: tuple[int, int]):
    """(1 + g*g, W) square-grid image positional embedding -> (1 + H*W, W) for ``grid`` = (H, W).

    The class-token row is kept; the grid is resized bilinearly, as IRRA does for 384x128 input.
    """
    import torch  # noqa: PLC0415
    import torch.nn.functional as F  # noqa: PLC0415

    cls, rest = pos[:1].float(), pos[1:].float()
    side = int(round(math.sqrt(rest.shape[0])))
    if side * side != rest.shape[0]:
        raise ValueError(f"image positional embedding of {pos.shape[0]} rows is not 1 + a square grid")
    g = rest.reshape(1, side, side, -1).permute(0, 3, 1, 2)
    g = F.interpolate(g, size=tuple(grid), mode="bilinear", align_corners=False)
    return torch.cat([cls, g.permute(0, 2, 3, 1).reshape(grid[0] * grid[1], -1)], dim=0)


def read_checkpoint(path: str | Path) -> dict:
    """The raw state dict in a checkpoint file (safetensors, torch pickle, or TorchScript)."""
    import torch  # noqa: PLC0415

    path = Path(path)
    if not path.is_file():
        raise ModelPackError(f"Checkpoint {path} does not exist; give the path of a CLIP or IRRA checkpoint.")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file  # noqa: PLC0415

            return dict(load_file(str(path)))
        try:
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception:  # noqa: BLE001  (OpenAI's release files are TorchScript archives)
            obj = torch.jit.load(str(path), map_location="cpu").state_dict()
    except Exception as exc:  # noqa: BLE001
        raise ModelPackError(f"Checkpoint {path} cannot be read ({type(exc).__name__}: {exc}).") from None
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict):
        raise ModelPackError(f"Checkpoint {path} holds no state dict (found {type(obj).__name__}).")
    return dict(obj)


def _name_keys(keys: list[str], limit: int = 8) -> str:
    shown = ", ".join(sorted(keys)[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def load_weights(model, state_dict: dict, kind: str = "clip", source: str = "checkpoint") -> dict[str, Any]:
    """Load CLIP weights into ``model`` (from :func:`build_model`) in place.

    ``kind`` is ``"clip"`` (open_clip / OpenAI names) or ``"irra"`` (``base_model.`` prefix).
    Positional embeddings of another length (77-token text, 224x224 image grid) are resized.
    Returns a report: ``{"ignored": [...], "resized": [...], "kind": kind}``.
    Raises ModelPackError naming the keys when weights are missing, unknown or of the wrong shape.
    """
    import torch  # noqa: PLC0415

    if kind not in ("clip", "irra"):
        raise ValueError(f"kind must be 'clip' or 'irra', not {kind!r}")
    sd = {(k[7:] if k.startswith("module.") else k): v for k, v in state_dict.items()}
    ignored: list[str] = []
    if kind == "irra":
        clip_sd = {}
        for key, value in sd.items():
            if key.startswith("base_model."):
                clip_sd[key[len("base_model."):]] = value
            elif key.startswith(IRRA_IGNORED_PREFIXES) or key in _OPTIONAL:
                ignored.append(key)
            else:
                clip_sd["\0" + key] = value  # unknown outside base_model: reported below
        sd = clip_sd
    for key in _OPENAI_METADATA:
        if key in sd:
            sd.pop(key)
            ignored.append(key)

    expected = model.state_dict()
    unknown = [k.lstrip("\0") for k in sd if k not in expected]
    missing = [k for k in expected if k not in sd and k not in _OPTIONAL]
    if unknown:
        hint = f"is it a {kind} checkpoint of this architecture?"
        if kind == "clip" and sum(k.startswith("base_model.") for k in unknown) > len(unknown) // 2:
            hint = "it looks like an IRRA / LLaVA-ReID checkpoint: load it as one (--irra)."
        raise ModelPackError(f"The {source} has {len(unknown)} weight(s) this CLIP does not know: "
                             f"{_name_keys(unknown)}; {hint}")
    if missing:
        raise ModelPackError(f"The {source} is missing {len(missing)} CLIP weight(s): {_name_keys(missing)}; "
                             f"is it a complete {kind} checkpoint?")

    resized: list[str] = []
    sd = {k: (v.float() if torch.is_floating_point(v) else v) for k, v in sd.items()}
    pos = sd["positional_embedding"]
    if pos.shape[0] != expected["positional_embedding"].shape[0] and pos.ndim == 2:
        sd["positional_embedding"] = interpolate_text_positions(pos, expected["positional_embedding"].shape[0])
        resized.append(f"positional_embedding {pos.shape[0]}->{sd['positional_embedding'].shape[0]}")
    vpos = sd.get("visual.positional_embedding")
    want = expected.get("visual.positional_embedding")
    if vpos is not None and want is not None and vpos.shape[0] != want.shape[0] and vpos.ndim == 2:
        try:
            sd["visual.positional_embedding"] = resize_image_positions(vpos, tuple(model.visual.grid_size))
        except ValueError as exc:
            raise ModelPackError(f"The {source} has an image positional embedding that cannot be resized "
                                 f"({exc}).") from None
        resized.append(f"visual.positional_embedding {vpos.shape[0]}->{want.shape[0]}")
    wrong = [f"{k} {tuple(sd[k].shape)} (expected {tuple(v.shape)})"
             for k, v in expected.items() if k in sd and tuple(sd[k].shape) != tuple(v.shape)]
    if wrong:
        raise ModelPackError(f"The {source} has weight(s) of the wrong shape: {_name_keys(wrong, 4)}; "
                             "was it trained with another model config?")
    model.load_state_dict(sd, strict=False)
    return {"ignored": sorted(ignored), "resized": resized, "kind": kind}


def load_checkpoint(model, path: str | Path, kind: str = "clip") -> dict[str, Any]:
    """:func:`read_checkpoint` + :func:`load_weights` (errors name the file)."""
    return load_weights(model, read_checkpoint(path), kind=kind, source=f"checkpoint {Path(path).name}")


# -- the two towers as modules (what gets exported) ---------------------------------------------

def image_tower(model):
    """nn.Module: float32 (N, 3, H, W) normalised pixels -> (N, D) L2-normalised features."""
    import torch  # noqa: PLC0415

    class ImageTower(torch.nn.Module):
        def __init__(self, clip):
            super().__init__()
            self.visual = clip.visual

        def forward(self, pixels):
            return torch.nn.functional.normalize(self.visual(pixels), dim=-1)

    return ImageTower(model).eval()


def text_tower(model):
    """nn.Module: int64 token ids (N, 192) -> (N, D) L2-normalised features (pooled at EOT)."""
    import torch  # noqa: PLC0415

    class TextTower(torch.nn.Module):
        def __init__(self, clip):
            super().__init__()
            self.clip = clip

        def forward(self, tokens):
            return self.clip.encode_text(tokens, normalize=True)

    return TextTower(model).eval()


def text_tower_dynamic(model):
    """nn.Module: int64 token ids (N, L) with any L <= the context length -> (N, D) L2-normalised.

    The same computation as ``text_tower`` on the first L positions (positional embedding and causal
    mask sliced to L). The text attention is causal and pools at the end-of-text token, so cutting
    the zero padding after the longest end-of-text token leaves every feature unchanged while the
    cost falls with L (a 15-token query instead of 192).
    """
    import torch  # noqa: PLC0415

    from open_clip.transformer import text_global_pool  # noqa: PLC0415

    class DynamicTextTower(torch.nn.Module):
        # nn.MultiheadAttention's traced graph bakes the sequence length into its reshapes, so the
        # blocks are written out here with shape-free reshapes (same weights, same arithmetic).
        def __init__(self, clip):
            super().__init__()
            self.clip = clip

        def forward(self, tokens):
            clip = self.clip
            n = tokens.shape[1]
            cast = clip.transformer.get_cast_dtype()
            x = clip.token_embedding(tokens).to(cast) + clip.positional_embedding[:n].to(cast)
            mask = clip.attn_mask[:n, :n].to(cast) if clip.attn_mask is not None else None
            for block in clip.transformer.resblocks:
                x = x + block.ls_1(_attention(block.attn, block.ln_1(x), mask))
                x = x + block.ls_2(block.mlp(block.ln_2(x)))
            x = clip.ln_final(x)
            x = text_global_pool(x, tokens, clip.text_pool_type, eos_token_id=getattr(clip, "text_eos_id", None))
            proj = clip.text_projection
            x = proj(x) if isinstance(proj, torch.nn.Linear) else x @ proj
            return torch.nn.functional.normalize(x, dim=-1)

    def _attention(attn, x, mask):
        # x: (N, L, W) batch-first; attn: nn.MultiheadAttention (packed in-projection).
        heads = attn.num_heads
        head_dim = attn.embed_dim // heads
        q, k, v = torch.nn.functional.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
        q, k, v = (t.unflatten(-1, (heads, head_dim)).transpose(1, 2) for t in (q, k, v))
        scores = (q @ k.transpose(-1, -2)) * (head_dim ** -0.5)
        if mask is not None:
            scores = scores + mask
        out = torch.softmax(scores, dim=-1) @ v
        return attn.out_proj(out.transpose(1, 2).flatten(2))

    return DynamicTextTower(model).eval()


def encode_images(model, pixels: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Reference PyTorch path: (N, 3, H, W) float32 -> (N, D) float32 L2-normalised."""
    import torch  # noqa: PLC0415

    tower = image_tower(model)
    out = []
    with torch.inference_mode():
        for i in range(0, len(pixels), batch_size):
            out.append(tower(torch.from_numpy(np.ascontiguousarray(pixels[i:i + batch_size]))).numpy())
    dim = int(model.text_projection.shape[1])
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, dim), np.float32)


def encode_tokens(model, tokens: np.ndarray) -> np.ndarray:
    """Reference PyTorch path: int64 (N, 192) -> (N, D) float32 L2-normalised."""
    import torch  # noqa: PLC0415

    with torch.inference_mode():
        return text_tower(model)(torch.from_numpy(np.asarray(tokens, dtype=np.int64))).numpy().astype(np.float32)
