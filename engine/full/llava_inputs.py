"""Turning the prompt and the candidate images into LLaVA-OneVision input embeddings.

Each candidate image is shown as LLaVA-OneVision's base view only (no any-resolution tiles): it is
resized to the vision tower's square input, encoded, projected, and its patch grid is pooled 2×2
by bilinear interpolation (g×g → ceil(g/2)×ceil(g/2): 27×27 → 14×14 for SigLIP-so400m at 384 px,
as in LLaVA-ReID), then one ``image_newline`` token closes it. So every ``<image>`` placeholder
becomes exactly :func:`image_token_count` tokens (197 for the 7B model). We do this ourselves,
rather than through the processor, because transformers' multi-image path keeps all 729 tokens
per image and only pools video frames.

A questioner converted from the authors' own checkpoint (``engine/full/convert``) was trained on
their arrangement instead, which :func:`encode_images_llava_reid` reproduces: the crop is padded
to a square with the mean colour, the patch grid is average-pooled *before* the projector
(``AdaptiveAvgPool2d``, 27×27 → 14×14), the padding columns/rows are cut back off the pooled grid
(LLaVA-NeXT's ``unpad_image``) and an ``image_newline`` closes every row. The number of tokens
then depends on each crop's aspect ratio. The pack's questioner config says which arrangement
to use (``"layout": "llava-reid"``); docs/llava-reid-checkpoint.md has the details.
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


def pad_to_square(img, colour):
    """The image centred on a square canvas of ``colour`` (LLaVA's ``expand2square``: the offset
    is floor((long - short) / 2))."""
    from PIL import Image

    width, height = img.size
    if width == height:
        return img
    side = max(width, height)
    canvas = Image.new(img.mode, (side, side), tuple(int(c) for c in colour))
    canvas.paste(img, ((side - width) // 2, (side - height) // 2))
    return canvas


def mean_pad_colour(mean) -> tuple[int, ...]:
    """LLaVA's padding colour: ``int(m * 255)`` of the image mean (127, 127, 127 for SigLIP)."""
    return tuple(int(m * 255) for m in mean)


class ImagePreprocessor:
    """PIL RGB image → (3, S, S) float tensor: (optionally pad to a square of ``pad_colour``),
    bicubic resize to the tower's input, normalise."""

    def __init__(self, size: int, mean=DEFAULT_MEAN, std=DEFAULT_STD, pad_colour=None):
        self.size = int(size)
        self.mean = np.asarray(mean, dtype=np.float32)[:, None, None]
        self.std = np.asarray(std, dtype=np.float32)[:, None, None]
        self.pad_colour = tuple(pad_colour) if pad_colour is not None else None

    @classmethod
    def from_model_dir(cls, folder: Path, config, pad_colour=None) -> "ImagePreprocessor":
        """Mean/std from the base model's ``preprocessor_config.json`` when present. ``pad_colour``
        ``"mean"`` pads to a square of the mean colour; a list gives the colour."""
        path = Path(folder) / "preprocessor_config.json"
        raw = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        mean = raw.get("image_mean", DEFAULT_MEAN)
        if pad_colour == "mean":
            pad_colour = mean_pad_colour(mean)
        return cls(config.vision_config.image_size, mean, raw.get("image_std", DEFAULT_STD), pad_colour)

    def __call__(self, images: list) -> torch.Tensor:
        from PIL import Image

        arrays = []
        for img in images:
            img = img.convert("RGB")
            if self.pad_colour is not None:
                img = pad_to_square(img, self.pad_colour)
            img = img.resize((self.size, self.size), Image.BICUBIC)
            x = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
            arrays.append((x - self.mean) / self.std)
        return torch.from_numpy(np.stack(arrays))


def vision_features(model, pixel_values: torch.Tensor) -> torch.Tensor:
    """The vision tower's selected hidden states (n, g*g, vision_hidden) before the projector."""
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
    return feats


def encode_images(model, pixel_values: torch.Tensor, pool: int = 2, newline: bool = True) -> torch.Tensor:
    """Visual tokens (n_images, image_token_count, hidden) of a LlavaOnevisionForConditionalGeneration
    (the bare model, not a peft wrapper) for preprocessed images (n_images, 3, S, S)."""
    inner = model.model
    config = model.config
    feats = inner.multi_modal_projector(vision_features(model, pixel_values))
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


def unpad_grid(grid: torch.Tensor, original_size: tuple[int, int]) -> torch.Tensor:
    """Cut a (C, H, W) feature grid of a padded-to-square image back to the original image's
    aspect ratio (LLaVA-NeXT's ``unpad_image``, same integer arithmetic). ``original_size`` is
    PIL's (width, height)."""
    width, height = original_size
    cur_h, cur_w = grid.shape[1:]
    if width / height > cur_w / cur_h:  # padding was added above and below
        new_h = int(height * (cur_w / width))
        pad = (cur_h - new_h) // 2
        return grid[:, pad:cur_h - pad, :]
    new_w = int(width * (cur_h / height))
    pad = (cur_w - new_w) // 2
    return grid[:, :, pad:cur_w - pad]


def encode_images_llava_reid(model, pixel_values: torch.Tensor, sizes: list[tuple[int, int]],
                             pool_ratio: float = 2.0, unpad: bool = True) -> list[torch.Tensor]:
    """Visual tokens of each image as the authors' LLaVA-ReID arranges them (see the module
    docstring): tower → adaptive average pool to ceil(g / pool_ratio)² → projector → unpad to
    the image's aspect ratio → ``image_newline`` after every row. ``sizes`` are the original
    (width, height) of the images before padding. Returns one (tokens_i, hidden) per image."""
    inner = model.model
    feats = vision_features(model, pixel_values)
    n, _, dim = feats.shape
    g = patch_grid(model.config)
    side = math.ceil(g / float(pool_ratio))
    grid = feats.view(n, g, g, dim).permute(0, 3, 1, 2)
    pooled = nn.functional.adaptive_avg_pool2d(grid, (side, side))
    tokens = inner.multi_modal_projector(pooled.flatten(2).transpose(1, 2))  # (n, side*side, hidden)
    out = []
    hidden = tokens.shape[-1]
    for i in range(n):
        fmap = tokens[i].view(side, side, hidden).permute(2, 0, 1)
        if unpad:
            fmap = unpad_grid(fmap, sizes[i])
        newline = inner.image_newline.to(fmap)[:, None, None].expand(hidden, fmap.shape[1], 1)
        out.append(torch.cat([fmap, newline], dim=-1).flatten(1, 2).transpose(0, 1))
    return out


def expand_image_tokens(input_ids: list[int], image_token_id: int, per_image) -> list[int]:
    """Repeat every image placeholder id ``per_image`` times (an int, or one count per image in
    prompt order)."""
    counts = iter(per_image) if isinstance(per_image, (list, tuple)) else None
    out: list[int] = []
    for t in input_ids:
        if t == image_token_id:
            out.extend([t] * (next(counts) if counts is not None else per_image))
        else:
            out.append(t)
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
