"""Words an investigator reads in the terminal interview: the question's reason without information-theory
units and each candidate's match in words (the engine's own words and figures kept in the --json transcript and
the case file), and how sure each understood statement is in plain words."""

from __future__ import annotations

import io
import json
import re

from interreid.engine.cli.main import main


def test_cli_reason_line_is_plain_and_the_json_transcript_keeps_the_number(lite_gallery, tmp_path, monkeypatch,
                                                                            capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("\nBlue.\n:quit\n"))
    out_json = tmp_path / "t.json"
    case = tmp_path / "c.irc"
    assert main(["interview", "--gallery", str(lite_gallery), "--case", str(case), "--json", str(out_json),
                 "--description", "A man in a red jacket, I think, dark blonde hair."]) == 0
    out = capsys.readouterr().out
    assert "(why: The best-ranked images differ most in " in out
    assert "bits" not in out and "expected gain" not in out and "weighed by how reliably" not in out
    # how sure each statement is, in plain words, and the witness's shade kept with their word
    assert "top: red (less sure)" in out and "hair/head: dark yellow (said ‘dark blonde’; less sure)" in out
    assert "hedged" not in out and not re.search(r"\bfirm\b", out)
    # each candidate's match in words ("Top: red likely."), the engine's figures ("upper: red 0.86") in --json
    lines = [line for line in out.splitlines() if line.startswith("  candidate rank")]
    assert lines and all("likely" in line or "possible" in line or "unlikely" in line for line in lines)
    assert not any(re.search(r"upper: \w+ [01]\.\d", line) for line in lines)
    rounds = json.loads(out_json.read_text(encoding="utf-8"))["rounds"]
    assert len(rounds[0]["candidates"]) == len(lines[:len(rounds[0]["candidates"])])
    assert all(re.search(r"upper: \w+ [01]\.\d", c["reasons"]) for c in rounds[0]["candidates"])
    assert rounds[0]["questioner"] == "infogain" and "expected gain" in rounds[0]["rationale"]
    assert rounds[0]["why"].startswith("The best-ranked images differ most in") and "bits" not in rounds[0]["why"]
    # the case file keeps the questioner's own words too (the report's technical line shows them)
    from interreid.engine.casefile import CaseFile
    from interreid.engine.casefile.case import InterviewRecords

    with CaseFile.open(case) as c:
        assert "expected gain" in InterviewRecords(c).rounds()[0]["rationale"]


def test_a_case_whose_corrections_were_recorded_in_the_old_words_shows_the_new_ones(lite_gallery, tmp_path):
    """Earlier versions stored the label shown ("top: red (firm)") beside each correction's key; labels are worked
    out again from the witness's words, so such a case resumes, and reports, in the new words; the stored key is
    what counts."""
    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview
    from interreid.engine.report.data import collect

    path = tmp_path / "old.case"
    with Gallery.open(lite_gallery) as g:
        engine = build_engine(g)
        with CaseFile.create(path, "t", "tester", g, engine.identity()) as case:
            iv = Interview(g, engine, case=case)
            iv.start("A man in a red jacket. Blue jeans, I think.")
            iv.correct("upper red +")
            old = [dict(c, label="top: red (firm)") for c in iv.corrections]  # as an earlier version stored it
            case.set_meta("corrections", json.dumps(old))
        with CaseFile.open(path) as case:
            state = Interview(g, build_engine(g), case=case).resume()
            report = collect(case).understood
    first = state.understood[0]
    assert first["removed"] == ["top: red (sure)"] and "trousers/legs: blue (less sure)" in first["constraints"]
    assert "[drop upper red +]" in state.query  # the stored key still removes it
    assert "top: red (sure) — removed by the investigator" in report[0]["constraints"]
    assert not any("firm" in label or "hedged" in label for u in report for label in u["constraints"])


def test_cli_search_gives_each_result_in_words_and_json_keeps_the_figures(lite_gallery, capsys):
    assert main(["search", "--gallery", str(lite_gallery), "a man in a red jacket and blue jeans"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines and all("Top: red " in line for line in lines[:1])
    assert not any(re.search(r"upper: \w+ [01]\.\d", line) for line in lines)
    assert main(["search", "--gallery", str(lite_gallery), "--json", "a man in a red jacket and blue jeans"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert results and re.search(r"upper: \w+ [01]\.\d", results[0]["reasons"])
