"""Tiny random-weight LLaVA-OneVision questioner components for tests (built once per session).

``tiny_llava_base`` is the HF-format base folder (SigLIP tiny + Qwen2 tiny + the real Qwen2
tokenizer with ``<image>``); ``random_adapter`` a random, non-identity LoRA adapter;
``trained_adapter`` a LoRA adapter trained for a few steps to say :data:`TRAINED_QUESTION`, so
that generation gives a real question rather than noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from interreid.engine.interview.protocols import Turn

TRAINED_QUESTION = "What colour are the shoes?"
COLOURS = ["red", "blue", "green", "white", "black", "yellow"]


def person_image(colour: str) -> Image.Image:
    """A 64×128 crop-like image: a coloured torso on grey."""
    img = Image.new("RGB", (64, 128), "grey")
    img.paste(Image.new("RGB", (40, 50), colour), (12, 20))
    return img


def train_adapter_to_say(base_dir: Path, out_dir: Path, question: str, steps: int = 30, seed: int = 0) -> Path:
    """Fit a small LoRA adapter so that the model answers with ``question`` whatever it is shown,
    in rounds 1-3 (so that it repeats itself later, which the questioner must refuse)."""
    import torch
    from peft import LoraConfig, get_peft_model

    from interreid.engine.full.llava_inputs import build_inputs_embeds, encode_images
    from interreid.engine.full.questioner import LlavaQuestioner
    from interreid.engine.full.questioner_build import questioner_defaults

    q = LlavaQuestioner(base_dir, settings={"quantize": "none"}, device="cpu")
    with pytest.warns(RuntimeWarning):
        q.load()
    model = q.base_model
    torch.manual_seed(seed)
    cfg = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=questioner_defaults()["lora"]["target_modules"])
    peft_model = get_peft_model(model, cfg)
    images = [person_image(c) for c in COLOURS[:4]]
    dialogues = [[], [Turn(question, "Black.")], [Turn(question, "Black."), Turn("What colour were his trousers?", "No.")]]
    target = q.tokenizer(question + "<|im_end|>", add_special_tokens=False, return_tensors="pt")["input_ids"]
    inputs = [torch.cat([q.input_ids(q.prompt_text("a man in a red jacket", d, 4)), target], dim=1) for d in dialogues]
    # the fixed images, then random noise images: the adapter learns to ignore what it is shown
    rng = np.random.default_rng(seed)
    image_sets = [images] + [[Image.fromarray(rng.integers(0, 256, (56, 28, 3), dtype=np.uint8)) for _ in range(4)]
                             for _ in range(5)]
    with torch.no_grad():
        visuals = [encode_images(model, q.preprocess(imgs), 2, True) for imgs in image_sets]
    opt = torch.optim.Adam([p for p in peft_model.parameters() if p.requires_grad], lr=1e-2)
    peft_model.train()
    for step in range(steps):
        visual = visuals[(step // len(inputs)) % len(visuals)]
        embeds = build_inputs_embeds(model, inputs[step % len(inputs)], visual, q.image_token_id)
        # logits only where the question is predicted (the 151k-word vocabulary makes the rest costly)
        logits = peft_model(inputs_embeds=embeds, logits_to_keep=target.shape[1] + 1).logits[0, :-1]
        loss = torch.nn.functional.cross_entropy(logits, target[0])
        opt.zero_grad()
        loss.backward()
        opt.step()
    peft_model.save_pretrained(str(out_dir))
    return Path(out_dir)


@pytest.fixture(scope="session")
def tiny_llava_base(tmp_path_factory) -> Path:
    from interreid.engine.full.questioner_build import build_tiny_base

    return build_tiny_base(tmp_path_factory.mktemp("llava") / "base")


@pytest.fixture(scope="session")
def random_adapter(tiny_llava_base, tmp_path_factory) -> Path:
    from interreid.engine.full.questioner_build import build_lora_adapter

    return build_lora_adapter(tiny_llava_base, tmp_path_factory.mktemp("llava-adapter") / "adapter", r=8,
                              lora_alpha=16)


@pytest.fixture(scope="session")
def trained_adapter(tiny_llava_base, tmp_path_factory) -> Path:
    return train_adapter_to_say(tiny_llava_base, tmp_path_factory.mktemp("llava-trained") / "adapter",
                                TRAINED_QUESTION)
