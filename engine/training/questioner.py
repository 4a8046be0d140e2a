"""``train questioner``: QLoRA supervised fine-tuning of LLaVA-OneVision on the prepared file
(paper §4.2.2 Eq. 10, §5.1; docs/training.md "Questioner").

One example per prepared round: the candidates the retriever showed before the round (rank 1 +
the next c - 1), the initial description and the dialogue so far, and one of paper Table 9's
three instructions; the target is the looking-forward question followed by the end-of-turn
marker. The prompt is built by the app's own code (``engine.full.prompt.render_prompt``) and the
images go through the app's own path (``engine.full.llava_inputs``: 2x2-pooled visual tokens),
through :class:`engine.full.questioner.LlavaQuestioner`, so training and inference see the same
inputs. On CUDA the base loads in 4-bit NF4 with double quantisation (bitsandbytes); LoRA sits on
the language model's linear layers. The loss is the NLL of the target tokens only.

Writes ``adapter/`` (peft format; the questioner component's ``adapter`` folder of a model pack).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import yaml

from ..errors import UserError
from ..interview.protocols import Turn
from ..interview.query import build_query
from .prepare import read_prepared
from .run import (CHECKPOINT, RunDir, check_memory, ends_means, pick_device, save_checkpoint,
                  seed_everything)

ADAPTER_DIR = "adapter"


def image_root(cfg: dict) -> Path:
    """``data.images``, else the image root of the ``train prepare`` run that wrote the file."""
    data = cfg["data"]
    if data.get("images"):
        return Path(data["images"])
    prepared = Path(data["prepared"])
    saved = prepared.parent / "config.yaml"
    if saved.exists():
        pcfg = (yaml.safe_load(saved.read_text(encoding="utf-8")) or {}).get("data", {})
        if pcfg.get("images"):
            return Path(pcfg["images"])
        if pcfg.get("annotations"):
            return Path(pcfg["annotations"]).parent
    raise UserError("Set data.images to the image root the prepared file's candidate paths start in.")


def examples(rows: list[dict], candidates: int, instruction, seed: int) -> list[dict]:
    """One SFT example per prepared round: {initial, dialogue, images, target, instruction, query,
    round, id}; ``query`` is the retrieval query before the round (what joint training ranks with),
    ``round`` its number t = 1, 2, ... and ``id`` the sample's person."""
    out = []
    for row in rows:
        turns: list[Turn] = []
        for t, rd in enumerate(row["rounds"], start=1):
            out.append({"initial": row["initial"], "dialogue": list(turns), "images": rd["candidates"][:candidates],
                        "target": rd["question"], "query": build_query(row["initial"], turns), "round": t,
                        "id": row.get("id")})
            turns.append(Turn(rd["question"], rd["answer"]))
    rng = np.random.default_rng([seed, 7])
    for ex in out:
        ex["instruction"] = int(rng.integers(3)) if instruction in (None, "random") else int(instruction)
    return out


def estimate_memory(base_dir: Path, quantize: str, lora_r: int, seq_len: int, checkpointing: bool) -> tuple[float, int]:
    """(bytes, parameters): weights (0.5 byte/param in 4-bit, 2 in bf16, 4 in fp32) + LoRA params x 16
    + activations (~20 values per token, hidden unit and layer; ~4 with gradient checkpointing)."""
    import torch
    from transformers import AutoConfig, LlavaOnevisionForConditionalGeneration

    config = AutoConfig.from_pretrained(str(base_dir), local_files_only=True)
    with torch.device("meta"):
        model = LlavaOnevisionForConditionalGeneration(config)
    params = sum(p.numel() for p in model.parameters())
    text = config.text_config
    hidden, layers = int(text.hidden_size), int(text.num_hidden_layers)
    per = {"4bit": 0.5, "bf16": 2.0, "none": 4.0}[quantize]
    lora = layers * 7 * 2 * lora_r * hidden  # q,k,v,o,gate,up,down: A and B, roughly hidden-sized
    act = seq_len * hidden * layers * (4 if checkpointing else 20) * (2 if quantize != "none" else 4)
    return params * per + lora * 16 + act, params


def run_questioner(cfg: dict, out: str | Path, resume: bool = False, progress_factory=None,
                   selector_hook=None, stage: str = "questioner") -> dict:
    """Fine-tune; returns {"loss_first", "loss_last", "adapter", ...}.

    ``model.adapter`` (optional) is a peft adapter folder to continue from (its LoRA settings are
    used, not ``lora``). ``train.epochs`` may be fractional (the paper's joint stage runs 0.5).

    ``selector_hook`` (joint training, :class:`engine.training.joint.JointSelector`) chooses each
    example's candidates: ``hook.prepare(examples, run)`` once, ``hook.begin_step(step, total)``
    before each optimiser step, ``hook.choose(example) -> (image paths, weights)`` per example;
    the weights (the selector's straight-through k-hot) multiply the candidates' visual tokens.
    Its ``parameters()`` join the optimiser (lr ``train.selector_lr``, default ``train.lr``), its
    ``state_dict()`` the checkpoint, ``log_row()`` the log, ``save(folder)`` writes it out and
    ``summary(run, log)`` adds to the result.
    """
    import torch
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict
    from transformers import get_cosine_schedule_with_warmup

    from ..full.llava_inputs import build_inputs_embeds, encode_images
    from ..full.prompt import render_prompt
    from ..full.questioner import LlavaQuestioner
    from ..full.questioner_build import questioner_defaults

    data, tr, mcfg, lcfg = cfg["data"], cfg["train"], cfg["model"], cfg["lora"]
    if not mcfg.get("base") or not (Path(mcfg["base"]) / "config.json").exists():
        raise UserError("Set model.base to a local HF-format LLaVA-OneVision folder (with config.json).")
    if not data.get("prepared"):
        raise UserError("Set data.prepared to the prepared.jsonl of 'interreid train prepare'.")
    rows = read_prepared(data["prepared"])
    root = image_root(cfg)
    exs = examples(rows, int(cfg["candidates"]), cfg.get("instruction"), int(tr["seed"]))
    if data.get("limit"):
        exs = exs[:int(data["limit"])]
    if not exs:
        raise UserError(f"The prepared file {data['prepared']} holds no rounds to train on.")
    device = pick_device(tr.get("device"))
    quantize = mcfg.get("quantize", "auto")
    if quantize == "auto":
        quantize = "4bit" if device.startswith("cuda") else "none"
    needed, n_params = estimate_memory(Path(mcfg["base"]), quantize if quantize != "none" or device == "cpu"
                                       else "bf16", int(lcfg["r"]), int(tr.get("seq_len_estimate", 1200)),
                                       bool(tr.get("gradient_checkpointing")))
    memory = check_memory(needed, device, f"QLoRA on the {n_params / 1e9:.2f}B-parameter questioner "
                          f"({quantize} weights, LoRA r={lcfg['r']})",
                          "use a GPU with more memory, model.quantize=4bit, train.gradient_checkpointing=true, "
                          "or a smaller lora.r.")
    run = RunDir(out, cfg, resume=resume, stage=stage)
    seed_everything(int(tr["seed"]))
    if selector_hook is not None:
        selector_hook.prepare(exs, run, device)

    q = LlavaQuestioner(Path(mcfg["base"]), None, settings={"quantize": quantize}, device=device)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "runs on the CPU": expected when training tiny models
        q.load()
    base = q.base_model
    if quantize == "4bit":
        from peft import prepare_model_for_kbit_training

        base = prepare_model_for_kbit_training(base, use_gradient_checkpointing=bool(tr.get("gradient_checkpointing")))
    elif tr.get("gradient_checkpointing"):
        base.gradient_checkpointing_enable()
        base.enable_input_require_grads()
    torch.manual_seed(int(tr["seed"]))
    if mcfg.get("adapter"):
        from peft import PeftModel

        adapter = Path(mcfg["adapter"])
        if not (adapter / "adapter_config.json").exists():
            raise UserError(f"model.adapter {adapter} is not a LoRA adapter folder (no adapter_config.json); give the "
                            "adapter/ folder a 'train questioner' run wrote.")
        model = PeftModel.from_pretrained(base, str(adapter), is_trainable=True)
    else:
        target_modules = lcfg.get("target_modules") or questioner_defaults()["lora"]["target_modules"]
        model = get_peft_model(base, LoraConfig(r=int(lcfg["r"]), lora_alpha=int(lcfg["lora_alpha"]),
                                                lora_dropout=float(lcfg["lora_dropout"]),
                                                target_modules=target_modules, bias="none", task_type="CAUSAL_LM"))
    params = [p for p in model.parameters() if p.requires_grad]
    extra = list(selector_hook.parameters()) if selector_hook is not None else []
    selector_lr = float(tr.get("selector_lr") or tr["lr"])
    optimizer = torch.optim.AdamW([{"params": params}] + ([{"params": extra, "lr": selector_lr}] if extra else []),
                                  lr=float(tr["lr"]), weight_decay=float(tr.get("weight_decay", 0.0)))
    accum = int(tr["grad_accum"])
    epochs = float(tr["epochs"])
    per_epoch = math.ceil(len(exs) / accum)
    total_steps = int(tr["max_steps"]) if tr.get("max_steps") else max(1, math.ceil(per_epoch * epochs))
    scheduler = get_cosine_schedule_with_warmup(optimizer, int(math.ceil(float(tr["warmup_ratio"]) * total_steps)),
                                                total_steps)

    state = run.resume_from_checkpoint("step", {
        "adapter": lambda saved: set_peft_model_state_dict(model, saved),
        "selector": selector_hook.load_state_dict if selector_hook is not None else None,
        "optimizer": optimizer.load_state_dict, "scheduler": scheduler.load_state_dict})
    step = state["step"] if state is not None else 0

    pool, newline = int(q.settings["pool"]), bool(q.settings["image_newline"])
    stop_ids = q.tokenizer(q.prompt.chat.get("stop", "<|im_end|>"), add_special_tokens=False)["input_ids"]

    def example_loss(ex: dict) -> torch.Tensor:
        from PIL import Image

        paths, weights = selector_hook.choose(ex) if selector_hook is not None else (ex["images"], None)
        images = []
        for rel in paths:
            try:
                with Image.open(root / rel) as im:
                    images.append(im.convert("RGB"))
            except OSError as exc:
                raise UserError(f"Candidate image {root / rel} cannot be read ({type(exc).__name__}); check "
                                "data.images.") from None
        text = render_prompt(q.prompt, ex["initial"], ex["dialogue"], len(images), ex["instruction"])
        prompt_ids = q.input_ids(text)
        target = torch.tensor([q.tokenizer(ex["target"], add_special_tokens=False)["input_ids"] + stop_ids])
        input_ids = torch.cat([prompt_ids, target], dim=1)
        with torch.no_grad():
            visual = encode_images(q.base_model, q.preprocess(images).to(q.device), pool, newline)
        if weights is not None:
            # the selector's k-hot (1 in the forward pass) scales the projected visual features, so
            # the language-model loss reaches the selector through its straight-through gradient
            visual = visual * weights.to(visual.device)[:, None, None]
        embeds = build_inputs_embeds(q.base_model, input_ids, visual, q.image_token_id)
        # logits of the target positions only (the vocabulary is large): the same NLL as labels
        # masked to -100 over the prompt
        n = target.shape[1]
        logits = model(inputs_embeds=embeds, logits_to_keep=n + 1).logits[0, :-1].float()
        return torch.nn.functional.cross_entropy(logits, target[0].to(logits.device))

    stop_after = tr.get("stop_after")
    started = step
    bar = progress_factory("questioner", total_steps) if progress_factory else None
    model.train()
    while step < total_steps:
        if stop_after is not None and step - started >= int(stop_after):
            break
        epoch, within = divmod(step, per_epoch)
        order = np.random.default_rng([int(tr["seed"]), epoch]).permutation(len(exs))
        chunk = order[within * accum:(within + 1) * accum]
        optimizer.zero_grad(set_to_none=True)
        if selector_hook is not None:
            selector_hook.begin_step(step, total_steps)
        total = 0.0
        for i in chunk:
            loss = example_loss(exs[int(i)]) / len(chunk)
            loss.backward()
            total += float(loss.detach())
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        step += 1
        row = {"step": step, "loss": total, "lr": lr}
        if selector_hook is not None:
            row.update(selector_hook.log_row())
        run.log(row)
        if bar:
            bar.update(step, f"loss {total:.3f}")
        if step % int(tr["checkpoint_every"]) == 0 or step == total_steps or (
                stop_after is not None and step - started >= int(stop_after)):
            save_checkpoint(run.file(CHECKPOINT), {
                "adapter": {k: v.detach().cpu() for k, v in get_peft_model_state_dict(model).items()},
                "selector": selector_hook.state_dict() if selector_hook is not None else None,
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "step": step})
    if bar:
        bar.close()
    model.save_pretrained(str(run.file(ADAPTER_DIR)))
    if selector_hook is not None:
        selector_hook.save(run.path)
    run.plot("step", "questioner SFT: NLL of the looking-forward question" if selector_hook is None else
             "joint: NLL of the looking-forward question, selector temperature and picks")
    log = run.read_log()
    losses = [float(r["loss"]) for r in log]
    first_mean, last_mean = ends_means(losses, 5)
    result = {"examples": len(exs), "steps_done": step, "steps": total_steps, "grad_accum": accum,
              "loss_first": round(losses[0], 5) if losses else None,
              "loss_last": round(losses[-1], 5) if losses else None,
              "loss_first_mean": first_mean, "loss_last_mean": last_mean,
              "adapter": str(run.file(ADAPTER_DIR)), "quantize": quantize, "device": device, "memory": memory,
              "parameters": n_params, "trainable_parameters": sum(p.numel() for p in params) +
              sum(p.numel() for p in extra)}
    if selector_hook is not None:
        result.update(selector_hook.summary(run, log))
    run.write_json("result.json", result)
    return result
