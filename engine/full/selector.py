"""The learned candidate selector of LLaVA-ReID (paper §4.2.1; docs/training.md "Selector").

A 5-layer transformer encoder (8 heads, d = 512, feed-forward 2048, GELU, no positional
embedding) reads the query's text embedding and the image embeddings of ranks 2..k, each scaled
by sqrt(d) and given a learned modality embedding (text 0, image 1). A bias-free linear layer
scores each image; padded images score -1e4; a log-softmax gives the selection weights.
At inference the top c - 1 = 3 images join rank 1: c = 4 candidates in rank order. Training uses
:func:`gumbel_topk_st`, a straight-through Gumbel top-k sampler.

Weights: ``selector.safetensors`` + ``selector.json`` (the architecture, see
``resources/models/selector.json``) in the model pack's ``selector`` component.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import ModelPackError, UserError
from ..interview.protocols import rows_in_rank_order
from ..paths import resources_dir
from .components import MissingComponentError, component_dir

CONFIG_FILE = "selector.json"
WEIGHTS_FILE = "selector.safetensors"


def default_config() -> dict:
    """The paper's architecture (``resources/models/selector.json``)."""
    return json.loads((resources_dir() / "models" / CONFIG_FILE).read_text(encoding="utf-8"))


class SelectorNet(nn.Module):
    """Scores ranks 2..k given the query. Shapes: text (B, D), images (B, K, D), mask (B, K) bool
    (True = a real image). Returns log-probabilities (B, K); padded positions get ~-1e4 logits."""

    def __init__(self, config: dict | None = None):
        super().__init__()
        cfg = {**default_config(), **(config or {})}
        self.config = cfg
        d = int(cfg["d_model"])
        if int(cfg["embed_dim"]) != d:
            raise ValueError(f"selector embed_dim {cfg['embed_dim']} must equal d_model {d}")
        self.scale = math.sqrt(d) if cfg.get("input_scale", "sqrt_d_model") == "sqrt_d_model" else float(
            cfg["input_scale"])
        self.normalize_inputs = bool(cfg.get("normalize_inputs", True))
        self.masked_score = float(cfg.get("masked_score", -1e4))
        self.modality = nn.Embedding(2, d)  # 0 = text, 1 = image
        layer = nn.TransformerEncoderLayer(d, int(cfg["heads"]), int(cfg["ffn"]), float(cfg.get("dropout", 0.1)),
                                           activation=cfg.get("activation", "gelu"), batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, int(cfg["layers"]), enable_nested_tensor=False)
        self.head = nn.Linear(d, 1, bias=False)

    def scores(self, text: torch.Tensor, images: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Raw per-image scores (B, K), padded positions set to ``masked_score``."""
        if mask is None:
            mask = torch.ones(images.shape[:2], dtype=torch.bool, device=images.device)
        if self.normalize_inputs:
            text = nn.functional.normalize(text, dim=-1)
            images = nn.functional.normalize(images, dim=-1)
        tokens = torch.cat([text[:, None, :], images], dim=1) * self.scale
        kinds = torch.ones(tokens.shape[:2], dtype=torch.long, device=tokens.device)
        kinds[:, 0] = 0
        tokens = tokens + self.modality(kinds)
        padding = torch.cat([torch.zeros_like(mask[:, :1]), ~mask], dim=1)  # True = ignore
        hidden = self.encoder(tokens, src_key_padding_mask=padding)
        s = self.head(hidden[:, 1:]).squeeze(-1)
        return s.masked_fill(~mask, self.masked_score)

    def forward(self, text: torch.Tensor, images: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return torch.log_softmax(self.scores(text, images, mask), dim=-1)


def gumbel_topk_st(log_weights: torch.Tensor, k: int, tau: float = 1.0, mask: torch.Tensor | None = None,
                   generator: torch.Generator | None = None, eps: float = 1e-10) -> torch.Tensor:
    """A differentiable k-hot sample without replacement (Gumbel top-k, Xie & Ermon 2019).

    ``log_weights`` (B, K) are perturbed with Gumbel(0, 1) noise; k successive softmaxes at
    temperature ``tau`` each soft-mask what was chosen (adding log(1 - p)). The forward value is
    the hard k-hot of the perturbed top-k; the gradient is that of the soft k-hot
    (straight-through). ``mask`` (B, K) bool excludes padded positions. Returns (B, K).
    """
    u = torch.rand(log_weights.shape, generator=generator, device=log_weights.device, dtype=log_weights.dtype)
    gumbel = -torch.log((-torch.log(u.clamp_min(eps))).clamp_min(eps))
    logits = log_weights + gumbel
    if mask is not None:
        logits = logits.masked_fill(~mask, -1e4)
    soft = torch.zeros_like(logits)
    current = logits
    for _ in range(k):
        p = torch.softmax(current / tau, dim=-1)
        soft = soft + p
        current = current + torch.log((1.0 - p).clamp_min(eps))
    hard = torch.zeros_like(logits).scatter(-1, logits.topk(k, dim=-1).indices, 1.0)
    return hard - soft.detach() + soft


class LearnedSelector:
    """The paper's selector behind the engine's Selector interface (needs the query's embedding)."""

    name = "learned"

    def __init__(self, net: SelectorNet, device: str | None = None):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.net = net.to(self.device).eval()

    @torch.no_grad()
    def weights(self, topk: np.ndarray, vectors: np.ndarray, query_vector: np.ndarray) -> np.ndarray:
        """Selection log-weights (k - 1,) of ranks 2..k of ``topk`` for the query embedding."""
        pool = np.asarray(topk[1:], dtype=np.int64)
        images = torch.as_tensor(np.asarray(vectors[pool], dtype=np.float32), device=self.device)[None]
        text = torch.as_tensor(np.asarray(query_vector, dtype=np.float32).reshape(1, -1), device=self.device)
        return self.net(text, images)[0].float().cpu().numpy()

    def select(self, topk: np.ndarray, vectors: np.ndarray, c: int = 4,
               query_vector: np.ndarray | None = None) -> list[int]:
        """Rank 1 + the c - 1 highest-weighted rows of ranks 2..k, in rank order.

        Raises UserError without ``query_vector`` (the lite engine has no CLIP text embedding).
        """
        if query_vector is None:
            raise UserError("The 'learned' selector needs the CLIP text embedding of the query, which only the "
                            "full engine provides; choose top, uniform or kmeans for this gallery.")
        if len(topk) <= c:
            return [int(r) for r in topk]
        dim = int(self.net.config["embed_dim"])
        if vectors.shape[1] != dim or np.asarray(query_vector).size != dim:
            raise ModelPackError(f"The selector expects {dim}-d embeddings but the gallery has {vectors.shape[1]}-d "
                                 "vectors; use a model pack made for this gallery's embedder.")
        w = self.weights(topk, vectors, query_vector)
        picks = np.argsort(-w, kind="stable")[:c - 1] + 1  # positions in topk
        return rows_in_rank_order([int(topk[0])] + [int(topk[p]) for p in picks], topk)


def save_selector(net: SelectorNet, folder: Path) -> dict[str, Path]:
    """Write ``selector.safetensors`` + ``selector.json`` into ``folder``; returns {name: path}."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_FILE))
    (folder / CONFIG_FILE).write_text(json.dumps(net.config, indent=2) + "\n", encoding="utf-8")
    return {WEIGHTS_FILE: folder / WEIGHTS_FILE, CONFIG_FILE: folder / CONFIG_FILE}


def random_selector(config: dict | None = None, seed: int = 0) -> SelectorNet:
    """An untrained selector (for tests and random-weight packs)."""
    torch.manual_seed(seed)
    return SelectorNet(config)


def load_selector_net(folder: Path) -> SelectorNet:
    """Read a selector saved by :func:`save_selector`. Raises ModelPackError on missing/bad files."""
    from safetensors.torch import load_file

    folder = Path(folder)
    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        state = load_file(str(folder / WEIGHTS_FILE))
        net = SelectorNet(config)
        net.load_state_dict(state)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelPackError(f"The selector in {folder} cannot be loaded ({exc}); reinstall the model pack.") from exc
    return net


def load_selector(pack_dir: Path, device: str | None = None) -> LearnedSelector:
    """The learned selector from a model pack's ``selector`` component (CUDA when present)."""
    try:
        folder = component_dir(Path(pack_dir), "selector")
    except MissingComponentError as exc:
        raise MissingComponentError(f"The model pack {pack_dir} has no selector component; choose the top, uniform or "
                             "kmeans selector.") from exc
    return LearnedSelector(load_selector_net(folder), device)
