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
