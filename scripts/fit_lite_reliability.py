"""Fit the lite engine's per-attribute reliabilities (engine/lite/calibration.py RELIABILITY) on a
labelled real set, leaving one identity out, with a strong prior towards the value measured the same
way on the synthetic pedestrians (``SYNTHETIC``).

For every identity and every colour its fine-grained description states, the AUC of "how far a crop
satisfies that colour" between the identity's crops and everyone else's measures how reliably the
camera shows that region (0.5 = chance, 1.0 = perfect). A region's raw reliability is
2 * (mean AUC - 0.5) (if the stated colour is visible in a fraction rho of the cases and then ranks
the person's crops first, and is noise otherwise, the AUC is 0.5 + rho / 2). It is shrunk towards the
synthetic value s with ``PRIOR`` pseudo-constraints:

    rho = (n * raw + PRIOR * s) / (n + PRIOR)

s was 1.0 for every region ("every region is seen cleanly on synthetic crops") until it was
measured: ``SYNTHETIC`` is this script's raw reliability on the synthetic pedestrians (``interreid
data synth OUT --ids 100 --images-per-id 4 --seed 0``, all 400 crops, 100 identities); give that
annotation file as a second argument to measure it again. Even on clean synthetic crops the shoes (a
few pixels) and the hair are far from perfect: 0.49 and 0.66, against 0.91 for the top and 0.87 for
the legs. In both sets the hair colour of a person described with a hat is left out (the hat hides
it; with it the synthetic head measures 0.45). docs/lite-engine.md section 9 says what this changed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from interreid.engine.evaluation.answerers import sentences  # noqa: E402
from interreid.engine.lite.calibration import satisfied  # noqa: E402
from interreid.engine.lite.embedder import LiteEmbedder  # noqa: E402
from interreid.engine.lite.layout import REGIONS, decode, region_index  # noqa: E402
from interreid.engine.lite.parser import parse  # noqa: E402
from interreid.engine.lite.vocabulary import HAT_WORDS  # noqa: E402

PRIOR = 5.0
#: the prior's value per region: the raw reliability measured on the synthetic pedestrians (see the
#: module docstring); measured again when a synthetic annotation file is given
SYNTHETIC = {"head": 0.66, "upper": 0.91, "lower": 0.87, "feet": 0.49}


def _wears_hat(sentence: str) -> bool:
    """Whether a sentence says the person wore a hat, cap or hood (not "no hat")."""
    words = set(re.findall(r"[a-z]+", sentence.lower()))
    return bool(words & HAT_WORDS) and not words & {"no", "not", "without"}


def aucs(annos: Path, by: str = "region") -> dict[str, list[tuple[int, float]]]:
    recs = json.loads(annos.read_text(encoding="utf-8"))
    images = [Image.open(annos.parent / r["file_path"]) for r in recs]
    dists, _ = decode(LiteEmbedder().embed_images(images))
    ids = np.array([r["id"] for r in recs])
    out: dict[str, list[tuple[int, float]]] = {r: [] for r in REGIONS} if by == "region" else {}
    done = set()
    for r in recs:
        if r["id"] in done:
            continue
        done.add(r["id"])
        said = sentences(r["fine-grained_description"])
        hat = any(_wears_hat(x) for x in said)
        for sentence in said:
            for c in parse(sentence).colours:
                if not c.positive:
                    continue
                if hat and c.region == "head" and not _wears_hat(sentence):
                    continue  # the hair colour of someone wearing a hat: the hat hides it
                q = satisfied(dists[:, region_index(c.region)], c.colour, c.shade)
                pos, neg = q[ids == r["id"]], q[ids != r["id"]]
                auc = float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())
                out.setdefault(c.region if by == "region" else c.colour, []).append((r["id"], auc))
    return out


def fit(per_region: dict[str, list[tuple[int, float]]], leave_out: int | None = None,
        prior: dict[str, float] | None = None) -> dict[str, float]:
    """Per region: the raw reliability shrunk towards ``prior`` (default ``SYNTHETIC``); with
    ``prior`` {} (no pseudo-constraints) the raw value itself."""
    prior = SYNTHETIC if prior is None else prior
    rho = {}
    for region, items in per_region.items():
        vals = [a for pid, a in items if pid != leave_out]
        raw = float(np.clip(2.0 * (np.mean(vals) - 0.5), 0.0, 1.0)) if vals else prior.get(region, 1.0)
        if region not in prior:
            rho[region] = raw
            continue
        rho[region] = (len(vals) * raw + PRIOR * prior[region]) / (len(vals) + PRIOR)
    return rho


def colour_factors(per_colour: dict[str, list[tuple[int, float]]], leave_out: int | None = None) -> dict[str, float]:
    """Per stated colour: its raw reliability relative to all colours', shrunk towards 1.0 (no
    difference) with ``PRIOR`` pseudo-constraints; kept within [0.5, 1.2]."""
    every = [a for items in per_colour.values() for pid, a in items if pid != leave_out]
    overall = max(2.0 * (np.mean(every) - 0.5), 1e-3)
    out = {}
    for colour, items in per_colour.items():
        vals = [a for pid, a in items if pid != leave_out]
        rel = float(np.clip(2.0 * (np.mean(vals) - 0.5), 0.0, 1.0)) / overall if vals else 1.0
        out[colour] = float(np.clip((len(vals) * rel + PRIOR) / (len(vals) + PRIOR), 0.5, 1.2))
    return out


def main() -> None:
    annos = Path(sys.argv[1] if len(sys.argv) > 1 else "resources/devsets/vtest/annos.json")
    if len(sys.argv) > 2:  # measure the prior on a synthetic set first
        measured = fit(aucs(Path(sys.argv[2])), prior={})
        print("synthetic raw reliability: " + ", ".join(f"{r} {v:.2f}" for r, v in measured.items()) + "\n")
        SYNTHETIC.update({r: round(v, 2) for r, v in measured.items()})
    per_region = aucs(annos)
    ids = sorted({pid for items in per_region.values() for pid, _ in items})
    folds = [fit(per_region, pid) for pid in ids]
    full = fit(per_region)
    print(f"{'region':8s} {'n':>3s} {'mean AUC':>8s} {'rho (all)':>9s} {'LOIO mean':>9s} {'LOIO sd':>7s} "
          f"{'min':>5s} {'max':>5s}")
    for region in REGIONS:
        f = np.array([fold[region] for fold in folds])
        mean_auc = np.mean([a for _, a in per_region[region]]) if per_region[region] else float("nan")
        print(f"{region:8s} {len(per_region[region]):3d} {mean_auc:8.3f} {full[region]:9.3f} {f.mean():9.3f} "
              f"{f.std():7.3f} {f.min():5.3f} {f.max():5.3f}  (prior {SYNTHETIC[region]:.2f})")

    per_colour = aucs(annos, by="colour")
    ids_c = sorted({pid for items in per_colour.values() for pid, _ in items})
    folds_c = [colour_factors(per_colour, pid) for pid in ids_c]
    full_c = colour_factors(per_colour)
    print(f"\n{'colour':8s} {'n':>3s} {'mean AUC':>8s} {'factor':>6s} {'LOIO mean':>9s} {'LOIO sd':>7s}")
    for colour in sorted(per_colour):
        f = np.array([fold.get(colour, 1.0) for fold in folds_c])
        print(f"{colour:8s} {len(per_colour[colour]):3d} {np.mean([a for _, a in per_colour[colour]]):8.3f} "
              f"{full_c[colour]:6.2f} {f.mean():9.2f} {f.std():7.2f}")


if __name__ == "__main__":
    main()
