"""``train joint``: the selector and the questioner trained together (paper §4.2, App. C.2;
docs/training.md "Selector").

Each example is a prepared round (as in ``train questioner``). Its candidate pool is what the
retriever returns for the dialogue so far: gallery ranks 1..k of the training split, k =
ceil(pool / t) at round t, ranked by the CLIP of ``retriever.checkpoint``. The selector reads the
query's CLIP text embedding and the image embeddings of ranks 2..k and draws a (c - 1)-hot with the
Gumbel top-k straight-through sampler; rank 1 and the chosen images go to the questioner in rank
order, and the k-hot (1 in the forward pass) multiplies each chosen image's projected visual
tokens, so the questioner's language-model loss trains the selector through the straight-through
gradient. The Gumbel temperature goes linearly from ``tau_start`` to ``tau_end`` over the run.

Both start from their warm-ups (``selector.init``: the ``selector/`` folder of ``train selector``;
``model.adapter``: the ``adapter/`` folder of ``train questioner``) and train for half an epoch by
default, as the paper does. Writes ``adapter/`` and ``selector/`` (what ``pack build
--questioner-adapter`` and ``--selector`` take) beside ``log.csv`` and ``curve.png``; the log adds
the temperature, the share of picks among the retriever's ranks 2..c (``top_share``) and the share
of examples whose target person is among the four shown (``target_shown``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UserError
from .data import load_split, rank_pools
from .run import ends_means

SELECTOR_DIR = "selector"


class JointSelector:
    """The selector side of joint training, as :func:`engine.training.questioner.run_questioner`'s
    ``selector_hook``."""

    def __init__(self, cfg: dict, progress_factory=None):
        import torch

        from ..full.selector import SelectorNet, load_selector_net

        data, scfg = cfg["data"], cfg.get("selector") or {}
        self.cfg = cfg
        self.progress_factory = progress_factory
        self.dataset = load_split(data["annotations"], data.get("images"), data.get("split", "train"))
        self.c = int(cfg["candidates"])
        self.pool = int(cfg["pool"])
        self.tau_start, self.tau_end = float(cfg["tau_start"]), float(cfg["tau_end"])
        if scfg.get("init"):
            self.net = load_selector_net(Path(scfg["init"]))
        else:
            torch.manual_seed(int(cfg["train"]["seed"]))
            self.net = SelectorNet(scfg.get("model") or {})
        self.generator = None  # made in prepare(), on the training device (Gumbel noise is drawn there)
        self.tau = self.tau_start
        self._picks: list[tuple[float, float]] = []

    # -- set-up ---------------------------------------------------------------------------
    def prepare(self, exs: list[dict], run, device: str) -> None:
        """CLIP features of the split and of each example's query; each example's pool (cached in
        the run folder, so a resumed run does not recompute them)."""
        import torch

        from ..full.tokenizer import ClipTokenizer
        from .clip_features import image_features, load_clip, text_features

        cache = run.file("pools.pt")
        if cache.exists():
            saved = torch.load(cache, weights_only=False)
        else:
            rcfg = self.cfg["retriever"]
            clip, model_cfg = load_clip(rcfg["config"], rcfg.get("checkpoint"))
            bar = self.progress_factory("gallery", len(self.dataset)) if self.progress_factory else None
            gallery = image_features(clip, self.dataset, model_cfg["preprocess"], progress=bar.update if bar else None)
            if bar:
                bar.close()
            tokenizer = ClipTokenizer(context_length=int(model_cfg["text_cfg"]["context_length"]))
            text = text_features(clip, tokenizer, [ex["query"] for ex in exs])
            first, rows, mask = rank_pools(text, gallery, [int(ex["round"]) for ex in exs], self.pool)
            saved = {"gallery": torch.from_numpy(gallery), "text": torch.from_numpy(text),
                     "first": torch.from_numpy(first), "rows": torch.from_numpy(rows), "mask": torch.from_numpy(mask)}
            torch.save(saved, cache)
        if len(saved["text"]) != len(exs):
            raise UserError(f"{cache} was made for another set of examples; delete it (or start a new --out folder).")
        if int(saved["mask"].sum(dim=1).max()) < self.c - 1:
            raise UserError(f"The training split has too few images for the selector to choose {self.c - 1} of ranks "
                            "2..k; use a larger split.")
        dim = int(self.net.config["embed_dim"])
        if saved["gallery"].shape[1] != dim:
            raise UserError(f"The selector expects {dim}-d CLIP embeddings but retriever.config gives "
                            f"{saved['gallery'].shape[1]}-d; use the retriever the selector was warmed up with.")
        self.device = torch.device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(int(self.cfg["train"]["seed"]) + 1)
        self.gallery = saved["gallery"].to(self.device)
        self.text, self.first = saved["text"].to(self.device), saved["first"]
        self.rows, self.mask = saved["rows"], saved["mask"]
        self.index = {id(ex): i for i, ex in enumerate(exs)}
        self.ids = self.dataset.ids
        self.target_id = [ex.get("id") for ex in exs]
        self.net.to(self.device).train()

    # -- per step ---------------------------------------------------------------------------
    def begin_step(self, step: int, total: int) -> None:
        """Linear temperature schedule tau_start -> tau_end over the optimiser steps."""
        frac = step / max(1, total - 1)
        self.tau = self.tau_start + (self.tau_end - self.tau_start) * min(1.0, frac)
        self._picks = []

    def choose(self, ex: dict):
        """(image paths of rank 1 + the chosen c - 1 in rank order, weights (c,)): rank 1 has
        weight 1, the chosen ones their straight-through k-hot entry."""
        import torch

        from ..full.selector import gumbel_topk_st

        i = self.index[id(ex)]
        rows, mask = self.rows[i], self.mask[i].to(self.device)
        images = self.gallery[rows.clamp_min(0).to(self.device)] * mask[:, None]
        log_w = self.net(self.text[i:i + 1], images[None], mask[None])
        khot = gumbel_topk_st(log_w, self.c - 1, tau=self.tau, mask=mask[None], generator=self.generator)[0]
        chosen = torch.nonzero(khot.detach() > 0.5).flatten().cpu()
        chosen = chosen[mask[chosen.to(self.device)].cpu()]  # never a padded position
        picked = [int(self.first[i])] + [int(rows[p]) for p in chosen]
        weights = torch.cat([torch.ones(1, device=khot.device, dtype=khot.dtype), khot[chosen.to(khot.device)]])
        target = self.target_id[i]
        self._picks.append((float((chosen < self.c - 1).float().mean()) if len(chosen) else 0.0,
                            float(target is not None and bool(np.any(self.ids[picked] == target)))))
        # absolute paths: the questioner joins them to its image root, which may be relative
        return [self.dataset.image_path(r).absolute() for r in picked], weights

    def log_row(self) -> dict:
        picks = np.asarray(self._picks, dtype=np.float64).reshape(-1, 2)
        return {"tau": self.tau, "top_share": float(picks[:, 0].mean()) if len(picks) else "",
                "target_shown": float(picks[:, 1].mean()) if len(picks) else ""}

    # -- the optimiser, checkpoints and output -----------------------------------------------
    def parameters(self):
        return self.net.parameters()

    def state_dict(self) -> dict:
        return {"net": {k: v.detach().cpu() for k, v in self.net.state_dict().items()},
                "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.generator.set_state(state["generator"])

    def summary(self, run, log: list[dict]) -> dict:
        """The selector's folder and its pick statistics at the start and the end of the run."""
        out = {"selector": str(run.file(SELECTOR_DIR))}
        picked = [r for r in log if r.get("target_shown") not in ("", None)]
        for key in ("top_share", "target_shown"):
            out[f"{key}_first_mean"], out[f"{key}_last_mean"] = ends_means([float(r[key]) for r in picked], 4)
        return out

    def save(self, folder: Path) -> dict:
        from ..full.selector import save_selector

        was = self.net.training
        self.net.cpu().eval()
        files = save_selector(self.net, Path(folder) / SELECTOR_DIR)
        self.net.train(was)
        return files


def run_joint(cfg: dict, out: str | Path, resume: bool = False, progress_factory=None) -> dict:
    """Train selector + questioner jointly; returns ``train questioner``'s result plus
    :meth:`JointSelector.summary`."""
    from .questioner import run_questioner

    data = cfg["data"]
    if not data.get("annotations"):
        raise UserError("Set data.annotations to the Interactive-PEDES file the prepared file was made from (its "
                        "training split is the gallery the candidates are drawn from).")
    if not (cfg.get("retriever") or {}).get("checkpoint"):
        raise UserError("Set retriever.checkpoint to the best.pth of 'interreid train retriever' (the selector "
                        "ranks with it); joint training on a random retriever teaches nothing.")
    return run_questioner(cfg, out, resume=resume, progress_factory=progress_factory,
                          selector_hook=JointSelector(cfg, progress_factory), stage="joint")
