"""The retriever's CLIP in PyTorch for training: built from a model config, optionally loaded from
a checkpoint, and its features for a dataset's images and for texts."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .data import Dataset


def load_clip(config: str, checkpoint: str | None = None, seed: int = 0):
    """(open_clip CLIP, model config). ``checkpoint``: an IRRA checkpoint (``base_model.`` names,
    what ``train retriever`` writes) or a CLIP state dict; the kind is told from the names."""
    from ..full.clip_model import build_model, load_config, load_weights, read_checkpoint

    cfg = load_config(config)
    model = build_model(cfg, seed=seed)
    if checkpoint:
        sd = read_checkpoint(Path(checkpoint))
        kind = "irra" if any(k.startswith(("base_model.", "module.base_model.")) for k in sd) else "clip"
        load_weights(model, sd, kind=kind, source=f"checkpoint {Path(checkpoint).name}")
    return model, cfg


def image_batch(dataset: Dataset, rows: Sequence[int], preprocess: dict) -> np.ndarray:
    """Preprocessed pixels (n, 3, H, W) of ``rows`` (the app's preprocessing)."""
    from ..full.preprocess import preprocess_batch

    return preprocess_batch([dataset.load_image(int(i)) for i in rows], preprocess)


def image_features(model, dataset: Dataset, preprocess: dict, batch_size: int = 64,
                   progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """(N, D) L2-normalised image features of every image of ``dataset``."""
    from ..full.clip_model import encode_images

    was_training = model.training
    model.eval()
    out = []
    n = len(dataset)
    for start in range(0, n, batch_size):
        rows = range(start, min(n, start + batch_size))
        out.append(encode_images(model, image_batch(dataset, rows, preprocess), batch_size))
        if progress:
            progress(rows[-1] + 1, n)
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, int(model.text_projection.shape[1])), np.float32)


def text_features(model, tokenizer, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """(N, D) L2-normalised text features (192-token rule, pooled at end-of-text)."""
    import torch

    from .irra import encode_text_trimmed

    was_training = model.training
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            tokens = torch.from_numpy(tokenizer(list(texts[start:start + batch_size])))
            out.append(torch.nn.functional.normalize(encode_text_trimmed(model, tokens)[0], dim=-1).numpy())
    model.train(was_training)
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)
