"""Random-weight selector and questioner component folders, for test packs (``pack build
--random-selector --random-questioner``). Their suggestions are meaningless; the pack's manifest
says ``weights: random``."""

from __future__ import annotations

from pathlib import Path


def random_selector_folder(folder: Path, embed_dim: int = 512, seed: int = 0) -> Path:
    """Write an untrained selector (``selector.safetensors`` + ``selector.json``) into ``folder``."""
    from .selector import random_selector, save_selector

    save_selector(random_selector({"embed_dim": embed_dim, "d_model": embed_dim}, seed=seed), folder)
    return Path(folder)


def random_questioner_folder(folder: Path, seed: int = 0) -> Path:
    """Write a tiny random LLaVA-OneVision (``base/``) and a random LoRA adapter (``adapter/``)."""
    from .questioner_build import build_lora_adapter, build_tiny_base

    folder = Path(folder)
    build_tiny_base(folder / "base", seed=seed)
    build_lora_adapter(folder / "base", folder / "adapter", r=8, lora_alpha=16, seed=seed)
    return folder
