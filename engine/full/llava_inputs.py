"""Turning the prompt and the candidate images into LLaVA-OneVision input embeddings.

Each candidate image is shown as LLaVA-OneVision's base view only (no any-resolution tiles): it is
resized to the vision tower's square input, encoded, projected, and its patch grid is pooled 2×2
by bilinear interpolation (g×g → ceil(g/2)×ceil(g/2): 27×27 → 14×14 for SigLIP-so400m at 384 px,
as in LLaVA-ReID), then one ``image_newline`` token closes it. So every ``<image>`` placeholder
becomes exactly :func:`image_token_count` tokens (197 for the 7B model). We do this ourselves,
rather than through the processor, because transformers' multi-image path keeps all 729 tokens
per image and only pools video frames.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

DEFAULT_MEAN = (0.5, 0.5, 0.5)  # SigLIP
DEFAULT_STD = (0.5, 0.5, 0.5)


def patch_grid(config) -> int:
    """Patches per side of the vision tower's square input (27 for SigLIP-so400m at 384 px)."""
    return config.vision_config.image_size // config.vision_config.patch_size


def image_token_count(config, pool: int = 2, newline: bool = True) -> int:
    """Tokens one candidate image occupies in the prompt: ceil(g / pool)² (+ 1 newline)."""
    side = math.ceil(patch_grid(config) / pool)
    return side * side + (1 if newline else 0)


class ImagePreprocessor:
    """PIL RGB image → (3, S, S) float tensor: bicubic resize to the tower's input, normalise."""

    def __init__(self, size: int, mean=DEFAULT_MEAN, std=DEFAULT_STD):
        self.size = int(size)
        self.mean = np.asarray(mean, dtype=np.float32)[:, None, None]
        self.std = np.asarray(std, dtype=np.float32)[:, None, None]

    @classmethod
    def from_model_dir(cls, folder: Path, config) -> "ImagePreprocessor":
        """Mean/std from the base model's ``preprocessor_config.json`` when present."""
        path = Path(folder) / "preprocessor_config.json"
        raw = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        return cls(config.vision_config.image_size, raw.get("image_mean", DEFAULT_MEAN),
                   raw.get("image_std", DEFAULT_STD))

    def __call__(self, images: list) -> torch.Tensor:
        from PIL import Image

        arrays = []
        for img in images:
            img = img.convert("RGB").resize((self.size, self.size), Image.BICUBIC)
            x = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
            arrays.append((x - self.mean) / self.std)
        return torch.from_numpy(np.stack(arrays))


def encode_images(model, pixel_values: torch.Tensor, pool: int = 2, newline: bool = True) -> torch.Tensor:
    """Visual tokens (n_images, image_token_count, hidden) of a LlavaOnevisionForConditionalGeneration
    (the bare model, not a peft wrapper) for preprocessed images (n_images, 3, S, S)."""
    inner = model.model
    config = model.config
    tower = inner.vision_tower
    dtype = next(tower.parameters()).dtype
    out = tower(pixel_values.to(tower.device if hasattr(tower, "device") else pixel_values.device, dtype),
                output_hidden_states=True)
    layer = config.vision_feature_layer
    if isinstance(layer, int):
        feats = out.hidden_states[layer]
    else:
        feats = torch.cat([out.hidden_states[i] for i in layer], dim=-1)
    if config.vision_feature_select_strategy == "default":
        feats = feats[:, 1:]
    feats = inner.multi_modal_projector(feats)
    n, _, dim = feats.shape
    g = patch_grid(config)
    grid = feats.view(n, g, g, dim).permute(0, 3, 1, 2)
    if pool > 1:
        side = math.ceil(g / pool)
        grid = nn.functional.interpolate(grid.float(), size=[side, side], mode="bilinear").to(feats.dtype)
    tokens = grid.permute(0, 2, 3, 1).reshape(n, -1, dim)
    if newline:
        tokens = torch.cat([tokens, inner.image_newline.to(tokens)[None, None, :].expand(n, 1, dim)], dim=1)
    return tokens


def expand_image_tokens(input_ids: list[int], image_token_id: int, per_image: int) -> list[int]:
    """Repeat every image placeholder id ``per_image`` times."""
    out: list[int] = []
    for t in input_ids:
        out.extend([t] * per_image if t == image_token_id else [t])
    return out


def build_inputs_embeds(model, input_ids: torch.Tensor, image_tokens: torch.Tensor, image_token_id: int
                        ) -> torch.Tensor:
    """Text embeddings of ``input_ids`` (1, L) with the image positions replaced, in order, by
    ``image_tokens`` (n_images, T, hidden). Raises ValueError when the counts disagree."""
    embed = model.get_input_embeddings()
    embeds = embed(input_ids.to(embed.weight.device))
    positions = input_ids[0] == image_token_id
    flat = image_tokens.reshape(-1, image_tokens.shape[-1])
    if int(positions.sum()) != flat.shape[0]:
        raise ValueError(f"{int(positions.sum())} image positions in the prompt but {flat.shape[0]} visual tokens")
    embeds = embeds.clone()
    embeds[0, positions.to(embeds.device)] = flat.to(embeds.device, embeds.dtype)
    return embeds
