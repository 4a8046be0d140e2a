"""T-ReID re-ranking (paper §5.3, Table 2): a second model's similarity for the initial
description fused with the interactive retriever's similarity for the dialogue.

On the synthetic set with lite-style scorers the fusion is checked against what it must be
(weight 0 = the interview alone, weight 1 = the T-ReID model alone, the same scorer on the same
text changes nothing, a perfect T-ReID scorer lifts the fused ranking); with two random-weight
packs it runs end to end through the CLI. What random weights cannot show is whether a trained
T-ReID model helps: see docs/treid.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fixtures_full import tiny_pack  # noqa: F401  (fixture)

from interreid.engine.cli.main import main
from interreid.engine.errors import UserError
from interreid.engine.evaluation.annotations import load_annotations
from interreid.engine.evaluation.runner import BenchSettings, run_benchmark, treid_summary
from interreid.engine.treid import GalleryTreid, check_weight, fuse

TINY = "clip-reid-tiny"


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    from interreid.engine.synth.dataset import generate

    root = tmp_path_factory.mktemp("synth-treid")
    generate(root, ids=20, images_per_id=2, seed=5, test_fraction=1.0)
    return root


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("treid-bench-cache")


def _run(synth, cache, **kw):
    base = {"annotations": synth / "annotations.json", "images": synth, "cache_dir": cache, "answerer": "attributes",
                "methods": ("initial", "infogain"), "treid": ("lite",)}
    return run_benchmark(BenchSettings(**{**base, **kw}))


def test_fuse_is_the_papers_average_for_equal_temperatures():
    d, t = np.array([0.3, 0.1, 0.2]), np.array([0.0, 0.4, 0.1])
    assert np.allclose(fuse(d, 0.02, t, 0.02, 0.5), (d + t) / 2)
    assert np.allclose(fuse(d, 0.02, t, 0.02, 0.0), d)
    # a log-likelihood scorer (T = 1) is brought to the CLIP scale through the temperatures
    assert np.allclose(fuse(d, 0.02, t, 1.0, 0.5), 0.5 * d + 0.5 * t * 0.02)
    with pytest.raises(UserError, match="between 0 and 1"):
        check_weight(1.5)


def test_lite_scorers_fusion_limits(synth, cache):
    res = _run(synth, cache)
    (model,) = res.treid
    initial, infogain = res.runs
    for q_init, q_info, alone in zip(initial.queries, infogain.queries, model["positions"]):
        # the same lite scorer on the same initial description: round 0 is unchanged, and so is
        # the T-ReID model alone
        assert q_info.fused[model["name"]][0] == q_info.positions[0] == alone == q_init.positions[0]
    w0 = _run(synth, cache, treid_weight=0.0)
    w1 = _run(synth, cache, treid_weight=1.0)
    for q in w0.runs[1].queries:
        assert q.fused[w0.treid[0]["name"]] == q.positions  # weight 0: the interview alone
    for q, alone in zip(w1.runs[1].queries, w1.treid[0]["positions"]):
        assert all(p == alone for p in q.fused[w1.treid[0]["name"]])  # weight 1: the T-ReID model alone
    table = treid_summary(res)[0]
    assert table["fused"]["infogain"][-1]["R@1"] >= table["alone"]["R@1"]


def test_a_better_treid_model_lifts_the_fused_ranking(synth, cache, monkeypatch):
    """A second lite-style scorer that knows who each initial description is about (a perfect
    T-ReID model): fused with the interview it must rank better than the interview alone."""
    records = load_annotations(synth / "annotations.json")
    who = {r.initial_description: r.id for r in records}

    class Perfect:
        temperature = 1.0

        def __init__(self, ids):
            self.ids = ids

        def score(self, text, vectors):
            return (self.ids == who[text]).astype(np.float32) * 5.0

    def load(spec, gallery):
        path_id = {str(synth / r.file_path): r.id for r in records}
        rows = gallery.conn.execute("SELECT s.path, i.row FROM sources s JOIN images i ON i.sha256 = s.sha256")
        ids = np.zeros(len(gallery), dtype=np.int64)
        for path, row in rows:
            ids[row] = path_id[path]
        return GalleryTreid("perfect", {"kind": "test"}, Perfect(ids), np.zeros((len(gallery), 1), np.float32))

    monkeypatch.setattr("interreid.engine.treid.load_treid", load)
    res = _run(synth, cache, methods=("infogain",), rounds=2, treid=("perfect",))
    summary = treid_summary(res)[0]
    own = res.runs[0].per_round()[-1]
    assert summary["alone"]["R@1"] >= 90.0  # not 100: a few synthetic initial descriptions are shared by two people
    assert summary["fused"]["infogain"][-1]["R@1"] > own["R@1"]


@pytest.fixture(scope="module")
def two_packs(tiny_pack, tmp_path_factory):
    """The session's tiny random pack (seed 0) and a second one with other random weights (seed 1)."""
    from interreid.engine.full.pack import build_pack

    b = build_pack(tmp_path_factory.mktemp("treid-pack") / "b", random_weights=True, config=TINY, name="treid-b",
                   version="1.0", seed=1)
    return tiny_pack, b.folder


def test_two_random_packs_through_the_cli(two_packs, tmp_path, capsys):
    from interreid.engine.synth.dataset import generate

    synth = tmp_path / "synth"
    generate(synth, ids=8, images_per_id=2, seed=5, test_fraction=1.0)
    pack_a, pack_b = two_packs
    out = tmp_path / "bench.json"
    args = ["bench", "interactive", "--data", str(synth / "annotations.json"), "--images", str(synth),
            "--engine", "full", "--pack", str(pack_a), "--method", "initial,infogain", "--rounds", "2",
            "--limit", "6", "--treid", str(pack_b), "--cache", str(tmp_path / "cache"), "--json", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "paper Table 2" in printed and "treid-b 1.0 (untrained) (initial description)" in printed
    data = json.loads(out.read_text())
    (summary,) = data["treid"]
    assert summary["identity"]["manifest_sha256"] and summary["weight"] == 0.5
    assert set(summary["fused"]) == {"initial", "infogain"}
    for key in ("R@1", "R@5", "R@10", "mAP"):
        assert 0.0 <= summary["fused"]["infogain"][-1][key] <= 100.0
    # the two random models disagree: fused positions differ from the interactive model's own
    q = data["runs"]["infogain"]["per_query"]
    fused = [p["treid_positions"][summary["name"]] for p in q]
    assert any(f != p["correct_positions"] for f, p in zip(fused, q))
    # the T-ReID model's gallery vectors were computed once and kept beside the gallery
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.treid import load_treid

    (cached,) = list((tmp_path / "cache").glob("*/treid/pack-*.npz"))
    stamp = cached.stat().st_mtime_ns
    with Gallery.open(cached.parent.parent) as gallery:
        again = load_treid(str(pack_b), gallery)
        assert again.vectors.shape[0] == len(gallery) == 16
    assert cached.stat().st_mtime_ns == stamp


def test_interview_cli_records_and_resumes_the_treid_model(tmp_path, crops_dir, capsys, monkeypatch):
    import io

    gallery = tmp_path / "g"
    assert main(["gallery", "import", str(crops_dir), "--gallery", str(gallery)]) == 0
    case = tmp_path / "c.case"
    monkeypatch.setattr("sys.stdin", io.StringIO(":quit\n"))
    assert main(["interview", "--gallery", str(gallery), "--case", str(case), "--description",
                 "a man in a red top and blue trousers", "--treid", "lite", "--treid-weight", "0.3"]) == 0
    out = capsys.readouterr().out
    assert "re-ranked with the T-ReID model lite colour scorer (weight 0.3)" in out
    from interreid.engine.casefile import CaseFile

    with CaseFile.open(case) as cf:
        recorded = cf.metadata()["engine"]["treid"]
    assert recorded["weight"] == 0.3 and recorded["model"]["kind"] == "lite"
    monkeypatch.setattr("sys.stdin", io.StringIO(":quit\n"))
    assert main(["interview", "--case", str(case)]) == 0  # resumed with the model it was made with
    assert "(weight 0.3)" in capsys.readouterr().out


def test_unknown_treid_pack_is_one_sentence(synth, cache, capsys):
    code = main(["bench", "interactive", "--data", str(synth / "annotations.json"), "--images", str(synth),
                 "--method", "initial", "--treid", "no-such-pack", "--cache", str(cache)])
    err = capsys.readouterr().err
    assert code == 2 and "No model pack 'no-such-pack'" in err and "Traceback" not in err


def test_interview_ranks_with_the_fused_scores(tmp_path, crops_dir):
    """The interview's rankings are the fused ones: weight 1 ranks by the T-ReID model's match to
    the initial description at every round, weight 0 is the interview without it."""
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview
    from interreid.engine.treid import attach_treid

    assert main(["gallery", "import", str(crops_dir), "--gallery", str(tmp_path / "g")]) == 0
    with Gallery.open(tmp_path / "g") as gallery:
        plain = Interview(gallery, build_engine(gallery))
        plain.start("a man in a red top")
        after_plain = plain.answer("He wore blue trousers.", asked="What colour were his trousers?")
        only = Interview(gallery, attach_treid(build_engine(gallery), gallery, "lite", 1.0))
        only.start("a man in a red top")
        after_only = only.answer("He wore blue trousers.", asked="What colour were his trousers?")
        none = Interview(gallery, attach_treid(build_engine(gallery), gallery, "lite", 0.0))
        none.start("a man in a red top")
        after_none = none.answer("He wore blue trousers.", asked="What colour were his trousers?")
        initial_only = Interview(gallery, build_engine(gallery)).start("a man in a red top")
    assert after_none.rows.tolist() == after_plain.rows.tolist()
    assert after_only.rows.tolist() == initial_only.rows.tolist()  # the answer moved nothing
    assert after_plain.rows.tolist() != initial_only.rows.tolist()  # ... where it did without the T-ReID model


def _search_json(capsys, *args) -> dict:
    assert main(["search", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_search_fuses_like_the_interviews_first_ranking(tiny_pack, tmp_path, crops_dir, capsys):  # noqa: F811
    """`search --treid` ranks a description as an interview with the same T-ReID model ranks its
    initial description: the lite engine's scores fused with an (untrained) pack's, weight as given."""
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview
    from interreid.engine.treid import attach_treid

    gallery = tmp_path / "g"
    assert main(["gallery", "import", str(crops_dir), "--gallery", str(gallery)]) == 0
    capsys.readouterr()
    said = "a man in a red top and blue trousers"
    plain = _search_json(capsys, said, "--gallery", str(gallery), "--top", "12")
    fused = _search_json(capsys, said, "--gallery", str(gallery), "--top", "12", "--treid", str(tiny_pack),
                         "--treid-weight", "0.7")
    assert fused["engine"]["treid"]["weight"] == 0.7 and fused["engine"]["treid"]["model"]["kind"] == "pack"
    results = fused["results"]
    with Gallery.open(gallery) as g:
        engine = attach_treid(build_engine(g), g, str(tiny_pack), 0.7)
        t_lite, t_pack = engine.retriever.temperature, engine.treid.model.temperature
        first = Interview(g, engine).start(said)
        interview_order = [g.image(int(r)).sha256 for r in first.rows[:12]]
    assert [r["sha256"] for r in results] == interview_order  # the app's and the terminal interview's ranking
    for r in results:  # each score is the weighted average of the two, on the lite engine's scale
        assert r["score"] == pytest.approx(0.3 * r["retriever_score"] + 0.7 * r["treid_score"] * t_lite / t_pack,
                                           rel=1e-4, abs=1e-4)
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    # plain search has no second model; the untrained pack reorders it
    assert "treid" not in plain["engine"] and "retriever_score" not in plain["results"][0]
    assert [r["sha256"] for r in results] != [r["sha256"] for r in plain["results"]]
    # weight 0 is the plain search
    zero = _search_json(capsys, said, "--gallery", str(gallery), "--top", "12", "--treid", "lite",
                        "--treid-weight", "0")
    assert [r["sha256"] for r in zero["results"]] == [r["sha256"] for r in plain["results"]]


def test_search_treid_bad_input_is_one_sentence(tmp_path, crops_dir, capsys):
    gallery = tmp_path / "g"
    assert main(["gallery", "import", str(crops_dir), "--gallery", str(gallery)]) == 0
    capsys.readouterr()
    for extra, says in ((["--treid-weight", "0.3"], "--treid-weight needs --treid"),
                        (["--treid", "lite", "--treid-weight", "1.5"], "between 0 and 1"),
                        (["--treid", "no-such-pack"], "No model pack 'no-such-pack'")):
        code = main(["search", "a red top", "--gallery", str(gallery), *extra])
        err = capsys.readouterr().err
        assert code == 2 and says in err and "Traceback" not in err, (extra, err)
