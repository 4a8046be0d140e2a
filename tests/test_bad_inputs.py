"""The bad-input table: each kind of bad input -> exit status 2 (or the documented outcome), one
sentence on stderr, no traceback, nothing already saved lost. Runs the CLI in-process (fast)."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path

import pytest

from interreid.engine.casefile import CaseFile
from interreid.engine.cli.main import main
from imagemaker import write_person

NON_UTF8 = os.fsdecode(b"Caf\xe9")  # what Python makes of a Latin-1 argument: a lone surrogate


def cli(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def one_sentence(err: str) -> bool:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    return len(lines) == 1 and lines[0].startswith("interreid: ") and "Traceback" not in err


@pytest.fixture
def lite(tmp_path, crops_dir, capsys):
    """A lite gallery of the 12 test crops and a case on it."""
    g = tmp_path / "gallery"
    rc, _, err = cli(capsys, "gallery", "import", crops_dir, "--gallery", g)
    assert rc == 0, err
    case = tmp_path / "c.case"
    rc, _, err = cli(capsys, "case", "new", case, "--title", "Robbery", "--gallery", g)
    assert rc == 0, err
    return g, case


def case_ok(case) -> bool:
    with CaseFile.open(case) as c:
        return c.verify(rehash_images=False).ok


# -- the table -------------------------------------------------------------------------------------
def test_non_utf8_title_leaves_no_file(capsys, lite, tmp_path):
    g, _ = lite
    rc, _, err = cli(capsys, "case", "new", tmp_path / "x.case", "--title", NON_UTF8, "--gallery", g)
    assert rc == 2 and one_sentence(err) and "UTF-8" in err
    assert not list(tmp_path.glob("*x.case*"))  # no half-made file blocks the name
    rc, _, err = cli(capsys, "case", "new", tmp_path / "x.case", "--title", "Café", "--gallery", g)
    assert rc == 0, err


def test_non_utf8_note_and_description(capsys, lite):
    g, case = lite
    with CaseFile.open(case) as c:
        sha = c.gallery_snapshot()[0][1]
    rc, _, err = cli(capsys, "case", "mark", case, sha[:12], "match", "--note", NON_UTF8)
    assert rc == 2 and one_sentence(err)
    rc, _, err = cli(capsys, "interview", "--case", case, "--description", NON_UTF8)
    assert rc == 2 and one_sentence(err)
    assert case_ok(case)


def test_empty_description_is_refused_not_read_from_stdin(capsys, lite, monkeypatch):
    import io

    _, case = lite
    monkeypatch.setattr("sys.stdin", io.StringIO(":quit\n"))
    rc, _, err = cli(capsys, "interview", "--case", case, "--description", "")
    assert rc == 2 and one_sentence(err) and "--description is empty" in err
    with CaseFile.open(case) as c:
        assert c.meta("initial_description") is None


@pytest.mark.parametrize("args, words", [
    (["--rounds", "0"], "--rounds 0"),
    (["--show", "-1"], "--show -1"),
    (["--pack", "somepack"], "lite engine"),
    (["--json", "/nonexistent-folder/t.json"], "does not exist"),
])
def test_interview_option_checks(capsys, lite, args, words):
    _, case = lite
    rc, _, err = cli(capsys, "interview", "--case", case, "--description", "a man in red", *args)
    assert rc == 2 and one_sentence(err) and words in err
    assert case_ok(case)


def test_report_out_naming_a_folder(capsys, lite, tmp_path):
    _, case = lite
    (tmp_path / "r.pdf").mkdir()
    rc, _, err = cli(capsys, "case", "report", case, "--out", tmp_path / "r.pdf")
    assert rc == 2 and one_sentence(err) and "is a folder" in err


def test_json_into_a_missing_folder(capsys, crops_dir, tmp_path):
    rc, _, err = cli(capsys, "interview", "--gallery", tmp_path / "nothing", "--json", tmp_path / "no" / "t.json")
    assert rc == 2 and one_sentence(err)


def test_missing_or_empty_source_makes_no_gallery(capsys, tmp_path):
    rc, _, err = cli(capsys, "gallery", "import", tmp_path / "nope", "--gallery", tmp_path / "g1")
    assert rc == 2 and one_sentence(err) and not (tmp_path / "g1").exists()
    (tmp_path / "empty").mkdir()
    rc, _, err = cli(capsys, "gallery", "import", tmp_path / "empty", "--gallery", tmp_path / "g2")
    assert rc == 2 and one_sentence(err) and "no image files" in err and not (tmp_path / "g2").exists()


def test_fifo_dev_zero_and_huge_file_are_skipped_not_read(capsys, tmp_path):
    src = tmp_path / "src"
    write_person(src / "ok.jpg", "red", "blue")
    os.mkfifo(src / "x.png")
    os.symlink("/dev/zero", src / "zero.jpg")
    with open(src / "huge.jpg", "wb") as f:  # sparse: 400 MB on paper, nothing on disk
        f.truncate(400 * 2**20)
    rc, out, err = cli(capsys, "gallery", "import", src, "--gallery", tmp_path / "g")
    assert rc == 0, err
    assert "imported 1 new" in out and "not a regular file" in out and "too large" in out
    assert out.count("skipped ") >= 3


def test_non_utf8_file_name_is_skipped_and_the_rest_imported(capsys, tmp_path):
    src = tmp_path / "src"
    write_person(src / "a.jpg", "red", "blue", seed=1)
    write_person(src / "b.jpg", "green", "black", seed=2)
    bad = os.path.join(os.fsencode(src), b"caf\xe9.jpg")
    with open(bad, "wb") as f:
        f.write((src / "a.jpg").read_bytes()[:-1] + b"\x00")
    for _ in range(2):  # a re-run does not stop at the same file either
        rc, out, err = cli(capsys, "gallery", "import", src, "--gallery", tmp_path / "g")
        assert rc == 0, err
        assert "not valid text" in out and "caf\\xe9.jpg" in out
    rc, out, _ = cli(capsys, "gallery", "info", tmp_path / "g", "--json")
    import json

    assert json.loads(out)["images"] == 2


def test_overwritten_source_keeps_provenance_and_everything_works(capsys, tmp_path):
    import json

    src = tmp_path / "src"
    for i, c in enumerate(["red", "blue", "green"]):
        write_person(src / f"p{i}.jpg", c, "black", seed=i)
    g = tmp_path / "g"
    assert cli(capsys, "gallery", "import", src, "--gallery", g)[0] == 0
    write_person(src / "p0.jpg", "yellow", "white", seed=7)  # overwritten with another image
    assert cli(capsys, "gallery", "import", src, "--gallery", g)[0] == 0
    rc, out, err = cli(capsys, "gallery", "info", g, "--json")
    assert rc == 0 and json.loads(out)["duplicates"] == 0 and json.loads(out)["images"] == 4
    rc, out, err = cli(capsys, "search", "--gallery", g, "a person in red")
    assert rc == 0, err
    case = tmp_path / "c.case"
    assert cli(capsys, "case", "new", case, "--title", "T", "--gallery", g)[0] == 0
    rc, out, err = cli(capsys, "case", "verify", case)
    assert rc == 1 and "ALTERED" in out and "p0.jpg" in out  # the original was overwritten: said, not crashed


def test_gallery_inside_its_source_does_not_import_its_thumbnails(capsys, tmp_path):
    src = tmp_path / "src"
    for i, c in enumerate(["red", "blue"]):
        write_person(src / f"p{i}.jpg", c, "black", seed=i)
    for _ in range(2):
        rc, out, err = cli(capsys, "gallery", "import", src, "--gallery", src / "gallery")
        assert rc == 0, err
    assert "now holds 2 images" in out


def test_second_import_while_one_runs_is_one_sentence(capsys, lite, crops_dir):
    g, _ = lite
    fd = os.open(Path(g) / ".import.lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        rc, _, err = cli(capsys, "gallery", "import", crops_dir, "--gallery", g)
    finally:
        os.close(fd)
    assert rc == 2 and one_sentence(err) and "Another import" in err


def test_foreign_sqlite_file_is_refused_unchanged(capsys, tmp_path):
    foreign = tmp_path / "other.case"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    rc, _, err = cli(capsys, "case", "verify", foreign)
    assert rc == 2 and one_sentence(err) and "not an interreid case file" in err
    assert foreign.read_bytes() == before and not Path(f"{foreign}-wal").exists()


def test_resumed_case_stays_within_its_snapshot_until_extended(capsys, lite, tmp_path):
    from interreid.engine.casefile.case import InterviewRecords

    g, case = lite
    more = tmp_path / "more"
    for i, c in enumerate(["red", "red", "red"]):
        write_person(more / f"n{i}.jpg", c, "red", seed=40 + i)
    assert cli(capsys, "gallery", "import", more, "--gallery", g)[0] == 0
    script = "\n:quit\n"
    import io
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(script)
    try:
        rc, out, err = cli(capsys, "interview", "--case", case, "--description", "a man all in red")
    finally:
        sys.stdin = old
    assert rc == 0, err and "left out" in err
    with CaseFile.open(case) as c:
        held = {sha for _i, sha, _p in c.gallery_snapshot()}
        shown = {cand["sha256"] for cand in InterviewRecords(c).candidates()}
        assert shown and shown <= held
    rc, out, err = cli(capsys, "case", "extend", case)
    assert rc == 0 and "added 3 image(s)" in out
    with CaseFile.open(case) as c:
        assert [e.event for e in c.audit_entries()][-1] == "case.extended"
        assert len(c.gallery_snapshot()) == 15 and c.verify(rehash_images=False).ok


def test_gallery_locked_by_another_program_is_one_sentence(capsys, lite, tmp_path):
    from rawcase import raw_connect

    g, _ = lite
    more = tmp_path / "more"
    write_person(more / "n.jpg", "pink", "pink", seed=77)
    blocker = raw_connect(Path(g) / "gallery.db")  # another program holding the gallery's write lock
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        rc, _, err = cli(capsys, "gallery", "import", more, "--gallery", g)
    finally:
        blocker.rollback()
        blocker.close()
    assert rc == 2 and one_sentence(err) and "in use" in err
    rc, out, _ = cli(capsys, "gallery", "import", more, "--gallery", g)  # nothing lost; it resumes
    assert rc == 0 and "now holds 13 images" in out


def test_report_of_a_damaged_case_is_one_sentence(capsys, lite, tmp_path):
    from rawcase import raw_connect

    _, case = lite
    conn = raw_connect(case)
    conn.execute("DROP TABLE marks")
    conn.commit()
    conn.close()
    rc, _, err = cli(capsys, "case", "report", case, "--out", tmp_path / "r.html")
    assert rc == 2 and one_sentence(err) and "damaged" in err
    rc, out, _ = cli(capsys, "case", "verify", case)
    assert rc == 1 and "marks table is missing" in out
