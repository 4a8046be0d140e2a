"""What every training stage shares: its output folder, the CSV log and PNG curve, checkpoints
that resume to identical results, and the memory check.

Output folder of a stage::

    config.yaml          the resolved config the run used (a resumed run must match it)
    log.csv              one row per logged step / epoch (columns fixed by the first row)
    curve.png            the log's numeric columns against the step (matplotlib, Agg)
    checkpoint.pt        the last checkpoint: model, optimiser, scheduler, step, RNG states
"""

from __future__ import annotations

import csv
import json
import os
import random
from pathlib import Path

import numpy as np
import yaml

from ..errors import UserError

CHECKPOINT = "checkpoint.pt"
LOG = "log.csv"
CURVE = "curve.png"
CONFIG = "config.yaml"
_GB = 1024 ** 3


class RunDir:
    """A stage's output folder. ``resume`` continues a run whose config matches; otherwise the
    folder must be new or empty of a previous run (so a finished run is never overwritten)."""

    def __init__(self, out: str | Path, config: dict, resume: bool = False, stage: str = "",
                 ignore_on_resume: tuple[str, ...] = ("train.stop_after",)):
        self.path = Path(out)
        self.stage = stage
        self.path.mkdir(parents=True, exist_ok=True)
        saved = self.path / CONFIG
        if saved.exists():
            if not resume:
                raise UserError(f"{self.path} already holds a {stage or 'training'} run; pass --resume to continue "
                                "it or choose a new --out folder.")
            old = yaml.safe_load(saved.read_text(encoding="utf-8")) or {}
            if _without(old, ignore_on_resume) != _without(config, ignore_on_resume):
                raise UserError(f"The config differs from the one the run in {self.path} started with; resume with the "
                                "same config (see its config.yaml) or choose a new --out folder.")
        saved.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        self.resume = resume

    def file(self, name: str) -> Path:
        return self.path / name

    def resume_from_checkpoint(self, counter: str, restore: dict) -> dict | None:
        """When resuming, load the run's checkpoint (RNG states restored), hand each part its saved
        state (``restore``: {checkpoint key: loader}, e.g. ``{"model": net.load_state_dict,
        "generator": gen.set_state}``; a None loader or a key the checkpoint lacks is skipped) and
        drop log rows written after it (by the ``counter`` column, "epoch" or "step"). Returns the
        checkpoint, or None when the run starts afresh (then a resumed run's whole log is dropped)."""
        state = load_checkpoint(self.file(CHECKPOINT)) if self.resume else None
        if state is None:
            if self.resume:
                self.truncate_log(counter, -1)
            return None
        for key, load in restore.items():
            if load is not None and state.get(key) is not None:
                load(state[key])
        self.truncate_log(counter, state[counter])
        return state

    # -- the log -------------------------------------------------------------------------
    def log(self, row: dict) -> None:
        """Append one row to ``log.csv`` (header written with the first row)."""
        path = self.file(LOG)
        new = not path.exists() or path.stat().st_size == 0
        if new:
            fields = list(row)
        else:
            with path.open(encoding="utf-8") as f:
                fields = next(csv.reader(f))
        with path.open("a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow({k: _fmt(v) for k, v in row.items()})

    def truncate_log(self, step_key: str, last_step: int) -> None:
        """Drop log rows after ``last_step`` (rows written after the checkpoint a resume starts from)."""
        path = self.file(LOG)
        if not path.exists():
            return
        with path.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
            fields = list(rows[0].keys()) if rows else []
        kept = [r for r in rows if float(r.get(step_key) or 0) <= last_step]
        with path.open("w", newline="", encoding="utf-8") as f:
            if fields:
                writer = csv.DictWriter(f, fieldnames=fields)
                writer.writeheader()
                writer.writerows(kept)

    def read_log(self) -> list[dict]:
        path = self.file(LOG)
        if not path.exists():
            return []
        with path.open(encoding="utf-8") as f:
            return list(csv.DictReader(f))

    def plot(self, x: str, title: str) -> Path | None:
        """Draw every numeric column of the log against ``x`` into ``curve.png`` (one panel each)."""
        rows = self.read_log()
        if not rows:
            return None
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        columns = [c for c in rows[0] if c != x and _numeric(rows, c)]
        if not columns:
            return None
        fig, axes = plt.subplots(len(columns), 1, figsize=(6, 1.9 * len(columns) + 0.6), sharex=True, squeeze=False)
        for ax, col in zip(axes[:, 0], columns):
            pts = [(float(r[x]), float(r[col])) for r in rows if r.get(col) not in ("", None) and r.get(x)]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="." if len(pts) < 40 else None)
            ax.set_ylabel(col, fontsize=8)
            ax.grid(alpha=0.3)
        axes[-1, 0].set_xlabel(x)
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        out = self.file(CURVE)
        fig.savefig(out, dpi=90)
        plt.close(fig)
        return out

    def write_json(self, name: str, value) -> Path:
        path = self.file(name)
        path.write_text(json.dumps(value, indent=2, default=str) + "\n", encoding="utf-8")
        return path


def _without(config: dict, keys: tuple[str, ...]) -> dict:
    import copy

    out = copy.deepcopy(config)
    for key in keys:
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.get(p, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(parts[-1], None)
    return out


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.6g}"
    return v


def _numeric(rows: list[dict], col: str) -> bool:
    seen = False
    for r in rows:
        v = r.get(col)
        if v in ("", None):
            continue
        try:
            float(v)
            seen = True
        except ValueError:
            return False
    return seen


def ends_means(values: list[float], digits: int) -> tuple[float | None, float | None]:
    """Mean of the first and of the last few values (a quarter of them, 1 to 5): a noisy
    per-step curve's start and end."""
    if not values:
        return None, None
    k = max(1, min(5, len(values) // 4))
    return round(float(np.mean(values[:k])), digits), round(float(np.mean(values[-k:])), digits)


# -- checkpoints ---------------------------------------------------------------------------

def rng_state() -> dict:
    import torch

    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(state: dict) -> None:
    import torch

    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


def save_checkpoint(path: Path, state: dict) -> None:
    """Atomically write ``state`` (tensors, optimiser states, RNG states) with torch.save."""
    import torch

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save({**state, "rng": rng_state()}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict | None:
    """The checkpoint at ``path`` (RNG states restored), or None when there is none."""
    import torch

    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001
        raise UserError(f"The checkpoint {path} cannot be read ({type(exc).__name__}); delete it to start over.") from None
    set_rng_state(state["rng"])
    return state


# -- memory --------------------------------------------------------------------------------

def device_memory(device: str) -> tuple[float, str]:
    """(bytes available, what) on ``device`` ("cuda..." or "cpu")."""
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return float(free), f"free on {torch.cuda.get_device_name(torch.device(device))}"
    from ..host import available_ram

    avail = available_ram()
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            avail = 0
    return float(avail), "available RAM"


def check_memory(needed_bytes: float, device: str, what: str, hint: str) -> dict:
    """Raise UserError (one sentence) when ``needed_bytes`` exceed what ``device`` has; returns the figures."""
    have, where = device_memory(device)
    info = {"estimated_gb": round(needed_bytes / _GB, 2), "available_gb": round(have / _GB, 2), "device": device}
    if have and needed_bytes > have:
        raise UserError(f"{what} needs about {needed_bytes / _GB:.1f} GB but only {have / _GB:.1f} GB is {where}; "
                        f"{hint}")
    return info


def pick_device(requested: str | None) -> str:
    """``auto`` -> cuda when present, else cpu."""
    import torch

    if requested in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise UserError("The config asks for a CUDA device but this machine has none; set device=cpu or device=auto.")
    return requested
