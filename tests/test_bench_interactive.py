"""``interreid bench interactive`` end to end on a small synthetic set (40 identities x 2 images).

Criteria (robust on this set; the margins seen are ~30 R@1 points and ~0.2 BRI):
- ``infogain`` beats ``initial`` after round 5: R@1 at least 10 points higher AND a lower mean
  first-correct rank.
- ``oracle`` (paper Eq. 9 over the annotated answers) has a BRI no worse than any other method,
  when every method's witness answers from the same annotated facts (the ``annotated`` answerer).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from interreid.engine.cli.main import main
from interreid.engine.errors import UserError
from interreid.engine.evaluation.runner import BenchSettings, plan_runs, run_benchmark
from interreid.engine.evaluation.tables import format_table


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    from interreid.engine.synth.dataset import generate

    root = tmp_path_factory.mktemp("synth40")
    generate(root, ids=40, images_per_id=2, seed=3, test_fraction=1.0)
    return root


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bench-cache")


def _settings(synth, cache, **kw) -> BenchSettings:
    base = dict(annotations=synth / "annotations.json", images=synth, cache_dir=cache, answerer="attributes")
    return BenchSettings(**{**base, **kw})


def test_cli_end_to_end(synth, cache, tmp_path, capsys):
    out, png = tmp_path / "bench.json", tmp_path / "fig4.png"
    code = main(["bench", "interactive", "--data", str(synth / "annotations.json"), "--images", str(synth),
                 "--method", "initial,template,infogain,oracle", "--answerer", "annotated", "--rounds", "5",
                 "--cache", str(cache), "--json", str(out), "--plot", str(png)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Round 3" in printed and "Round 5" in printed and "BRI" in printed and "mINP" in printed
    for label in ("initial", "template", "infogain", "oracle"):
        assert any(line.startswith(label) for line in printed.splitlines())
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    data = json.loads(out.read_text())
    assert data["queries_done"] == data["queries_planned"] == 80
    assert data["gallery"]["images"] == 80 and data["gallery"]["identities"] == 40
    runs = data["runs"]
    assert set(runs) == {"initial", "template", "infogain", "oracle"}
    for run in runs.values():
        assert [p["round"] for p in run["per_round"]] == list(range(6))
        assert len(run["per_query"]) == 80
        for q in run["per_query"]:
            assert len(q["ranks"]) == 6 and min(q["ranks"]) >= 1
            assert q["ranks"] == [min(p) for p in q["correct_positions"]]
            assert all(len(p) == 2 for p in q["correct_positions"])  # both images of the person
    # round 0 is the initial description for every method
    r0 = [q["ranks"][0] for q in runs["initial"]["per_query"]]
    for run in runs.values():
        assert [q["ranks"][0] for q in run["per_query"]] == r0
    assert all(len(set(q["ranks"])) == 1 for q in runs["initial"]["per_query"])
    # at most 5 questions, none repeated (the questioner stops when nothing useful is left)
    assert all(1 <= len(q["questions"]) <= 5 and len(set(q["questions"])) == len(q["questions"])
               for q in runs["infogain"]["per_query"])

    init5, info5 = runs["initial"]["per_round"][5], runs["infogain"]["per_round"][5]
    assert info5["R@1"] >= init5["R@1"] + 10
    assert info5["mean_rank"] < init5["mean_rank"]
    for label, run in runs.items():
        if label != "oracle" and run["BRI"] is not None:
            assert runs["oracle"]["BRI"] <= run["BRI"] + 1e-9, label


def test_selectors_side_by_side_deterministic_and_cached(synth, cache):
    s = _settings(synth, cache, methods=("initial", "infogain"), selectors=("top", "kmeans"), limit=12, seed=5)
    a = run_benchmark(s)
    assert [r.label for r in a.runs] == ["initial", "infogain/top", "infogain/kmeans"]
    b = run_benchmark(s)
    assert a.gallery["folder"] == b.gallery["folder"]  # the gallery is reused, not rebuilt
    assert [r.as_dict()["per_query"] for r in a.runs] == [r.as_dict()["per_query"] for r in b.runs]
    text = format_table(a)
    assert "infogain/kmeans" in text and "12 queries" in text and "(prompt " not in text  # the paper's prompt
    import dataclasses
    from pathlib import Path

    other = dataclasses.replace(a, settings=dataclasses.replace(a.settings, witness_prompt=Path("p/truthful.yaml")))
    assert "(prompt truthful.yaml)" in format_table(other)  # another prompt is another witness: said
    # a different seed draws other queries
    c = run_benchmark(_settings(synth, cache, methods=("initial",), limit=12, seed=6))
    assert [q.index for q in c.runs[0].queries] != [q.index for q in a.runs[0].queries]


def test_interrupt_keeps_finished_queries(synth, cache):
    calls = {"n": 0}

    def progress(done, total, what):
        if what != "gallery import":
            calls["n"] += 1
            if calls["n"] == 8:
                raise KeyboardInterrupt

    res = run_benchmark(_settings(synth, cache, methods=("initial", "template", "oracle")), progress=progress)
    assert res.interrupted
    assert 0 < res.queries_done < res.queries_planned
    assert len({len(r.queries) for r in res.runs}) == 1  # every run covers the same queries
    assert res.as_dict()["interrupted"] is True
    assert "interrupted" in format_table(res)


def test_bad_input_is_one_sentence(synth, cache, tmp_path, capsys):
    with pytest.raises(UserError, match="full engine"):
        run_benchmark(_settings(synth, cache, methods=("llava",)))
    with pytest.raises(UserError, match="Unknown method"):
        plan_runs(("initial", "chatgpt"), ("kmeans",))
    with pytest.raises(UserError, match="no 'val' records"):
        run_benchmark(_settings(synth, cache, split="val"))
    with pytest.raises(UserError, match="missing"):
        run_benchmark(_settings(synth, cache, images=tmp_path))
    code = main(["bench", "interactive", "--data", str(synth / "annotations.json"), "--images", str(synth),
                 "--selector", "random"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Unknown selector" in err[0]


def test_oracle_picks_the_best_answer_first(synth, cache):
    res = run_benchmark(_settings(synth, cache, methods=("oracle",), limit=6, rounds=3))
    for q in res.runs[0].queries:
        ranks = q.ranks
        assert ranks[1] <= ranks[0] or len(q.questions) == 0
        assert np.all(np.diff(np.minimum.accumulate(ranks)) <= 0)
        assert len(set(q.questions)) == len(q.questions)  # an annotated answer is used once
