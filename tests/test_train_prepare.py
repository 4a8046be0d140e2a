"""`interreid train prepare`: looking-forward supervision (paper Eq. 9) on a synthetic dataset."""

from __future__ import annotations

import json

from interreid.engine.cli.main import main
from interreid.engine.training.prepare import read_prepared
from train_fixtures import synth_annotations  # noqa: F401


def prepare(annotations, out, *sets, resume=False):
    argv = ["train", "prepare", "--set", f"data.annotations={annotations}", "--out", str(out), "--json",
            str(out) + ".json"]
    for s in sets:
        argv += ["--set", s]
    if resume:
        argv.append("--resume")
    assert main(argv) == 0
    return json.loads(open(str(out) + ".json", encoding="utf-8").read())


def test_lookforward_beats_random_order(synth_annotations, tmp_path):
    look = prepare(synth_annotations, tmp_path / "look")
    rand = prepare(synth_annotations, tmp_path / "rand", "ordering=random")
    assert look["samples"] == rand["samples"] == 15 * 2
    assert look["mean_rank"] < rand["mean_rank"]
    # round by round the greedy choice is never worse on average
    assert all(a <= b for a, b in zip(look["mean_rank_by_round"], rand["mean_rank_by_round"]))
    rows = read_prepared(tmp_path / "look" / "prepared.jsonl")
    originals = [r for r in rows if r["augment"] is None]
    for row in originals:
        ranks = [row["rank0"]] + [rd["rank"] for rd in row["rounds"]]
        assert 1 <= len(row["rounds"]) <= 5
        assert len({rd["question"] for rd in row["rounds"]}) == len(row["rounds"])  # no question twice
        assert all(len(rd["candidates"]) == 16 for rd in row["rounds"])
        assert ranks[-1] <= ranks[0]
    # stop rule: fewer than 2 unused answers left means no further round
    rec = json.loads(synth_annotations.read_text())
    train = [r for r in rec if r["split"] == "train"]
    for row in originals:
        assert len(row["rounds"]) == min(5, len(train[row["index"]]["questions"]) - 1)
    assert (tmp_path / "look" / "curve.png").stat().st_size > 0
    assert (tmp_path / "look" / "log.csv").exists()


def test_dont_know_augmentation_and_resume(synth_annotations, tmp_path):
    full = prepare(synth_annotations, tmp_path / "full", "idk.share=0.5")
    rows = read_prepared(tmp_path / "full" / "prepared.jsonl")
    dups = [r for r in rows if r["augment"] == "idk"]
    assert full["idk_duplicates"] == len(dups) > 0
    by_key = {r["key"]: r for r in rows}
    for d in dups:
        orig = by_key[str(d["index"])]
        assert [x["question"] for x in d["rounds"]] == [x["question"] for x in orig["rounds"]]
        assert any(x["answer"] == "I don't know." for x in d["rounds"][:-1])

    # an interrupted run (first 7 samples, then a torn last line) resumes to the same file
    part = tmp_path / "part"
    prepare(synth_annotations, part, "idk.share=0.5", "limit=7")
    with open(part / "prepared.jsonl", "a", encoding="utf-8") as f:
        f.write('{"key": "7", "trunc')
    resumed = prepare(synth_annotations, part, "idk.share=0.5", resume=True)
    assert resumed["skipped_already_written"] == 7
    assert (part / "prepared.jsonl").read_text() == (tmp_path / "full" / "prepared.jsonl").read_text()


def test_bad_override_is_one_sentence(synth_annotations, tmp_path, capsys):
    assert main(["train", "prepare", "--set", "ordring=random", "--out", str(tmp_path / "x")]) == 2
    assert "Unknown setting 'ordring'" in capsys.readouterr().err
