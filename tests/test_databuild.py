"""``interreid data build`` (paper §3.2) against a stub OpenAI-compatible server on 127.0.0.1.

The stub (``databuild_stub.py``) answers by rule and invents a detail for every sentence about a
backpack, so validation must catch exactly those answers. Resume is tested by killing a build
with SIGKILL while it runs and running it again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from databuild_stub import StubServer
from imagemaker import write_person

from interreid.engine.cli.main import main
from interreid.engine.databuild.pipeline import BuildSettings, build, starting_text
from interreid.engine.databuild.prompts import parse_numbered, parse_qa, subject_of, tidy_text
from interreid.engine.databuild.sources import Item
from interreid.engine.databuild.stats import compute_stats
from interreid.engine.databuild.validate import check_answer, identity_split
from interreid.engine.errors import UserError
from interreid.engine.evaluation.annotations import load_annotations

REPO = Path(__file__).resolve().parent.parent
COLOURS = ["red", "blue", "green", "yellow", "black", "white"]


@pytest.fixture
def people(tmp_path) -> Path:
    """8 people (sub-folders) x 2 images."""
    root = tmp_path / "people"
    for p in range(8):
        for n in range(2):
            write_person(root / f"person{p}" / f"{n}.jpg", COLOURS[p % 6], COLOURS[(p + 2) % 6], seed=10 * p + n)
    return root


def _build(src, out, url, **kw) -> object:
    return build(BuildSettings(source=Path(src), out=Path(out), endpoint=url, identity="folder", **kw))


def test_build_from_images_writes_valid_interactive_pedes(people, tmp_path):
    with StubServer() as stub:
        report = _build(people, tmp_path / "out", stub.url, parallel=3)
        made = len(stub.requests)
    records = load_annotations(report.annotations)  # the format train and bench read
    assert len(records) == 16 and report.records == 16
    # step 1 went to the endpoint with the image inline; each record says who made what
    coarse = [r for r in stub.requests if isinstance(r["messages"][0]["content"], list)]
    assert len(coarse) == 2 * 16  # coarse + fine per image
    for rec in records:
        build_info = rec.extra["build"]
        assert build_info["prompt_version"] == "llava-reid-tables5-8/1"
        assert build_info["models"]["dialogue"]["model"] == "stub-model"
        assert len(build_info["image_sha256"]) == 64
        assert rec.initial_description.startswith("I saw a man in a ")
        assert rec.fine_grained_description.startswith(rec.initial_description)
        assert len(rec.questions) == len(rec.answers) == len(rec.extra["question_types"]) >= 1
        # sub-captions leave out the initial description (step 2)
        assert all("jacket" not in c for c in rec.captions) and len(rec.captions) == 3
        # the invented hat was dropped; no kept answer restates the initial description
        assert not any("purple hat" in a for a in rec.answers)
    # validation: exactly the backpack answers fail (one of three per image)
    assert report.qa_checked == 48 and report.qa_failed == 16
    # identities split by person, never across splits
    split_of = {}
    for rec in records:
        assert split_of.setdefault(rec.id, rec.split) == rec.split
    assert set(split_of.values()) <= {"train", "val", "test"} and len(split_of) == 8
    # statistics and the plot
    info = json.loads((tmp_path / "out" / "build.json").read_text())
    assert info["qa_failed_share"] == pytest.approx(16 / 48, abs=1e-3)
    assert (tmp_path / "out" / "stats.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert made == report.calls


def test_flag_mode_keeps_failing_answers_marked(people, tmp_path):
    with StubServer() as stub:
        report = _build(people, tmp_path / "out", stub.url, invalid="flag", limit=4)
    records = load_annotations(report.annotations)
    hats = [(r, i) for r in records for i, a in enumerate(r.answers) if "purple hat" in a]
    assert len(hats) == 4
    for rec, i in hats:
        verdict = rec.extra["validation"]["per_answer"][i]
        assert verdict["supported"] is False and verdict["ok"] is False


def test_second_run_uses_the_cache_and_a_new_prompt_version_does_not(people, tmp_path):
    with StubServer() as stub:
        first = _build(people, tmp_path / "out", stub.url, limit=3)
        n = len(stub.requests)
        again = _build(people, tmp_path / "out", stub.url, limit=3)
        assert len(stub.requests) == n and again.calls == 0 and again.cached_calls == n
        assert (tmp_path / "out" / "annotations.json").read_text() == first.annotations.read_text()
        prompts = (REPO / "resources" / "prompts" / "databuild.yaml").read_text()
        custom = tmp_path / "p.yaml"
        custom.write_text(prompts.replace('version: "llava-reid-tables5-8/1"', 'version: "mine/2"'))
        other = _build(people, tmp_path / "out2", stub.url, limit=3, prompts=custom)
        assert other.calls == n  # same images, new prompt version: every call made again
        assert load_annotations(other.annotations)[0].extra["build"]["prompt_version"] == "mine/2"


def test_parallel_requests_are_bounded(people, tmp_path):
    with StubServer(delay=0.05) as stub:
        _build(people, tmp_path / "out", stub.url, parallel=3, limit=8)
    assert 2 <= stub.max_in_flight <= 3


def test_killed_build_resumes_where_it_stopped(people, tmp_path):
    out = tmp_path / "out"
    with StubServer(delay=0.05) as stub:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen([sys.executable, "-m", "interreid.engine.cli.main", "data", "build", str(people), str(out),
                                 "--endpoint", stub.url, "--identity", "folder", "--parallel", "2"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        calls = out / ".build" / "calls.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not calls.exists() or calls.read_text().count("\n") < 20):
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert not (out / "annotations.json").exists()  # it really was stopped part-way
        saved = calls.read_text().count("\n")
        before = len(stub.requests)
        resumed = _build(people, out, stub.url, parallel=2)
        assert resumed.cached_calls >= saved - 1 >= 19
        assert len(stub.requests) - before == resumed.calls
        fresh = _build(people, tmp_path / "fresh", stub.url, parallel=1)
    total = fresh.calls
    assert resumed.calls + resumed.cached_calls == total  # nothing asked twice, nothing missing
    assert resumed.annotations.read_text() == fresh.annotations.read_text()  # same result as uninterrupted


def test_from_treid_annotations_with_captions(tmp_path):
    """CUHK-PEDES-style (file_path) and RSTPReid-style (img_path) records, captions only; the
    splits of the source are kept; person ids stay the source's."""
    root = tmp_path / "imgs"
    for i in range(3):
        write_person(root / f"{i}.jpg", COLOURS[i], "black", seed=i)
    cap = ["A man in a red jacket.",
           "A man in a red jacket and black trousers. He carries a black backpack. He wears white sneakers."]
    data = [{"id": 7, "split": "train", "file_path": "0.jpg", "captions": cap},
            {"id": 7, "split": "train", "img_path": "1.jpg", "captions": cap},
            {"id": 9, "split": "test", "file_path": "2.jpg", "captions": [cap[1]]}]
    src = tmp_path / "reid.json"
    src.write_text(json.dumps(data))
    with StubServer() as stub:
        report = build(BuildSettings(source=src, out=tmp_path / "out", images=root, endpoint=stub.url))
        seen = [r["messages"][0]["content"] for r in stub.requests if isinstance(r["messages"][0]["content"], list)]
    # the caption is the initial description; the vision model writes only the fine-grained one (Table 6)
    assert len(seen) == 3 and all(c[1]["text"].startswith("Describe the person in the image") for c in seen)
    recs = load_annotations(report.annotations)
    assert [(r.id, r.split) for r in recs] == [(7, "train"), (7, "train"), (9, "test")]
    assert recs[0].initial_description == cap[0] and recs[0].fine_grained_description.startswith(cap[0])
    assert recs[2].initial_description == "A man in a red jacket and black trousers."
    assert recs[0].extra["build"]["models"]["initial"] == "source"
    assert recs[0].extra["build"]["models"]["fine"]["model"] == "stub-model"


def test_output_feeds_bench_interactive(people, tmp_path, capsys):
    with StubServer() as stub:
        report = _build(people, tmp_path / "out", stub.url, splits={"test": 1.0})
    code = main(["bench", "interactive", "--data", str(report.annotations), "--images", str(report.images_root),
                 "--method", "initial", "--cache", str(tmp_path / "cache")])
    assert code == 0
    assert "R@1" in capsys.readouterr().out


def test_user_errors(people, tmp_path, capsys):
    src = tmp_path / "caps.json"
    write_person(tmp_path / "i" / "a.jpg", "red", "blue", seed=1)
    src.write_text(json.dumps([{"id": 1, "file_path": "a.jpg", "captions": ["A man."]}]))
    with pytest.raises(UserError, match="no model given|No model given"):
        build(BuildSettings(source=people, out=tmp_path / "o1"))
    with pytest.raises(UserError, match="image root"):
        build(BuildSettings(source=src, out=tmp_path / "o2", endpoint="http://127.0.0.1:9/v1"))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with StubServer() as stub, pytest.raises(UserError, match="other files"):
        _build(people, tmp_path / "busy", stub.url)
    # a text model cannot describe images: refused before anything loads
    with pytest.raises(UserError, match="have no description"):
        build(BuildSettings(source=people, out=tmp_path / "o3", text_model=str(tmp_path / "caps.json")))
    # an endpoint that is down: one sentence, exit 2, nothing else
    code = main(["data", "build", str(src), str(tmp_path / "o4"), "--images", str(tmp_path / "i"),
                 "--endpoint", "http://127.0.0.1:9/v1"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot be reached" in err and "Traceback" not in err


def test_split_is_deterministic_by_identity():
    names = [f"p{i}" for i in range(100)]
    a = identity_split(names, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=0)
    b = identity_split(list(reversed(names)) + names[:5], {"train": 0.8, "val": 0.1, "test": 0.1}, seed=0)
    assert a == b
    assert sorted(a.values()).count("train") == 80 and list(a.values()).count("test") == 10
    c = identity_split(names, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=1)
    assert c != a and list(c.values()).count("val") == 10


def test_parsers_validation_and_stats():
    assert parse_numbered("Sentences:\n1. He has black hair.\n2) She wears red.\n\n3. He has black hair.") == [
        "He has black hair.", "She wears red."]
    q, a, opts = parse_qa("Question: What colour are his shoes?\nA) red\nB) white\nC) blue\nD) black\n"
                          "Answer: His shoes are white.")
    assert q == "What colour are his shoes?" and a == "His shoes are white." and len(opts) == 4
    assert parse_qa('The question is: "What is she wearing?"')[:2] == ("What is she wearing?", "")
    # what a small local model writes: labelled paragraphs, a phrase looped until the token limit
    raw = ("Original description: A man in a red jacket.\n\nRewrite description: He has short hair, wearing "
           "jeans. He has a medium build, wearing jeans, wearing jeans, wearing jeans. He is tall, wearing")
    assert tidy_text(raw) == "He has short hair, wearing jeans. He has a medium build."
    assert subject_of("She wears a coat. Her hair is blonde.") == "woman"
    assert subject_of("The pedestrian walks.") == "person"
    fine = "A man in a red jacket. He wears grey trousers and carries a black backpack."
    assert check_answer("Yes, his trousers are gray.", "A man in a red jacket.", fine)["supported"]
    assert not check_answer("He wears a purple hat.", "A man in a red jacket.", fine)["supported"]
    assert check_answer("Yes, a red jacket.", "A man in a red jacket.", fine)["repeats_initial"]
    item = Item("a.jpg", Path("a.jpg"), "0" * 64, "1", captions=["Short one.", "A much longer caption here."])
    assert starting_text(item)[:2] == ("Short one.", "A much longer caption here.")
    from interreid.engine.evaluation.annotations import Record

    recs = [Record("train", 1, "a.jpg", "a man in red", "one two three four five", ["q1", "q2"], ["a", "b"], [],
                   {"question_types": ["descriptive", "yes_no_positive"]}),
            Record("test", 2, "b.jpg", "a woman", "one two three", ["q"], ["a"], [],
                   {"question_types": ["multiple_choice"]})]
    st = compute_stats(recs)
    assert st["initial"]["max"] == 4 and st["initial"]["min"] == 2 and st["fine"]["mean"] == 4.0
    assert st["fine"]["unique_words"] == 5 and st["rounds"]["mean"] == 1.5
    assert st["question_types"] == {"descriptive": pytest.approx(1 / 3, abs=1e-3),
                                    "multiple choice": pytest.approx(1 / 3, abs=1e-3),
                                    "yes/no": pytest.approx(1 / 3, abs=1e-3)}


# SLOW, opt-in (about 50 s on two busy cores): `train retriever` reads a built file.
@pytest.mark.skipif(os.environ.get("INTERREID_SLOW_TESTS") != "1", reason="slow: set INTERREID_SLOW_TESTS=1")
@pytest.mark.timeout(600)
def test_output_feeds_train_retriever(people, tmp_path):
    with StubServer() as stub:
        report = _build(people, tmp_path / "out", stub.url, splits={"train": 0.5, "test": 0.5})
    sets = [f"data.annotations={report.annotations}", f"data.images={report.images_root}",
            "model.config=clip-reid-tiny", "mlm.depth=1", "train.warmup_epochs=1", "train.epochs=1",
            "train.batch_size=8"]
    argv = ["train", "retriever", "--out", str(tmp_path / "ret"), "--json", str(tmp_path / "ret.json")]
    for s in sets:
        argv += ["--set", s]
    assert main(argv) == 0
    result = json.loads((tmp_path / "ret.json").read_text())
    assert result["train_images"] == 8 and result["test_images"] == 8 and result["epochs_done"] == 1


def test_stats_command(people, tmp_path, capsys):
    with StubServer() as stub:
        report = _build(people, tmp_path / "out", stub.url, limit=4)
    png = tmp_path / "fig5.png"
    assert main(["data", "stats", str(report.annotations), "--plot", str(png)]) == 0
    printed = capsys.readouterr().out
    assert "Initial descriptions" in printed and "Fine-grained" in printed and "Question types" in printed
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["data", "stats", str(report.annotations), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["records"] == 4 and stats["fine"]["max"] >= stats["fine"]["min"] > stats["initial"]["max"]
    assert main(["data", "stats", str(report.annotations), "--plot", str(tmp_path / "x.jpg")]) == 2


def test_a_server_failing_mid_build_stops_it_and_loses_nothing(people, tmp_path):
    out = tmp_path / "out"
    with StubServer(fail_after=25) as stub:
        with pytest.raises(UserError, match="refused the request"):
            _build(people, out, stub.url, parallel=2)
        # stopped at once: a worker may finish a call or two before it sees the stop, not go on (112 in all)
        assert len(stub.requests) <= 25 + 6
    saved = (out / ".build" / "calls.jsonl").read_text().count("\n")
    assert saved >= 20
    with StubServer() as stub:
        report = _build(people, out, stub.url, parallel=2)
    assert report.cached_calls == saved and report.records == 16


def test_from_a_gallery(crops_dir, tmp_path):
    gallery = tmp_path / "gallery"
    assert main(["gallery", "import", str(crops_dir), "--gallery", str(gallery)]) == 0
    with StubServer() as stub:
        report = build(BuildSettings(source=gallery, out=tmp_path / "out", endpoint=stub.url))
    records = load_annotations(report.annotations)
    assert len(records) == 12 and len({r.id for r in records}) == 12  # each image its own person
    assert report.images_root == crops_dir.absolute()  # the originals, not the gallery's thumbnails
    assert all((report.images_root / r.file_path).is_file() for r in records)
    from interreid.engine.hashing import sha256_file

    assert all(sha256_file(report.images_root / r.file_path) == r.extra["build"]["image_sha256"] for r in records)
