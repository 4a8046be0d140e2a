"""A case whose gallery is not where it was (moved, renamed, a drive not connected): one sentence that says so
when the interview is resumed, and a verification and a report that say the gallery was not checked, never that
the case's audit log is broken or its records were changed."""

from __future__ import annotations

from interreid.engine.casefile import CaseFile
from interreid.engine.cli.main import main


def _moved_case(tmp_path, lite_gallery):
    case = tmp_path / "moved.case"
    assert main(["case", "new", str(case), "--title", "Moved gallery", "--gallery", str(lite_gallery)]) == 0
    lite_gallery.rename(tmp_path / "gallery-moved")
    return case


def test_resuming_says_the_gallery_moved_and_how_to_point_at_it(tmp_path, lite_gallery, capsys):
    case = _moved_case(tmp_path, lite_gallery)
    capsys.readouterr()
    assert main(["interview", "--case", str(case), "--description", "a red top"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is no longer at" in err and "--gallery DIR" in err
    assert "import images into it first" not in err  # it was made; importing again is not the remedy


def test_verify_and_report_say_the_gallery_was_not_checked_not_that_the_case_was_altered(tmp_path, lite_gallery,
                                                                                          capsys):
    from interreid.engine.report import write_report

    case = _moved_case(tmp_path, lite_gallery)
    with CaseFile.open(case) as c:
        result = c.verify()
    assert not result.ok and result.chain_ok and result.unchecked and not result.data_problems
    capsys.readouterr()
    assert main(["case", "verify", str(case)]) == 1
    out = capsys.readouterr().out
    assert "chain intact" in out and "BROKEN" not in out
    assert "CASE NOT FULLY VERIFIED: its gallery could not be checked" in out
    html = write_report(case, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Audit chain: intact" in html and "GALLERY NOT CHECKED" in html
    assert "FAILED VERIFICATION" not in html and "could not be checked when this report was written" in html
