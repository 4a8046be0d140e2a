"""The import dialog: progress, a summary with the reason for every skipped file, CSV export, resume."""

from __future__ import annotations

import csv

import pytest

pytest.importorskip("pytestqt")

from interreid.desktop.widgets.import_dialog import ImportDialog, write_skipped_csv  # noqa: E402


def test_import_dialog_lists_skipped_files_with_reasons(qtbot, crops_dir, tmp_path):
    (crops_dir / "cam01" / "empty.jpg").write_bytes(b"")
    (crops_dir / "cam02" / "notes.png").write_text("this is not an image")
    dialog = ImportDialog(tmp_path / "gallery", [crops_dir])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.report is not None or bool(dialog.error), timeout=30000)
    assert not dialog.error
    report = dialog.report
    assert report.imported == 12 and report.duplicates == 0
    reasons = dialog.skipped_reasons()
    assert reasons["empty.jpg"] == "empty file (0 bytes)"
    assert reasons["notes.png"].startswith("not an image")
    assert dialog.skipped.isVisible() and dialog.export_button.isVisible()
    assert "12" in dialog.summary.text() and "skipped" in dialog.summary.text()
    out = write_skipped_csv(report, tmp_path / "summary.csv")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    skipped = {r["path"].rsplit("/", 1)[-1]: r["reason"] for r in rows if r["outcome"] == "skipped"}
    assert skipped == reasons


def test_cancel_leaves_a_consistent_gallery_and_import_resumes(qtbot, crops_dir, tmp_path):
    from interreid.engine.gallery.store import Gallery

    dialog = ImportDialog(tmp_path / "gallery", [crops_dir])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    dialog.cancel()  # before the first file: the importer stops at once
    qtbot.waitUntil(lambda: dialog.report is not None or bool(dialog.error), timeout=30000)
    assert dialog.report.cancelled and "resume" in dialog.status.text()
    with Gallery.open(tmp_path / "gallery") as g:
        first = len(g)
        assert len(g.vectors()) == first
    again = ImportDialog(tmp_path / "gallery", [crops_dir])
    qtbot.addWidget(again)
    again.start()
    qtbot.waitUntil(lambda: again.report is not None, timeout=30000)
    assert again.report.imported + again.report.already + again.report.duplicates == 12
    with Gallery.open(tmp_path / "gallery") as g:
        assert len(g) == 12


def test_a_folder_with_nothing_to_import_says_so_and_leaves_nothing(qtbot, tmp_path):
    """An empty folder (or one of documents only): the command line's sentence in the dialog, no gallery made; it
    said "Import finished" with 0 of 0 files, and the New case that followed failed on an empty gallery."""
    empty = tmp_path / "export"
    empty.mkdir()
    (empty / "notes (copy) #1.txt").write_text("not footage", encoding="utf-8")
    dialog = ImportDialog(tmp_path / "gallery", [empty])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.report is not None or bool(dialog.error), timeout=30000)
    assert dialog.report is None and "holds no image files" in dialog.error and "nothing was imported" in dialog.error
    assert dialog.error in dialog.summary.text() and dialog.close_button.isVisible()
    assert not (tmp_path / "gallery").exists()


def test_a_truncated_video_is_partly_imported_not_skipped(qtbot, tmp_path):
    """A video cut short (a copy interrupted): its crops up to the cut are imported, so it is not counted as a
    skipped file; the table and the CSV say it was only partly imported, and the bad file beside it is skipped."""
    from videomaker import VTEST, cut_vtest

    if not VTEST.is_file():
        pytest.skip("the bundled sample video is not in this checkout")

    src = tmp_path / "export"
    src.mkdir()
    data = cut_vtest(tmp_path / "whole.avi", 40, 60).read_bytes()  # real people, 6 s
    (src / "cam 2 (copy).avi").write_bytes(data[: len(data) * 2 // 3])
    (src / "fake.jpg").write_bytes(b"not an image")
    dialog = ImportDialog(tmp_path / "gallery", [src])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.report is not None or bool(dialog.error), timeout=60000)
    report = dialog.report
    assert report is not None and report.imported > 0
    assert [n for n, _ in [(p.rsplit("/", 1)[-1], r) for p, r in report.partly_imported()]] == ["cam 2 (copy).avi"]
    summary = dialog.summary.text()
    assert "<b>1</b> skipped" in summary and "<b>1</b> video(s) imported only up to where they stop" in summary
    reasons = dialog.skipped_reasons()
    assert reasons["cam 2 (copy).avi"].startswith("Only partly imported: ") and "truncated" in reasons["cam 2 (copy).avi"]
    assert reasons["fake.jpg"].startswith("not an image")
    rows = list(csv.DictReader(write_skipped_csv(report, tmp_path / "s.csv").open(encoding="utf-8")))
    assert {r["path"].rsplit("/", 1)[-1]: r["outcome"] for r in rows if r["path"]} == {
        "cam 2 (copy).avi": "partly imported", "fake.jpg": "skipped"}


def test_the_heading_counts_folders_and_files_apart(qtbot, crops_dir, tmp_path):
    """A folder and a video file given together: "Importing 1 folder and 1 file", not "2 folder(s)"."""
    video = tmp_path / "north gate.avi"
    video.write_bytes(b"")
    dialog = ImportDialog(tmp_path / "gallery", [crops_dir, video])
    qtbot.addWidget(dialog)
    assert dialog.heading.text().startswith("Importing 1 folder and 1 file into ")
    assert ImportDialog(tmp_path / "g2", [crops_dir]).heading.text().startswith("Importing 1 folder into ")


def test_a_video_in_which_no_one_is_found_is_named_with_the_reason(qtbot, tmp_path):
    """A video that decodes but gives no person (here coloured shapes, which the people detector does not take
    for people) is listed with why, instead of disappearing into the imported count."""
    from videomaker import write_walkers

    src = tmp_path / "export"
    write_walkers(src / "car park.mp4", frames=30)
    write_walkers(src / "recorder.h264", frames=30, codec="libx264")  # a raw stream: no frame times either
    dialog = ImportDialog(tmp_path / "gallery", [src])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.report is not None or bool(dialog.error), timeout=60000)
    assert dialog.report is not None and dialog.report.imported == 0
    reason = dialog.skipped_reasons()["car park.mp4"]
    assert reason.startswith("Imported, but no one was found in it") and "pixels tall" in reason
    assert "no times" not in reason
    raw = dialog.skipped_reasons()["recorder.h264"]
    assert raw.startswith("Imported, but no one was found in it") and "; and the file gives its frames no times" in raw
    assert dialog.skipped.isVisible() and dialog.skipped.rowCount() == 2


def test_the_reason_an_import_failed_is_shown_whole(qtbot, tmp_path):
    """The sentence saying why nothing was imported wraps onto a second line: the dialog kept its running size, so
    the second line ('nothing was imported.') was cut off under an empty progress bar reading 0% (found in a new
    user's trial, an empty folder)."""
    empty = tmp_path / "an export folder with a long name that holds nothing at all"
    empty.mkdir()
    dialog = ImportDialog(tmp_path / "gallery", [empty])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: bool(dialog.error), timeout=30000)
    qtbot.wait(50)  # the layout settles
    label = dialog.summary
    assert label.heightForWidth(label.width()) > label.fontMetrics().lineSpacing()  # it does wrap
    assert label.height() >= label.heightForWidth(label.width())  # every line of it is shown
    assert dialog.height() <= dialog.screen().availableGeometry().height()
    assert not dialog.bar.isVisible()  # no "0%" over the sentence: nothing was imported, nothing is in progress
