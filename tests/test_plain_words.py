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
