"""``train retriever``: IRRA on the retriever's CLIP (paper §5.1; docs/training.md "Retriever").

Each training image is paired with its record's text (the fine-grained description by default);
a batch's loss is SDM + ID + MLM. Every epoch the test split is evaluated (text queries against
the test images: R@1/5/10, mAP, mINP), the log row written, and a checkpoint saved; ``best.pth``
(highest R@1) and ``last.pth`` hold ``{"model": state_dict}`` with the CLIP under ``base_model.``,
which ``interreid pack build --irra best.pth`` turns into a model pack.
"""

from __future__ import annotations

import math
import time
from pathlib import Path


from ..errors import UserError
from .clip_features import image_batch, load_clip
from .data import Dataset, load_split
from .metrics import chance_r1, retrieval_metrics
from .run import CHECKPOINT, RunDir, check_memory, pick_device, save_checkpoint, seed_everything

BEST, LAST = "best.pth", "last.pth"
_BYTES = {"none": 4, "bf16": 2, "fp16": 2}


def texts_of(dataset: Dataset, field: str) -> list[str]:
    if field in ("fine-grained_description", "fine"):
        return [r.fine_grained_description for r in dataset.records]
    if field in ("initial_description", "initial"):
        return [r.initial_description for r in dataset.records]
    if field == "captions":
        return [" ".join(r.captions) for r in dataset.records]
    if field == "dialogue":  # the interview's retrieval query once every annotated answer is in
        from ..interview.protocols import Turn
        from ..interview.query import build_query

        return [build_query(r.initial_description, [Turn(q, a) for q, a in zip(r.questions, r.answers)])
                for r in dataset.records]
    raise UserError("data.text must be fine-grained_description, initial_description, captions or dialogue "
                    f"(got '{field}').")


def estimate_memory(irra, cfg_model: dict, batch: int, amp: str) -> float:
    """Bytes to train: params x 16 (fp32 weights, grads, two Adam moments) + activations
    (~24 values per token, width and layer, kept for the backward pass)."""
    params = sum(p.numel() for p in irra.parameters())
    v, t = cfg_model["vision_cfg"], cfg_model["text_cfg"]
    h, w = v["image_size"] if isinstance(v["image_size"], list) else (v["image_size"], v["image_size"])
    img_tokens = (h // v["patch_size"]) * (w // v["patch_size"]) + 1
    text_tokens = 96  # typical trimmed description length (of 192)
    act = batch * 24 * (img_tokens * v["width"] * v["layers"] + 2 * text_tokens * t["width"] * t["layers"])
    return params * 16 + act * _BYTES.get(amp, 4)


def evaluate(clip, tokenizer, test: Dataset, texts: list[str], preprocess: dict, batch_size: int,
             device: str) -> dict:
    """R@1/5/10, mAP, mINP of text queries against the test images (``clip`` in eval mode)."""
    import torch

    from .irra import encode_image_tokens, encode_text_trimmed

    gallery, queries = [], []
    with torch.inference_mode():
        for start in range(0, len(test), batch_size):
            px = torch.from_numpy(image_batch(test, range(start, min(len(test), start + batch_size)), preprocess))
            gallery.append(torch.nn.functional.normalize(encode_image_tokens(clip, px.to(device))[0].float(), dim=-1))
        for start in range(0, len(texts), batch_size):
            tokens = torch.from_numpy(tokenizer(texts[start:start + batch_size])).to(device)
            queries.append(torch.nn.functional.normalize(encode_text_trimmed(clip, tokens)[0].float(), dim=-1))
    sim = (torch.cat(queries) @ torch.cat(gallery).T).cpu().numpy()
    return retrieval_metrics(sim, test.ids, test.ids)


def _lr_lambda(epochs: int, warmup: int, factor: float):
    def f(epoch: int) -> float:
        if epoch < warmup:
            alpha = epoch / max(1, warmup)
            return factor * (1 - alpha) + alpha
        span = max(1, epochs - warmup)
        return 0.5 * (1 + math.cos(math.pi * (epoch - warmup) / span))
    return f


def run_retriever(cfg: dict, out: str | Path, resume: bool = False, progress_factory=None) -> dict:
    """Train; returns {"R@1_before", "R@1_after", "best", "checkpoint", ...}."""
    import torch

    from ..full.tokenizer import ClipTokenizer
    from .irra import IrraModel, mask_tokens

    data, tr, mcfg, mlm = cfg["data"], cfg["train"], cfg["model"], cfg["mlm"]
    train_set = load_split(data["annotations"], data.get("images"), data.get("train_split", "train"))
    test_set = load_split(data["annotations"], data.get("images"), data.get("test_split", "test"))
    device = pick_device(tr.get("device"))
    amp = str(tr.get("amp") or "none")
    seed_everything(int(tr["seed"]))

    clip, model_cfg = load_clip(mcfg["config"], mcfg.get("init"), seed=int(mcfg.get("seed", 0)))
    classes = sorted({int(i) for i in train_set.ids})
    class_of = {pid: c for c, pid in enumerate(classes)}
    irra = IrraModel(clip, len(classes), int(model_cfg["text_cfg"]["vocab_size"]), int(mlm["depth"]),
                     float(model_cfg.get("temperature", 0.02)))
    memory = check_memory(estimate_memory(irra, model_cfg, int(tr["batch_size"]), amp), device,
                          f"Training the {model_cfg['name']} retriever at batch {tr['batch_size']}",
                          "lower train.batch_size, set train.amp=bf16 on a GPU, or use a smaller model.config.")
    run = RunDir(out, cfg, resume=resume, stage="retriever")  # after the checks: a refused run leaves no folder
    irra.to(device)
    heads = set(irra.head_parameters())
    groups = []
    for name, p in irra.named_parameters():
        lr = float(tr["lr"]) * (float(tr["head_lr_factor"]) if name in heads else 1.0)
        wd = float(tr["weight_decay"])
        if name.endswith("bias"):
            lr, wd = lr * float(tr["bias_lr_factor"]), 0.0
        groups.append({"params": [p], "lr": lr, "weight_decay": wd})
    optimizer = torch.optim.Adam(groups, lr=float(tr["lr"]), betas=(0.9, 0.999), eps=1e-8)
    epochs = int(tr["epochs"])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(epochs, int(tr["warmup_epochs"]),
                                                                        float(tr["warmup_factor"])))
    gen = torch.Generator().manual_seed(int(tr["seed"]))

    tokenizer = ClipTokenizer(context_length=int(model_cfg["text_cfg"]["context_length"]))
    train_tokens = torch.from_numpy(tokenizer(texts_of(train_set, data["text"])))
    test_texts = texts_of(test_set, data["text"])
    pids = torch.tensor([class_of[int(i)] for i in train_set.ids])
    preprocess = model_cfg["preprocess"]
    n = len(train_set)
    h, w = preprocess["size"]
    pixel_cache = None
    if n * 3 * h * w * 4 <= float(data.get("cache_pixels_mb", 2048)) * 2 ** 20:
        pixel_cache = torch.from_numpy(image_batch(train_set, range(n), preprocess))

    start_epoch, best, before = 0, -1.0, None
    state = run.resume_from_checkpoint("epoch", {"model": irra.load_state_dict, "optimizer": optimizer.load_state_dict,
                                                 "scheduler": scheduler.load_state_dict, "generator": gen.set_state})
    if state is not None:
        start_epoch, best, before = state["epoch"], state["best"], state["before"]

    def eval_now() -> dict:
        irra.eval()
        with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=amp == "bf16"):
            m = evaluate(irra.base_model, tokenizer, test_set, test_texts, preprocess,
                         int(cfg["eval"]["batch_size"]), device)
        return m

    if before is None:
        before = eval_now()
        run.log({"epoch": 0, "loss": "", "sdm": "", "id": "", "mlm": "", "lr": "", **before, "images_per_s": "",
                 "peak_mem_gb": ""})
    stop_after = tr.get("stop_after")
    bs = int(tr["batch_size"])
    steps = math.ceil(n / bs)
    losses = tuple(cfg["losses"])
    for epoch in range(start_epoch, epochs):
        if stop_after is not None and epoch - start_epoch >= int(stop_after):
            break
        irra.train()
        order = torch.randperm(n, generator=gen)
        totals: dict[str, float] = {}
        bar = progress_factory(f"epoch {epoch + 1}/{epochs}", steps) if progress_factory else None
        tick = time.perf_counter()
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        for s in range(steps):
            rows = order[s * bs:(s + 1) * bs]
            pixels = pixel_cache[rows] if pixel_cache is not None else torch.from_numpy(
                image_batch(train_set, rows.tolist(), preprocess))
            tokens = train_tokens[rows]
            masked, labels = mask_tokens(tokens, gen, int(mlm["mask_token_id"]), tokenizer.vocab_size,
                                         float(mlm["prob"]), (tokenizer.sot_id, tokenizer.eot_id))
            with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=amp == "bf16"):
                result = irra(pixels.to(device), tokens.to(device), pids[rows].to(device), masked.to(device),
                              labels.to(device), losses)
            optimizer.zero_grad(set_to_none=True)
            result["loss"].backward()
            optimizer.step()
            for k, v in result.items():
                totals[k] = totals.get(k, 0.0) + float(v.detach()) * len(rows)
            if bar:
                bar.update(s + 1, f"loss {float(result['loss'].detach()):.3f}")
        if bar:
            bar.close()
        elapsed = time.perf_counter() - tick
        lr_now = optimizer.param_groups[0]["lr"]
        scheduler.step()
        metrics = eval_now()
        peak = torch.cuda.max_memory_allocated() / 2 ** 30 if device.startswith("cuda") else ""
        row = {"epoch": epoch + 1, **{k: totals.get(k, 0.0) / n for k in ("loss", "sdm", "id", "mlm")}, "lr": lr_now,
               **metrics, "images_per_s": round(n / elapsed, 2), "peak_mem_gb": peak}
        run.log(row)
        sd = {k: v.detach().cpu() for k, v in irra.state_dict().items()}
        torch.save({"model": sd, "epoch": epoch + 1, "metrics": metrics}, run.file(LAST))
        if metrics["R@1"] > best:
            best = metrics["R@1"]
            torch.save({"model": sd, "epoch": epoch + 1, "metrics": metrics}, run.file(BEST))
        save_checkpoint(run.file(CHECKPOINT), {"model": irra.state_dict(), "optimizer": optimizer.state_dict(),
                                               "scheduler": scheduler.state_dict(), "generator": gen.get_state(),
                                               "epoch": epoch + 1, "best": best, "before": before})
    run.plot("epoch", f"retriever ({model_cfg['name']}): IRRA losses and test-split retrieval")
    log = run.read_log()
    last = log[-1] if log else {}
    result = {"epochs_done": int(float(last.get("epoch", 0))), "epochs": epochs,
              "R@1_before": before["R@1"], "R@1_after": float(last.get("R@1", before["R@1"])),
              "best_R@1": best if best >= 0 else None, "chance_R@1": chance_r1(test_set.ids, test_set.ids),
              "mAP_before": before["mAP"], "mAP_after": float(last.get("mAP", before["mAP"])),
              "loss_first": _float(log[1]["loss"]) if len(log) > 1 else None,
              "loss_last": _float(last.get("loss")), "checkpoint": str(run.file(BEST)),
              "train_images": n, "test_images": len(test_set), "device": device, "memory": memory}
    run.write_json("result.json", result)
    return result


def _float(v):
    try:
        return round(float(v), 5)
    except (TypeError, ValueError):
        return None
