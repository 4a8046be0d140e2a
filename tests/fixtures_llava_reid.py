"""A tiny random checkpoint in the *authors'* LLaVA-ReID layout, and their forward pass written
independently of the converter, for the conversion tests.

Layout, as their code defines it (LLaVA-ReID repository; docs/llava-reid-checkpoint.md):

    authors/retrieval_model_mix_IRRA/checkpoint.pth   IRRA state dict (base_model.* = CLIP)
    authors/selector_model/selector.pth               model/selector.py Selector state dict
    authors/questioner/adapter_config.json            peft LoRA on LlavaQwenForCausalLM
    authors/questioner/adapter_model.safetensors      (+ the model.mm_projector copy, modules_to_save)
    authors/questioner/config.json                    what their trainer also saves there
    lmms-base/config.json + model.safetensors         llava_qwen: model.layers.*, model.mm_projector.0/2,
                                                      model.image_newline, model.vision_tower.vision_tower
                                                      .vision_model.* (SigLIP minus its last layer), lm_head
    lmms-base/tokenizer files                         Qwen2, without <image>
    siglip/config.json + model.safetensors            a SiglipModel (vision_model.*, text_model.*)
    merged/...                                        what their merge_lora_weights.py writes

Their modules are built from transformers' Qwen2 and SigLIP classes (their LlavaQwenForCausalLM is a
Qwen2ForCausalLM and their tower a SigLIP vision transformer) plus their own pieces written here from
their definitions: the selector, AdaptiveSpatialPool, unpad_image, expand2square, the prompt.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

IMAGE_TOKEN_INDEX = -200  # their constants.IMAGE_TOKEN_INDEX
TRAINED_QUESTION = "What colour are the shoes?"
VISION = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3, "num_attention_heads": 2,
          "image_size": 28, "patch_size": 4}
TEXT = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "max_position_embeddings": 4096, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
        "initializer_range": 0.2}
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SYSTEM_MESSAGE_REID = ("<|im_start|>system\nYou are an advanced question generator designed to assist in identifying a "
                       "specific individual from a collection of candidates.")
PROMPT_V3_0 = ("<|candidate_images|>\n<|context|>\n"
               "Based on these information:\n"
               "[Candidate Person] The closest match to the provided description and answers.\n"
               "[Similar Persons] Individuals who also match but are less similar.\n"
               "[Conversation] The initial description from the witness and the ongoing dialogue.\n"
               "generate a question that could help differentiate the candidate from the similar individuals.\n"
               "Avoid repeating questions that already answered with \"I don't know.\"")


# -- their pieces, written from their definitions -----------------------------------------------

class TheirSelector(nn.Module):
    """model/selector.py Selector (eval forward), returning the log-probabilities as well."""

    def __init__(self, n_layers=5, n_heads=8, d_model=512, num_candidates=3, mlp_ratio=4.0):
        super().__init__()
        self.d_model, self.num_candidates = d_model, num_candidates
        self.modality_embed = nn.Embedding(2, d_model)
        layer = nn.TransformerEncoderLayer(d_model=d_model, nhead=n_heads, dim_feedforward=int(d_model * mlp_ratio),
                                           activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, num_layers=n_layers)
        self.selector = nn.Linear(d_model, 1, bias=False)

    def forward(self, text, image, padding_mask):
        B, L, D = image.shape
        text, image = text * math.sqrt(self.d_model), image * math.sqrt(self.d_model)
        text = text + self.modality_embed(torch.zeros(text.size(0), dtype=torch.long))
        image = image + self.modality_embed(torch.ones(image.size(0), dtype=torch.long)).unsqueeze(1)
        x = torch.cat([text.unsqueeze(1), image], dim=1).permute(1, 0, 2)
        src_key_padding_mask = torch.cat([torch.zeros([B, 1], dtype=torch.bool), torch.logical_not(padding_mask)], 1)
        x = self.encoder(x, src_key_padding_mask=src_key_padding_mask)
        x = x[1:].permute(1, 0, 2)[padding_mask, :].reshape(-1, D)
        x = self.selector(x)
        logits = torch.full([B, L], fill_value=-10000, dtype=x.dtype)
        logits[padding_mask] = x.squeeze()
        logits = torch.log_softmax(logits, dim=1)
        top = torch.topk(logits, self.num_candidates, dim=1, sorted=True).indices
        return logits, torch.zeros_like(logits, dtype=torch.bool).scatter_(1, top, True)


def expand2square(pil_img, background_color):
    from PIL import Image

    width, height = pil_img.size
    if width == height:
        return pil_img
    if width > height:
        result = Image.new(pil_img.mode, (width, width), background_color)
        result.paste(pil_img, (0, (width - height) // 2))
        return result
    result = Image.new(pil_img.mode, (height, height), background_color)
    result.paste(pil_img, ((height - width) // 2, 0))
    return result


def unpad_image(tensor, original_size):
    original_width, original_height = original_size
    current_height, current_width = tensor.shape[1:]
    if original_width / original_height > current_width / current_height:
        new_height = int(original_height * (current_width / original_width))
        padding = (current_height - new_height) // 2
        return tensor[:, padding: current_height - padding, :]
    new_width = int(original_width * (current_height / original_height))
    padding = (current_width - new_width) // 2
    return tensor[:, :, padding: current_width - padding]


def their_pixels(images) -> torch.Tensor:
    """process_images with image_aspect_ratio 'pad' and SigLipImageProcessor (bicubic, /255, 0.5/0.5)."""
    from PIL import Image

    out = []
    for img in images:
        img = expand2square(img.convert("RGB"), tuple(int(x * 255) for x in (0.5, 0.5, 0.5)))
        x = np.asarray(img.resize((VISION["image_size"],) * 2, Image.BICUBIC), dtype=np.float32) / 255.0
        out.append(((x - 0.5) / 0.5).transpose(2, 0, 1))
    return torch.from_numpy(np.stack(out))


def their_prompt(initial: str, questions: list[str], answers: list[str], num_candidates: int) -> str:
    """wrap_question_prompt(prompt_question_generator_v3[0], ...) in the qwen_reid CHATML template."""
    images = "[Candidate Person] <image>\n[Similar Persons] " + "".join(
        f"#{j + 1}: <image>\n" for j in range(num_candidates - 1))
    conversation = f"[Conversation] Witness: {initial}\n" + "".join(
        f"You: {q}\nWitness: {a}\n" for q, a in zip(questions, answers))
    message = PROMPT_V3_0.replace("<|candidate_images|>", images.strip("\n")).replace("<|context|>", conversation)
    return (SYSTEM_MESSAGE_REID + "<|im_end|>\n" + "<|im_start|>user\n" + message + "<|im_end|>\n"
            + "<|im_start|>assistant\n")


@dataclass
class TheirModel:
    """Their questioner's modules holding the checkpoint's weights."""

    lm: nn.Module          # Qwen2ForCausalLM (with the LoRA adapter applied when there is one)
    tower: nn.Module       # the SigLIP vision transformer, all 3 layers (their tower cuts the last)
    projector: nn.Module   # mm_projector: Linear, GELU, Linear
    newline: torch.Tensor  # model.image_newline
    tokenizer: object      # their tokenizer (no <image> token)

    @torch.no_grad()
    def stages(self, images, prompt: str) -> dict:
        """Every intermediate of their forward (training path: prepare_inputs_labels_for_multimodal_
        with_selector_grads, one feature block per image) up to the logits."""
        out = self.embeds(images, prompt)
        out["logits"] = self.lm(inputs_embeds=out["embeds"][None]).logits[0]
        return out

    def embeds(self, images, prompt: str) -> dict:
        """Their input embeddings (and the intermediates), with gradients through the language model."""
        with torch.no_grad():
            visual = self._visual(images)
        return {**visual, **self._splice(visual["per_image"], prompt)}

    def _visual(self, images) -> dict:
        pixels = their_pixels(images)
        feats = self.tower(pixels, output_hidden_states=True).hidden_states[-2]  # = cut tower's [-1]
        B, _, F = feats.shape
        side = VISION["image_size"] // VISION["patch_size"]
        pool = nn.AdaptiveAvgPool2d((math.ceil(side / 2.0),) * 2)
        pooled = pool(feats.view(B, side, side, F).permute(0, 3, 1, 2)).flatten(2).transpose(1, 2).contiguous()
        projected = self.projector(pooled)
        per_image = []
        for i, img in enumerate(images):
            f = projected[i]
            h = w = int(math.sqrt(f.shape[0]))
            f = unpad_image(f.view(h, w, -1).permute(2, 0, 1), img.size)
            f = torch.cat((f, self.newline[:, None, None].expand(*f.shape[:-1], 1)), dim=-1)
            per_image.append(f.flatten(1, 2).transpose(0, 1))
        return {"pixels": pixels, "vision": feats, "per_image": per_image}

    def _splice(self, per_image, prompt: str) -> dict:
        chunks = [self.tokenizer(c).input_ids for c in prompt.split("<image>")]  # tokenizer_image_token
        ids = []
        for i, c in enumerate(chunks):
            ids += c + ([IMAGE_TOKEN_INDEX] if i < len(chunks) - 1 else [])
        ids = torch.tensor(ids)
        embed = self.lm.get_input_embeddings()
        parts, image_idx, start = [], 0, 0
        for pos in torch.where(ids == IMAGE_TOKEN_INDEX)[0].tolist() + [len(ids)]:
            parts.append(embed(ids[start:pos]))
            if pos < len(ids):
                parts.append(per_image[image_idx])
                image_idx += 1
            start = pos + 1
        return {"embeds": torch.cat(parts)}


def train_to_ask(theirs: TheirModel, question: str, steps: int = 30, seed: int = 0) -> None:
    """Fit the LoRA of ``theirs.lm`` (a peft model) so that, in their pipeline, it answers any
    candidates and dialogue with ``question`` (then <|im_end|>), as fixtures_llava does for ours."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    image_sets = [[Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in
                   ((128, 64), (96, 48), (120, 40), (64, 64))] for _ in range(3)]
    prompts = [their_prompt("a man in a red jacket", qs, ans, 4) for qs, ans in
               (([], []), ([question], ["Black."]), ([question, "Is he tall?"], ["Black.", "No."]))]
    target = torch.tensor(theirs.tokenizer(question + "<|im_end|>").input_ids)
    embed = theirs.lm.get_input_embeddings()
    cases = [(theirs.embeds(imgs, prompt)["embeds"], ) for imgs in image_sets for prompt in prompts]
    opt = torch.optim.Adam([p for p in theirs.lm.parameters() if p.requires_grad], lr=1e-2)
    theirs.lm.train()
    for step in range(steps):
        (prefix,) = cases[step % len(cases)]
        x = torch.cat([prefix.detach(), embed(target)])[None]
        logits = theirs.lm(inputs_embeds=x, logits_to_keep=len(target) + 1).logits[0, :-1]
        loss = torch.nn.functional.cross_entropy(logits, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    theirs.lm.eval()


# -- building the checkpoint ------------------------------------------------------------------------

def _save(state: dict, path: Path) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous().clone() for k, v in state.items()}, str(path))


def build_authors_checkpoint(root: Path, seed: int = 0) -> dict:
    """Write the layout above under ``root``; returns paths and their modules for reference runs."""
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoTokenizer,
        Qwen2Config,
        Qwen2ForCausalLM,
        SiglipConfig,
        SiglipModel,
        SiglipVisionConfig,
        SiglipVisionModel,
    )

    from interreid.engine.full.clip_model import build_model
    from interreid.engine.full.questioner_build import qwen_tokenizer_dir

    root = Path(root)
    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(str(qwen_tokenizer_dir()), local_files_only=True)
    rows = -(-(len(tok) + 2) // 64) * 64
    lm = Qwen2ForCausalLM(Qwen2Config(**TEXT, vocab_size=rows, tie_word_embeddings=False)).eval()
    tower = SiglipVisionModel(SiglipVisionConfig(**VISION)).eval()
    projector = nn.Sequential(nn.Linear(VISION["hidden_size"], TEXT["hidden_size"]), nn.GELU(),
                              nn.Linear(TEXT["hidden_size"], TEXT["hidden_size"])).eval()
    newline = torch.randn(TEXT["hidden_size"])

    # lmms-lab base in LLaVA-NeXT names
    base = root / "lmms-base"
    state = {f"model.{k}": v for k, v in lm.model.state_dict().items()}
    state["lm_head.weight"] = lm.lm_head.weight
    state.update({f"model.mm_projector.{k}": v for k, v in projector.state_dict().items()})
    state["model.image_newline"] = newline
    last = VISION["num_hidden_layers"] - 1  # their SigLipVisionTower deletes the last layer and the head
    state.update({f"model.vision_tower.vision_tower.vision_model.{k}": v for k, v in tower.state_dict().items()
                  if not k.startswith(f"encoder.layers.{last}.") and not k.startswith("head.")})
    _save(state, base / "model.safetensors")
    config = {"architectures": ["LlavaQwenForCausalLM"], "model_type": "llava_qwen", **TEXT, "vocab_size": rows,
              "hidden_act": "silu", "tie_word_embeddings": False, "torch_dtype": "float32",
              "mm_projector_type": "mlp2x_gelu", "mm_hidden_size": VISION["hidden_size"], "mm_vision_select_layer": -2,
              "mm_vision_tower": "google/siglip-so400m-patch14-384", "image_aspect_ratio": "pad",
              "mm_patch_merge_type": "spatial_unpad", "mm_spatial_pool_ratio": 2.0, "image_grid_pinpoints": None}
    (base / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    tok.save_pretrained(str(base))

    # the separate SigLIP (different weights: the checkpoint's own tower must win, as in their from_pretrained)
    torch.manual_seed(seed + 1)
    siglip = root / "siglip"
    SiglipModel(SiglipConfig(vision_config=dict(VISION), text_config={
        "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
        "vocab_size": 64, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0})).save_pretrained(str(siglip))
    (siglip / "preprocessor_config.json").write_text(json.dumps(
        {"image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "size": {"height": 28, "width": 28},
         "resample": 3}), encoding="utf-8")

    # their questioner: LoRA (peft) on LlavaQwenForCausalLM, + the mm_projector copy (modules_to_save)
    torch.manual_seed(seed + 2)
    authors = root / "authors"
    qdir = authors / "questioner"
    saved_projector = nn.Sequential(nn.Linear(VISION["hidden_size"], TEXT["hidden_size"]), nn.GELU(),
                                    nn.Linear(TEXT["hidden_size"], TEXT["hidden_size"])).eval()
    peft_lm = get_peft_model(lm, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=LORA_TARGETS,
                                            task_type="CAUSAL_LM"))
    train_to_ask(TheirModel(peft_lm, tower, saved_projector, newline, tok), TRAINED_QUESTION)
    peft_lm.save_pretrained(str(qdir))
    from safetensors.torch import load_file

    adapter = load_file(str(qdir / "adapter_model.safetensors"))
    adapter.update({f"base_model.model.model.mm_projector.{k}": v for k, v in saved_projector.state_dict().items()})
    _save(adapter, qdir / "adapter_model.safetensors")
    adapter_cfg = json.loads((qdir / "adapter_config.json").read_text())
    adapter_cfg["modules_to_save"] = ["model.mm_projector"]
    (qdir / "adapter_config.json").write_text(json.dumps(adapter_cfg, indent=2), encoding="utf-8")
    (qdir / "config.json").write_text(json.dumps({**config, "_name_or_path": "llava-onevision-qwen2-7b-ov"}),
                                      encoding="utf-8")
    peft_lm.eval()

    # selector.pth and the retriever checkpoint
    torch.manual_seed(seed + 3)
    their_selector = TheirSelector(n_layers=2, n_heads=8, d_model=512, num_candidates=3).eval()  # their defaults but 2 layers
    (authors / "selector_model").mkdir(parents=True)
    torch.save(their_selector.state_dict(), authors / "selector_model" / "selector.pth")
    clip = build_model("clip-reid-tiny", seed=seed + 4)
    irra = {f"base_model.{k}": v for k, v in clip.state_dict().items()}
    (authors / "retrieval_model_mix_IRRA").mkdir()
    torch.save(irra, authors / "retrieval_model_mix_IRRA" / "checkpoint.pth")

    # what merge_lora_weights.py writes: the merged model in their names, with their tokenizer
    merged_dir = root / "merged"
    merged_lm = peft_lm.merge_and_unload()
    merged = dict(state)
    merged.update({f"model.{k}": v for k, v in merged_lm.model.state_dict().items()})
    merged["lm_head.weight"] = merged_lm.lm_head.weight
    merged.update({f"model.mm_projector.{k}": v for k, v in saved_projector.state_dict().items()})
    _save(merged, merged_dir / "model.safetensors")
    (merged_dir / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    tok.save_pretrained(str(merged_dir))
    # merge_and_unload removed the LoRA layers from lm; put the adapter back for the reference model
    lm_with_lora = Qwen2ForCausalLM(lm.config).eval()
    lm_with_lora.load_state_dict(merged_lm.state_dict())
    theirs = TheirModel(lm_with_lora, tower, saved_projector, newline, tok)
    return {"root": root, "authors": authors, "base": base, "siglip": siglip, "merged": merged_dir,
            "theirs": theirs, "selector": their_selector, "clip": clip}


@pytest.fixture(scope="session")
def authors_checkpoint(tmp_path_factory) -> dict:
    return build_authors_checkpoint(tmp_path_factory.mktemp("llava-reid-authors"))
