"""`interreid train retriever`: IRRA (SDM + ID + MLM) on a tiny CLIP and a synthetic dataset."""

from __future__ import annotations

import csv

import torch

from train_fixtures import run_cli, synth_annotations, synth_annotations_large  # noqa: F401

TINY = ["model.config=clip-reid-tiny", "mlm.depth=1", "train.warmup_epochs=1"]


def test_short_training_beats_untrained_and_chance_and_packs(synth_annotations_large, tmp_path):
    out = tmp_path / "ret"
    r = run_cli("retriever", out, [f"data.annotations={synth_annotations_large}", *TINY, "losses=[sdm,id]",
                                   "train.epochs=10", "train.batch_size=16", "train.lr=2e-3"])
    assert r["epochs_done"] == 10 and r["test_images"] == 60
    assert r["loss_last"] < r["loss_first"]
    assert r["R@1_after"] > r["R@1_before"]
    assert r["R@1_after"] > 2 * r["chance_R@1"]
    assert r["mAP_after"] > r["mAP_before"] + 5
    with open(out / "log.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [int(x["epoch"]) for x in rows] == list(range(11))
    assert {"sdm", "id", "R@1", "R@5", "R@10", "mAP"} <= set(rows[0])
    assert (out / "curve.png").stat().st_size > 0

    # the checkpoint is what `pack build --irra` accepts, and the pack retrieves like the training model
    from interreid.engine.full.pack import build_pack

    manifest = build_pack(tmp_path / "pack", irra_ckpt=out / "best.pth", config="clip-reid-tiny", name="trained")
    assert manifest.weights == "trained"
    assert manifest.component("retriever")["checkpoint"]["kind"] == "irra"


def test_all_three_losses_and_resume_identical(synth_annotations, tmp_path):
    sets = [f"data.annotations={synth_annotations}", *TINY, "train.epochs=2", "train.batch_size=32",
            "train.lr=1e-3"]
    straight = run_cli("retriever", tmp_path / "a", sets)
    assert straight["loss_first"] > 0
    with open(tmp_path / "a" / "log.csv", encoding="utf-8") as f:
        first = list(csv.DictReader(f))[1]
    assert float(first["mlm"]) > 0 and float(first["sdm"]) > 0 and float(first["id"]) > 0

    run_cli("retriever", tmp_path / "b", sets + ["train.stop_after=1"])
    resumed = run_cli("retriever", tmp_path / "b", sets, resume=True)
    a = torch.load(tmp_path / "a" / "last.pth", weights_only=False)["model"]
    b = torch.load(tmp_path / "b" / "last.pth", weights_only=False)["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert resumed["R@1_after"] == straight["R@1_after"]
    assert _same_numbers(tmp_path / "a" / "log.csv", tmp_path / "b" / "log.csv")  # all but the speed column


def _same_numbers(p, q) -> bool:
    drop = ("images_per_s",)
    with open(p, encoding="utf-8") as f:
        a = [{k: v for k, v in r.items() if k not in drop} for r in csv.DictReader(f)]
    with open(q, encoding="utf-8") as f:
        b = [{k: v for k, v in r.items() if k not in drop} for r in csv.DictReader(f)]
    return a == b


def test_config_too_big_for_the_device_is_one_sentence(synth_annotations, tmp_path, capsys):
    from interreid.engine.cli.main import main

    argv = ["train", "retriever", "--out", str(tmp_path / "big"), "--set", f"data.annotations={synth_annotations}",
            "--set", "model.config=clip-reid-tiny", "--set", "train.batch_size=100000000"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "needs about" in err and "GB" in err and "batch_size" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "big").exists()


def test_dialogue_text_is_the_interview_query_after_every_answer(synth_annotations):
    from interreid.engine.interview.protocols import Turn
    from interreid.engine.interview.query import build_query
    from interreid.engine.training.data import load_split
    from interreid.engine.training.retriever import texts_of

    ds = load_split(synth_annotations, None, "train")
    texts = texts_of(ds, "dialogue")
    rec = ds.records[0]
    assert texts[0] == build_query(rec.initial_description, [Turn(q, a) for q, a in zip(rec.questions, rec.answers)])
    assert texts[0].startswith(rec.initial_description) and len(texts[0]) > len(rec.initial_description)
    assert not any(q in texts[0] for q in rec.questions)  # answers only, as the paper's retrieval query
