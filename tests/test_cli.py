"""The command line as a user runs it: real subprocesses, real files, exit codes and messages."""

from __future__ import annotations

import json
import os
import sqlite3  # noqa: F401

from rawcase import raw_connect
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent


def run(*args, stdin: str | None = None, env_extra: dict | None = None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "interreid.engine.cli.main", *map(str, args)], capture_output=True,
                          text=True, input=stdin, cwd=ROOT, env=env, timeout=300)


@pytest.fixture
def gallery(tmp_path, crops_dir):
    bad = crops_dir / "bad"
    bad.mkdir()
    (bad / "zero.jpg").write_bytes(b"")
    (bad / "fake.png").write_text("not an image at all")
    out = run("gallery", "import", crops_dir, "--gallery", tmp_path / "g", "--json")
    assert out.returncode == 0, out.stderr
    return tmp_path / "g", json.loads(out.stdout)


def test_import_reports_skips_and_info(gallery):
    folder, report = gallery
    assert report["imported"] == 12 and report["gallery_images"] == 12
    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"zero.jpg", "fake.png"}
    info = run("gallery", "info", folder, "--json")
    data = json.loads(info.stdout)
    assert data["images"] == 12 and data["skipped"] == 2 and data["embedder"]["name"] == "lite-colour"
    assert data["index"]["backend"] == "exact" and data["cameras"] == ["cam01", "cam02", "cam03"]
    text = run("gallery", "info", folder).stdout
    assert "zero.jpg: empty file" in text


def test_gallery_info_shows_the_manifest_a_case_cites(tmp_path, lite_gallery):
    """A case and its report cite the gallery's manifest (a chained hash of its rows); 'gallery info' showed only the
    other hash, its fingerprint (over the sorted image hashes), and 'case show' called the manifest a
    'fingerprint': a reader comparing the two saw different values under one name."""
    from interreid.engine.cli.main import main

    case = tmp_path / "c.case"
    assert main(["case", "new", str(case), "--title", "T", "--gallery", str(lite_gallery)]) == 0
    cited = json.loads(run("case", "show", case, "--json").stdout)["metadata"]["gallery_fingerprint"]
    info = json.loads(run("gallery", "info", lite_gallery, "--json").stdout)
    assert info["manifest"] == {"rows": 12, "head": cited} and info["fingerprint"] != cited
    text = run("gallery", "info", lite_gallery).stdout
    assert f"manifest     {cited} (its first 12 images;" in text
    assert f"12 images, manifest {cited[:16]}" in run("case", "show", case).stdout


def test_user_mistakes_give_one_sentence_and_status_2(tmp_path, gallery):
    folder, _ = gallery
    for args in (("gallery", "import", tmp_path / "missing", "--gallery", tmp_path / "x"),
                 ("gallery", "info", tmp_path / "nothing"),
                 ("search", "--gallery", tmp_path / "nothing", "red"),
                 ("case", "show", tmp_path / "nope.case")):
        out = run(*args)
        assert out.returncode == 2, args
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr
    notcase = tmp_path / "x.case"
    notcase.write_text("hello")
    out = run("case", "verify", notcase)
    assert out.returncode == 2 and "not an interreid case file" in out.stderr


def test_search_json(gallery):
    folder, _ = gallery
    out = run("search", "--gallery", folder, "a man in a red jacket and blue jeans", "--top", "3", "--json")
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)["results"]
    assert len(results) == 3 and results[0]["rank"] == 1 and len(results[0]["sha256"]) == 64
    assert results[0]["score"] >= results[1]["score"] >= results[2]["score"]
    assert "upper" in results[0]["reasons"]


def test_case_new_interview_verify_and_tamper(tmp_path, gallery):
    folder, _ = gallery
    case = tmp_path / "Fall Müller.case"
    out = run("case", "new", case, "--title", "Robbery", "--investigator", "Det. Ray", "--gallery", folder)
    assert out.returncode == 0, out.stderr
    script = "\n".join(["", "The trousers were blue.", "What about shoes?", "I don't know", ":quit"]) + "\n"
    out = run("interview", "--case", case, "--description", "a woman in a red top", "--json", "-", stdin=script)
    assert out.returncode == 0, out.stderr
    assert "Suggested question:" in out.stdout and "case saved" in out.stdout
    shown = run("case", "show", case, "--json")
    rounds = json.loads(shown.stdout)["rounds"]
    assert [r["answer"] for r in rounds] == ["The trousers were blue.", "I don't know"]
    assert rounds[1]["asked"] == "What about shoes?"
    ok = run("case", "verify", case)
    assert ok.returncode == 0 and "chain intact" in ok.stdout
    conn = raw_connect(case)
    conn.execute("UPDATE rounds SET answer = 'Green.' WHERE round = 1")
    conn.commit()
    conn.close()
    bad = run("case", "verify", case, "--json")
    assert bad.returncode == 1 and not json.loads(bad.stdout)["chain_ok"]


def test_quit_at_the_answer_prompt_records_nothing(tmp_path, gallery):
    """':quit' typed where the witness's answer goes stops the interview; it is never recorded as the
    witness's words (scripted input used to record it)."""
    folder, _ = gallery
    case = tmp_path / "q.case"
    assert run("case", "new", case, "--title", "Q", "--gallery", folder).returncode == 0
    out = run("interview", "--case", case, "--description", "a woman in a red top", stdin="Black.\n:quit\n")
    assert out.returncode == 0, out.stderr
    rounds = json.loads(run("case", "show", case, "--json").stdout)["rounds"]
    assert rounds == []


def test_demo_terminal_runs_interview(tmp_path):
    if not (ROOT / "resources" / "demo" / "crops").is_dir():
        pytest.skip("demo crops not bundled in this checkout")
    out = run("demo", "--terminal", "--description", "a person in dark clothes", stdin="\nBlack.\n:quit\n",
              env_extra={"INTERREID_DATA": str(tmp_path / "data")})
    assert out.returncode == 0, out.stderr
    assert "Round 2" in out.stdout and "case saved" in out.stdout
    cases = list((tmp_path / "data" / "cases").glob("demo-*.case"))
    assert len(cases) == 1


def test_bench_speed_quick(tmp_path):
    out = run("bench", "speed", "--quick", "--json", tmp_path / "speed.json")
    assert out.returncode == 0, out.stderr
    rows = json.loads((tmp_path / "speed.json").read_text())["rows"]
    names = [r["name"] for r in rows]
    assert any("lite import" in n for n in names) and any("hnswlib search" in n for n in names)
    video = [r for r in rows if r["group"] == "video"]
    if (ROOT / "resources" / "demo" / "vtest.avi").is_file():
        assert video and video[0]["ratio_vs_reference"] > 0 and set(video[0]["stage_share"]) >= {"decode", "detect"}
    enc = next(r for r in rows if r["name"].startswith("import, encrypted gallery"))
    assert enc["ratio_vs_reference"] > 0  # encrypted import measured against the plain one in the same run
    recall = next(r for r in rows if "recall" in r["name"])
    assert recall["value"] >= 0.95


def test_cli_index_backends_are_the_engines():
    from interreid.engine.cli.gallery_index import BACKENDS as CLI_BACKENDS
    from interreid.engine.gallery.index import BACKENDS

    assert CLI_BACKENDS == BACKENDS  # the CLI spells them out only so that --help imports no numpy
