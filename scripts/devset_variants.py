"""Write lighting and resolution variants of a labelled dev set, to measure how the engine holds up on
footage that does not look like the footage it was tuned on.

Every variant is a copy of the set (its annotation file and every image, same names) with one change
applied to all images alike, as one camera or one evening would change them:

- ``dusk``: darker, with a steeper tone curve and sensor noise (gamma 1.6, 70 % exposure, noise sd 4);
- ``tungsten``: a warm colour cast (red x1.18, blue x0.75), as under street lamps;
- ``overcast``: a cool colour cast (red x0.85, green x0.97, blue x1.2);
- ``lowres``: half the resolution, scaled back up, saved as JPEG quality 60.

The originals are only read. Then run the interactive benchmark on each variant, e.g.:

    python scripts/devset_variants.py resources/devsets/vtest OUT
    interreid bench interactive --data OUT/tungsten/annos.json --method initial,infogain,oracle \\
        --answerer annotated

The figures measured with it are in docs/lite-engine.md ("Other lighting").
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def dusk(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (a / 255.0) ** 1.6 * 0.7 * 255.0 + rng.normal(0.0, 4.0, a.shape)


def tungsten(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return a * np.array([1.18, 1.0, 0.75])


def overcast(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return a * np.array([0.85, 0.97, 1.2])


def lowres(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    w, h = im.size
    small = im.resize((max(8, w // 2), max(16, h // 2)), Image.Resampling.BILINEAR)
    return np.asarray(small.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float64)


VARIANTS = {"dusk": dusk, "tungsten": tungsten, "overcast": overcast, "lowres": lowres}


def write_variants(devset: Path, out: Path, names: list[str]) -> list[Path]:
    annos = devset / "annos.json"
    records = json.loads(annos.read_text(encoding="utf-8"))
    files = sorted({r["file_path"] for r in records})
    written = []
    for name in names:
        rng = np.random.default_rng(0)
        target = out / name
        for rel in files:
            src, dst = devset / rel, target / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            a = np.asarray(Image.open(src).convert("RGB"), dtype=np.float64)
            b = np.clip(np.round(VARIANTS[name](a, rng)), 0, 255).astype(np.uint8)
            Image.fromarray(b).save(dst, quality=60 if name == "lowres" else 90)
        shutil.copyfile(annos, target / "annos.json")
        written.append(target / "annos.json")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("devset", type=Path, help="folder holding annos.json and the images it names")
    parser.add_argument("out", type=Path, help="new folder for the variants (one sub-folder each)")
    parser.add_argument("--only", default=",".join(VARIANTS), help="variants to write (default: all)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        print(f"unknown variant {unknown[0]!r}; choose from {', '.join(VARIANTS)}", file=sys.stderr)
        return 2
    if not (args.devset / "annos.json").is_file():
        print(f"{args.devset} has no annos.json; give the dev set's folder", file=sys.stderr)
        return 2
    for path in write_variants(args.devset, args.out, names):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
