"""Fit the lite engine's per-attribute reliabilities (engine/lite/calibration.py RELIABILITY) on a
labelled real set, leaving one identity out, with a strong prior towards the synthetic value (1.0).

For every identity and every colour its fine-grained description states, the AUC of "how far a crop
satisfies that colour" between the identity's crops and everyone else's measures how reliably the
camera shows that region (0.5 = chance, 1.0 = perfect). A region's raw reliability is
2 * (mean AUC - 0.5); it is shrunk towards 1.0 with ``PRIOR`` pseudo-constraints:

    rho = (n * raw + PRIOR * 1.0) / (n + PRIOR)

Each fold leaves one identity out; the script prints the all-data fit and the folds' mean and spread.
Run from the repository root:

    python scripts/fit_lite_reliability.py resources/devsets/vtest/annos.json
"""

from __future__ import annotations

import json
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

PRIOR = 5.0


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
        for sentence in sentences(r["fine-grained_description"]):
            for c in parse(sentence).colours:
                if not c.positive:
                    continue
                q = satisfied(dists[:, region_index(c.region)], c.colour, c.shade)
                pos, neg = q[ids == r["id"]], q[ids != r["id"]]
                auc = float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())
                out.setdefault(c.region if by == "region" else c.colour, []).append((r["id"], auc))
    return out


def fit(per_region: dict[str, list[tuple[int, float]]], leave_out: int | None = None) -> dict[str, float]:
    rho = {}
    for region, items in per_region.items():
        vals = [a for pid, a in items if pid != leave_out]
        raw = float(np.clip(2.0 * (np.mean(vals) - 0.5), 0.0, 1.0)) if vals else 1.0
        rho[region] = (len(vals) * raw + PRIOR) / (len(vals) + PRIOR)
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
              f"{f.std():7.3f} {f.min():5.3f} {f.max():5.3f}")

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
