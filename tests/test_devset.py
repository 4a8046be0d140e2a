"""The real dev set in resources/devsets/vtest: complete, traceable, and benchmarkable out of the box."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "resources" / "devsets" / "vtest"


def test_devset_is_complete_and_traceable():
    records = json.loads((ROOT / "annos.json").read_text(encoding="utf-8"))
    provenance = {r["file"]: r for r in csv.DictReader((ROOT / "provenance.csv").open(encoding="utf-8"))}
    assert len(records) == len(provenance) == 63
    per_id = Counter(r["id"] for r in records)
    assert len(per_id) == 10 and min(per_id.values()) >= 4
    for r in records:
        assert r["split"] == "test" and 5 <= len(r["questions"]) == len(r["answers"]) <= 9
        assert r["initial_description"] and r["fine-grained_description"]
        data = (ROOT / r["file_path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == provenance[r["file_path"]]["sha256"]
    assert (ROOT / "README.md").is_file() and "Licence" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_bench_runs_on_the_devset_without_images_flag(tmp_path, capsys):
    from interreid.engine.cli.main import main

    out = tmp_path / "r.json"
    rc = main(["bench", "interactive", "--data", str(ROOT / "annos.json"), "--method", "initial,oracle",
               "--answerer", "annotated", "--limit", "4", "--cache", str(tmp_path / "cache"), "--json", str(out)])
    assert rc == 0
    data = json.loads(out.read_text())
    assert data["gallery"]["images"] == 63 and data["queries_done"] == 4
    oracle = data["runs"]["oracle"]["per_round"]
    assert oracle[-1]["mAP"] >= oracle[0]["mAP"]


def test_lighting_variants_change_every_image_alike_and_keep_the_labels(tmp_path):
    import importlib.util

    import numpy as np
    from PIL import Image

    spec = importlib.util.spec_from_file_location("devset_variants", ROOT.parents[2] / "scripts" / "devset_variants.py")
    variants = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(variants)
    before = {p.name: p.read_bytes() for p in (ROOT / "images").iterdir()}
    written = variants.write_variants(ROOT, tmp_path, ["tungsten", "dusk"])
    assert [p.parent.name for p in written] == ["tungsten", "dusk"]
    assert all(p.read_bytes() == (ROOT / "annos.json").read_bytes() for p in written)
    records = json.loads((ROOT / "annos.json").read_text(encoding="utf-8"))
    for rec in records[:5]:
        orig = np.asarray(Image.open(ROOT / rec["file_path"]).convert("RGB"), dtype=float)
        warm = np.asarray(Image.open(tmp_path / "tungsten" / rec["file_path"]), dtype=float)
        dark = np.asarray(Image.open(tmp_path / "dusk" / rec["file_path"]), dtype=float)
        assert warm.shape == orig.shape and warm[..., 0].mean() > orig[..., 0].mean()
        assert warm[..., 2].mean() < 0.85 * orig[..., 2].mean()  # a warm cast: less blue
        assert dark.mean() < 0.8 * orig.mean()
    assert {p.name: p.read_bytes() for p in (ROOT / "images").iterdir()} == before  # originals only read
    assert variants.main([str(ROOT), str(tmp_path / "x"), "--only", "sunset"]) == 2
