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
