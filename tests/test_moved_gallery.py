"""A case whose gallery is not where it was (moved, renamed, a drive not connected): one sentence that says so
when the interview is resumed, and a verification and a report that say the gallery was not checked, never that
the case's audit log is broken or its records were changed. Likewise a case checked against the wrong file as its
report: one sentence about the file, not a verdict on the case."""

from __future__ import annotations

from pathlib import Path

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
    assert "it is not at that place (moved, renamed" in html and "import images into it first" not in html


def test_verifying_against_the_wrong_file_says_so_in_one_sentence(tmp_path, lite_gallery, capsys):
    """`case verify CASE --report R` with another case's report, or a file that is no report: the user's mistake,
    one sentence and status 2; it printed 'audit log: … BROKEN' and 'CASE FAILED VERIFICATION' for a sound case."""
    from interreid.engine.report import write_report

    mine, other = tmp_path / "mine.case", tmp_path / "other.case"
    for case in (mine, other):
        assert main(["case", "new", str(case), "--title", case.stem, "--gallery", str(lite_gallery)]) == 0
    theirs = write_report(other, tmp_path / "other.html")
    notes = tmp_path / "witness notes.txt"
    notes.write_text("not a report", encoding="utf-8")
    capsys.readouterr()
    for report, said in ((theirs, "is the report of another case"), (notes, "carries no case head")):
        assert main(["case", "verify", str(mine), "--report", str(report)]) == 2
        captured = capsys.readouterr()
        assert said in captured.err and captured.err.count("\n") == 1 and "BROKEN" not in captured.out
    ours = write_report(mine, tmp_path / "mine.html")
    capsys.readouterr()
    assert main(["case", "verify", str(mine), "--report", str(ours)]) == 0


def test_the_app_says_the_report_is_another_cases(qtbot, tmp_path, lite_gallery):
    """File → Verify against a report, with another case's report: one sentence, not 'This case file has been
    altered outside interreid'."""
    import pytest

    pytest.importorskip("pytestqt")
    from PySide6.QtCore import QSettings

    from interreid.desktop.main_window import MainWindow
    from interreid.engine.report import write_report

    mine, other = tmp_path / "mine.case", tmp_path / "other.case"
    for case in (mine, other):
        assert main(["case", "new", str(case), "--title", case.stem, "--gallery", str(lite_gallery)]) == 0
    theirs = write_report(other, tmp_path / "other.html")
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.open_case(mine)
    qtbot.waitUntil(lambda: window.last_verification is not None and not window.session.busy, timeout=60000)
    window.verify_against_report(str(theirs))
    qtbot.waitUntil(lambda: window.banner.isVisible() and not window.session.busy, timeout=60000)
    text = window.banner.text()
    assert "is the report of another case" in text and "altered outside interreid" not in text
    window.session.close()


def test_relocate_records_the_gallerys_new_folder_only_for_the_same_gallery(tmp_path, lite_gallery, crops_dir,
                                                                            capsys, monkeypatch):
    """`case relocate CASE --gallery DIR`: an audited step after which the interview resumes and the case
    verifies; a folder with another gallery, or none, is refused in one sentence and nothing is recorded."""
    from interreid.engine.session import import_into

    case = _moved_case(tmp_path, lite_gallery)
    other = tmp_path / "other"
    import_into(other, [crops_dir / "cam01"], engine="lite")
    capsys.readouterr()
    for folder, said in ((other, "holds another gallery"), (tmp_path / "crops", "holds no interreid gallery")):
        assert main(["case", "relocate", str(case), "--gallery", str(folder)]) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err and err.count("\n") == 1
    with CaseFile.open(case) as c:
        assert not any(e.event == "case.gallery_moved" for e in c.audit_entries())
    moved = tmp_path / "gallery-moved"
    assert main(["case", "relocate", str(case), "--gallery", str(moved)]) == 0
    assert f"its gallery is now at {moved}" in capsys.readouterr().out
    with CaseFile.open(case) as c:
        assert c.meta("gallery_path") == str(moved)
        step = [e for e in c.audit_entries() if e.event == "case.gallery_moved"]
        assert len(step) == 1 and step[0].params["to"] == str(moved) and step[0].params["from"].endswith("gallery")
        assert c.verify().ok
    assert main(["case", "relocate", str(case), "--gallery", str(moved)]) == 0
    assert "nothing changed" in capsys.readouterr().out
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(":quit\n"))
    assert main(["interview", "--case", str(case), "--description", "a red top"]) == 0


def test_the_app_offers_to_locate_a_moved_gallery_and_opens_the_case(qtbot, tmp_path, lite_gallery, monkeypatch):
    """Opening a case whose gallery was moved: the window asks where it is now, the case records the new folder
    (audited), and the case opens; declining leaves the window as it was, with the reason."""
    import pytest

    pytest.importorskip("pytestqt")
    from PySide6.QtWidgets import QFileDialog, QMessageBox
    from test_desktop_interview import WAIT, idle, make_window

    case = _moved_case(tmp_path, lite_gallery)
    moved = tmp_path / "gallery-moved"
    window = make_window(qtbot, tmp_path)
    answers = iter([QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: next(answers))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(moved))
    window.open_case(case)
    qtbot.waitUntil(lambda: idle(window) and window.banner.isVisible(), timeout=WAIT)
    assert "no longer at" in window.banner.text() and not window.session.is_open
    assert "interreid case relocate" not in window.banner.text()  # the command line's advice is not the app's
    window.open_case(case)
    qtbot.waitUntil(lambda: window.session.is_open and idle(window), timeout=WAIT)
    assert window.session.opened_case.path == case and str(window.session.gallery.folder) == str(moved)
    window.close_case()
    with CaseFile.open(case) as c:
        assert c.meta("gallery_path") == str(moved)


def test_a_moved_video_gallery_is_checked_in_its_new_folder(tmp_path, demo_clip, capsys):
    """A gallery cut from video keeps its crops in its own folder. Moved and relocated, its case verified every
    crop at the old folder: '169 missing' and, in the app, 'This case's evidence has changed since it was
    recorded', over a case and a gallery in which nothing had changed (found in a new user's trial); the
    details view fell back to the thumbnail."""
    import pytest

    from interreid.engine.gallery.store import Gallery

    if demo_clip is None:
        pytest.skip("resources/demo/vtest.avi is missing")
    footage = tmp_path / "footage"
    footage.mkdir()
    (footage / "clip.avi").write_bytes(demo_clip.read_bytes())
    gallery, moved, case = tmp_path / "gallery", tmp_path / "gallery-moved", tmp_path / "video.case"
    assert main(["gallery", "import", str(footage), "--gallery", str(gallery)]) == 0  # encrypted: crops sealed
    assert main(["case", "new", str(case), "--title", "Video", "--gallery", str(gallery)]) == 0
    with Gallery.open(gallery) as g:
        first = g.image(0)
        size = g.load_image(0).size
    assert len(first.sources) == 1 and first.sources[0].startswith(str(gallery / "crops"))
    gallery.rename(moved)
    assert main(["case", "relocate", str(case), "--gallery", str(moved)]) == 0
    capsys.readouterr()
    assert main(["case", "verify", str(case)]) == 0
    out = capsys.readouterr().out
    assert " 0 missing" in out and "MISSING" not in out and "1 source videos re-hashed" in out
    with Gallery.open(moved) as g:
        assert g.image(0).sources == (str(moved / Path(first.sources[0]).relative_to(gallery)),)
        assert g.load_image(0).size == size == (first.width, first.height)  # the crop itself, not its thumbnail
        assert all(p is None or p.startswith(str(moved)) for _r, _s, p in g.snapshot())
    lost = moved / Path(first.sources[0]).relative_to(gallery)
    lost.unlink()  # a crop lost from the moved gallery is named where it is missing, not at the old folder
    assert main(["case", "verify", str(case)]) == 1
    assert f"MISSING {lost} " in capsys.readouterr().out
