"""`interreid train selector`: warm-up against the retriever's top-4 with Gumbel top-k (tiny models)."""

from __future__ import annotations

import torch

from interreid.engine.full.selector import load_selector_net
from train_fixtures import prepared_file, run_cli, synth_annotations  # noqa: F401

SMALL = ["retriever.config=clip-reid-tiny", "model={layers: 1, ffn: 256, dropout: 0.1}", "train.batch_size=32",
         "train.lr=1e-3", "pool=30"]


def test_loss_falls_and_selector_loads(synth_annotations, prepared_file, tmp_path):
    out = tmp_path / "sel"
    r = run_cli("selector", out, [f"data.annotations={synth_annotations}", f"data.prepared={prepared_file}",
                                  *SMALL, "train.epochs=4"])
    assert r["examples"] > 100
    assert r["loss_last"] < r["loss_first"]
    assert r["hit_rate_after"] > r["hit_rate_before"]
    net = load_selector_net(out / "selector")  # the app's loader
    assert net.config["layers"] == 1 and (out / "curve.png").exists()


def test_resume_identical(synth_annotations, tmp_path):
    sets = [f"data.annotations={synth_annotations}", *SMALL, "train.epochs=2"]
    run_cli("selector", tmp_path / "a", sets)
    run_cli("selector", tmp_path / "b", sets + ["train.stop_after=1"])
    run_cli("selector", tmp_path / "b", sets, resume=True)
    a = load_selector_net(tmp_path / "a" / "selector").state_dict()
    b = load_selector_net(tmp_path / "b" / "selector").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "a" / "log.csv").read_text() == (tmp_path / "b" / "log.csv").read_text()
