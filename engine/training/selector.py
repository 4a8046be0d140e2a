"""``train selector``: warm-up of the candidate selector (paper §4.2.1; docs/training.md "Selector").

Examples: for every training sample and round t, the query of the dialogue so far (the prepared
looking-forward dialogues when ``data.prepared`` is given, else the annotated answers in order),
its CLIP text embedding, and the CLIP image embeddings of gallery ranks 2..k (k = ceil(pool / t)).
The target is the retriever's top-4 mask: ranks 2..c (positions 0..c-2 of the pool). The selector
draws a (c-1)-hot with the Gumbel top-k straight-through sampler at temperature ``tau``; the
loss is the binary cross-entropy of that sample (squeezed into [eps, 1 - eps]) against the mask.

Writes ``selector/selector.safetensors`` + ``selector/selector.json`` (``engine.full.selector``'s
format, what ``pack build`` adds as the selector component).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..interview.protocols import Turn
from .clip_features import image_features, load_clip, text_features
from .data import build_query, load_split, rank_pools
from .prepare import read_prepared
from .run import CHECKPOINT, RunDir, check_memory, pick_device, save_checkpoint, seed_everything

SELECTOR_DIR = "selector"


def dialogue_queries(dataset, prepared: str | None, rounds: int) -> list[str]:
    """The query before each round t = 1..rounds of every sample."""
    queries = []
    if prepared:
        for row in read_prepared(prepared):
            turns: list[Turn] = []
            for rd in row["rounds"][:rounds]:
                queries.append(build_query(row["initial"], turns))
                turns.append(Turn(rd["question"], rd["answer"]))
        if not queries:
            raise UserError(f"The prepared file {prepared} holds no rounds; run 'interreid train prepare' again.")
        return queries
    for rec in dataset.records:
        turns = []
        for q, a in list(zip(rec.questions, rec.answers))[:rounds]:
            queries.append(build_query(rec.initial_description, turns))
            turns.append(Turn(q, a))
        if not rec.questions:
            queries.append(build_query(rec.initial_description, []))
    return queries


def round_of(dataset, prepared: str | None, rounds: int) -> list[int]:
    """The round number t (1-based) of each query of :func:`dialogue_queries`."""
    out = []
    if prepared:
        for row in read_prepared(prepared):
            out.extend(range(1, min(rounds, len(row["rounds"])) + 1))
        return out
    for rec in dataset.records:
        out.extend(range(1, min(rounds, len(rec.questions)) + 1) if rec.questions else [1])
    return out


def build_examples(text: np.ndarray, gallery: np.ndarray, rounds: list[int], pool: int) -> tuple[np.ndarray, np.ndarray]:
    """(pool rows (M, K) int64 with -1 padding, mask (M, K) bool) of ranks 2..k for each query."""
    _first, rows, mask = rank_pools(text, gallery, rounds, pool)
    return rows, mask


def run_selector(cfg: dict, out: str | Path, resume: bool = False, progress_factory=None) -> dict:
    """Warm the selector up; returns {"loss_first", "loss_last", "hit_first", "hit_last", "selector", ...}."""
    import torch
    from torch.nn import functional as F

    from ..full.selector import SelectorNet, gumbel_topk_st, save_selector
    from ..full.tokenizer import ClipTokenizer

    data, tr, rcfg = cfg["data"], cfg["train"], cfg["retriever"]
    dataset = load_split(data["annotations"], data.get("images"), data.get("split", "train"))
    device = pick_device(tr.get("device"))
    seed_everything(int(tr["seed"]))
    net = SelectorNet(cfg.get("model") or {})
    params = sum(p.numel() for p in net.parameters())
    memory = check_memory(params * 16 + int(tr["batch_size"]) * 200 * int(net.config["d_model"]) * 40
                          * int(net.config["layers"]), device, "Training the selector",
                          "lower train.batch_size or the pool size.")
    c = int(cfg["candidates"])
    run = RunDir(out, cfg, resume=resume, stage="selector")

    clip, model_cfg = load_clip(rcfg["config"], rcfg.get("checkpoint"))
    cache = run.file("examples.pt")
    if cache.exists():
        ex = torch.load(cache, weights_only=False)
        text, gallery, rows, mask = ex["text"], ex["gallery"], ex["rows"], ex["mask"]
    else:
        tokenizer = ClipTokenizer(context_length=int(model_cfg["text_cfg"]["context_length"]))
        bar = progress_factory("gallery", len(dataset)) if progress_factory else None
        gallery_np = image_features(clip, dataset, model_cfg["preprocess"], progress=bar.update if bar else None)
        if bar:
            bar.close()
        queries = dialogue_queries(dataset, data.get("prepared"), int(cfg["rounds"]))
        t_of = round_of(dataset, data.get("prepared"), int(cfg["rounds"]))
        text_np = text_features(clip, tokenizer, queries)
        rows_np, mask_np = build_examples(text_np, gallery_np, t_of, int(cfg["pool"]))
        text, gallery = torch.from_numpy(text_np), torch.from_numpy(gallery_np)
        rows, mask = torch.from_numpy(rows_np), torch.from_numpy(mask_np)
        torch.save({"text": text, "gallery": gallery, "rows": rows, "mask": mask}, cache)
    if int(mask.sum(dim=1).max()) < c:
        raise UserError(f"The gallery has too few images for the selector to choose {c - 1} of ranks 2..k; "
                        "use a larger training split.")
    target = torch.zeros(mask.shape)
    target[:, :c - 1] = 1.0
    target = target * mask

    net.to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=float(tr["lr"]), weight_decay=float(tr["weight_decay"]))
    gen = torch.Generator().manual_seed(int(tr["seed"]))
    epochs = int(tr["epochs"])
    state = run.resume_from_checkpoint("epoch", {"model": net.load_state_dict, "optimizer": optimizer.load_state_dict,
                                                 "generator": gen.set_state})
    start_epoch = state["epoch"] if state is not None else 0

    m = len(text)
    bs = int(tr["batch_size"])
    eps = float(tr["label_eps"])
    tau = float(tr["tau"])

    def batch(idx):
        r = rows[idx]
        imgs = gallery[r.clamp_min(0)] * mask[idx][..., None]
        return text[idx].to(device), imgs.to(device), mask[idx].to(device), target[idx].to(device)

    def hit_rate() -> float:
        net.eval()
        hits = []
        with torch.no_grad():
            for s in range(0, m, bs):
                idx = torch.arange(s, min(m, s + bs))
                t, im, mk, tg = batch(idx)
                top = net(t, im, mk).topk(c - 1, dim=-1).indices
                hits.append(tg.gather(1, top).sum(dim=1) / tg.sum(dim=1).clamp_min(1))
        return round(100.0 * float(torch.cat(hits).mean()), 3)

    if state is None:
        run.log({"epoch": 0, "loss": "", "hit_rate": hit_rate()})
    stop_after = tr.get("stop_after")
    for epoch in range(start_epoch, epochs):
        if stop_after is not None and epoch - start_epoch >= int(stop_after):
            break
        net.train()
        order = torch.randperm(m, generator=gen)
        total = 0.0
        steps = math.ceil(m / bs)
        bar = progress_factory(f"epoch {epoch + 1}/{epochs}", steps) if progress_factory else None
        for s in range(steps):
            idx = order[s * bs:(s + 1) * bs]
            t, im, mk, tg = batch(idx)
            log_w = net(t, im, mk)
            khot = gumbel_topk_st(log_w, c - 1, tau=tau, mask=mk, generator=gen)
            p = khot * (1 - 2 * eps) + eps
            loss = (F.binary_cross_entropy(p, tg, reduction="none") * mk).sum() / mk.sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
            if bar:
                bar.update(s + 1)
        if bar:
            bar.close()
        run.log({"epoch": epoch + 1, "loss": total / m, "hit_rate": hit_rate()})
        save_checkpoint(run.file(CHECKPOINT), {"model": net.state_dict(), "optimizer": optimizer.state_dict(),
                                               "generator": gen.get_state(), "epoch": epoch + 1})
    net.cpu().eval()
    files = save_selector(net, run.file(SELECTOR_DIR))
    run.plot("epoch", "selector warm-up: BCE of the Gumbel top-k sample vs the retriever's top-4")
    log = run.read_log()
    losses = [float(r["loss"]) for r in log if r["loss"] not in ("", None)]
    result = {"examples": m, "epochs_done": int(float(log[-1]["epoch"])) if log else 0, "epochs": epochs,
              "loss_first": round(losses[0], 5) if losses else None,
              "loss_last": round(losses[-1], 5) if losses else None,
              "hit_rate_before": float(log[0]["hit_rate"]) if log else None,
              "hit_rate_after": float(log[-1]["hit_rate"]) if log else None,
              "selector": str(files["selector.safetensors"].parent), "device": device, "memory": memory}
    run.write_json("result.json", result)
    return result
