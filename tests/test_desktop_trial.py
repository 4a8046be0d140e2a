"""What a new user's trial of the app on the bundled video found in its dialogs and messages (pytest-qt,
offscreen): each test would have failed before its fix."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")


def test_the_passphrase_prompt_wraps_its_sentence(qtbot, tmp_path, lite_gallery, monkeypatch):
    """Asked again after a wrong passphrase, the prompt's long sentence stood on one line: a dialog 1,129 pixels
    wide on a 1,366-pixel screen. It wraps, and the dialog stays of a reading width."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QInputDialog, QLabel, QWidget

    from interreid.desktop.passphrase import ensure_passphrase
    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.storage import keys

    case = tmp_path / "c.case"
    with Gallery.open(lite_gallery) as g:
        CaseFile.create(case, "t", "tester", g, build_engine(g).identity()).close()
    keys.set_passphrase("a passphrase that is not this case's")  # known, and wrong for the case
    parent = QWidget()
    qtbot.addWidget(parent)
    seen = {}

    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(20, answer)
            return
        label = next(w for w in dialog.findChildren(QLabel) if "another passphrase" in w.text())
        seen.update(width=dialog.width(), wraps=label.wordWrap(), text=label.text())
        dialog.reject()

    QTimer.singleShot(20, answer)
    assert not ensure_passphrase(parent, case)  # rejected: nothing opened
    assert seen["wraps"] and seen["width"] <= 640 and "does not open with the workstation passphrase" in seen["text"]
    keys.set_passphrase(None)


def test_a_wrong_passphrase_says_what_to_do_in_the_window(qtbot, tmp_path, lite_gallery, monkeypatch):
    """The window passed on the command line's '(give that one)', which an investigator at the window cannot do:
    it says to open the case again and type that passphrase."""
    from PySide6.QtCore import QSettings

    from interreid.desktop.main_window import MainWindow
    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.storage import keys

    case = tmp_path / "c.case"
    with Gallery.open(lite_gallery) as g:
        CaseFile.create(case, "t", "tester", g, build_engine(g).identity()).close()
    monkeypatch.delenv("INTERREID_KEY_FILE")
    monkeypatch.setattr("interreid.desktop.main_window.ensure_passphrase",  # typed in the prompt: a wrong one
                        lambda *a, **k: keys.set_passphrase("not the passphrase") or True)
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.open_case(case)
    qtbot.waitUntil(lambda: window.banner.isVisible() and not window.session.busy, timeout=30000)
    text = window.banner.text()
    assert not window.session.is_open and "another passphrase" in text
    assert "give that one" not in text and "open it again and type that passphrase" in text
    keys.set_passphrase(None)


def test_a_long_warning_scrolls_in_its_strip_and_the_window_keeps_its_size(qtbot, tmp_path):
    """A verification that found many images missing filled the message strip with 15 lines: the window grew from
    768 to 865 pixels high, past the foot of a laptop's screen, its status bar and the gallery's last row out of
    sight (a new user's trial: a moved gallery). The strip holds a few lines and scrolls; every line can be read."""
    from PySide6.QtCore import QSettings

    from interreid.desktop.main_window import MainWindow

    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.stack.setCurrentWidget(window.interview_page)  # the page whose least height leaves the strip least room
    qtbot.wait(50)
    lines = [f"  - MISSING /evidence/gallery/crops/{i:02x}/{i:064x}.png ({i:016x}…)" for i in range(40)]
    window.show_message("<b>This case's evidence has changed since it was recorded.</b><br>" + "<br>".join(lines),
                        "warning")
    qtbot.wait(100)
    assert window.height() == 768
    banner = window.banner
    assert banner.height() < 768 // 3
    bar = banner.scroll.verticalScrollBar()
    assert bar.maximum() > 0  # the rest is there, a scroll away
    bar.setValue(bar.maximum())
    assert lines[-1].strip() in banner.text().replace("&lt;", "<")
    window.show_message("Case verified.", "info")  # a short message: no scroll bar, a strip of one line
    qtbot.wait(50)
    assert banner.scroll.verticalScrollBar().maximum() == 0 and banner.height() < 60


def test_a_failed_verification_lists_every_missing_file_in_its_strip(qtbot, tmp_path):
    """The strip cut a verification's list at 12 lines with '(File → Verify case shows them all)', but Verify
    case showed the same 12: the strip now scrolls, so it holds the list whole (up to a few hundred lines)."""
    from PySide6.QtCore import QSettings

    from interreid.desktop.main_window import MainWindow
    from interreid.engine.casefile.case import Verification

    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    missing = [{"sha256": f"{i:064x}", "path": f"/evidence/crops/{i:02x}/{i:064x}.png"} for i in range(40)]
    window._on_verified(Verification(missing_images=missing, images_checked=40, audit_rows=9))
    text = window.banner.text()
    assert all(m["path"] in text for m in missing) and "shows them all" not in text


def test_after_an_import_the_window_says_how_to_interview_on_the_gallery(qtbot, tmp_path, crops_dir, monkeypatch):
    """File → Import gallery ended on the start page with no word of the gallery just made, and New case asked for
    a gallery folder again (a new user's trial): the window says what was imported and how to go on, and New case
    opens on that gallery."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QFileDialog

    from interreid.desktop.main_window import MainWindow
    from interreid.desktop.widgets.import_dialog import ImportDialog
    from interreid.desktop.widgets.new_case_dialog import NewCaseDialog

    gallery = tmp_path / "gallery from the export"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(gallery))

    def run_import(dialog):
        qtbot.waitUntil(lambda: dialog.report is not None or bool(dialog.error), timeout=30000)
        return ImportDialog.DialogCode.Accepted

    monkeypatch.setattr(ImportDialog, "exec", run_import)
    seen = {}

    def new_case(dialog):
        seen.update(gallery=dialog.gallery.text(), existing=dialog.use_existing.isChecked())
        return NewCaseDialog.DialogCode.Rejected

    monkeypatch.setattr(NewCaseDialog, "exec", new_case)
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.import_gallery_dialog([str(crops_dir)])
    text = window.banner.text()
    assert window.banner.level == "info" and str(gallery) in text and "12 images" in text and "New case" in text
    window.new_case()
    assert seen == {"gallery": str(gallery), "existing": True}


def test_the_window_says_where_the_case_now_finds_its_moved_gallery(qtbot, tmp_path, lite_gallery, monkeypatch):
    """The sentence saying the case recorded its gallery's new folder went to the status bar, where the
    verification's 'Case verified…' replaced it at once (a new user's trial): it stays in the message strip."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from interreid.desktop.main_window import MainWindow
    from interreid.engine.cli.main import main

    case = tmp_path / "moved.case"
    assert main(["case", "new", str(case), "--title", "Moved", "--gallery", str(lite_gallery)]) == 0
    moved = tmp_path / "gallery-moved"
    lite_gallery.rename(moved)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(moved))
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.open_case(case)
    qtbot.waitUntil(lambda: window.session.is_open and window.last_verification is not None
                    and not window.session.busy, timeout=60000)
    assert window.last_verification.ok
    text = window.banner.text()
    assert window.banner.level == "info" and f"its gallery is now at {moved}" in text
    window.session.close()


def test_file_import_takes_video_files_without_the_rest_of_their_folder(qtbot, tmp_path, monkeypatch):
    """File → Import gallery chose only a folder: a CCTV export saved among other files could be imported only
    with everything beside it (a new user's trial on the bundled video). File → Import video files… takes the
    files themselves."""
    from types import SimpleNamespace

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QFileDialog

    from interreid.desktop.main_window import MainWindow

    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    video = downloads / "north gate 14-05.avi"
    video.write_bytes(b"")
    (downloads / "holiday.jpg").write_bytes(b"")
    offered = {}

    def open_files(_parent, _caption, _dir, filters):
        offered["filters"] = filters
        return [str(video)], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", open_files)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "gallery"))
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    imported = []
    window._run_import = lambda gallery, sources, **k: imported.append((gallery, sources)) or \
        SimpleNamespace(report=None, error="")
    action = next(a for a in window.menuBar().actions()[0].menu().actions() if "video files" in a.text())
    action.trigger()
    assert imported == [(tmp_path / "gallery", [video])]
    assert "*.avi" in offered["filters"] and "*.mp4" in offered["filters"]


def test_a_cancelled_passphrase_imports_no_unencrypted_gallery(qtbot, tmp_path, crops_dir, monkeypatch):
    """Cancelling the passphrase before an import went on and made the new gallery unencrypted, saying nothing
    (the command line refuses without a passphrase unless told --plain): pictures of people readable by anyone
    with the folder. Now nothing is imported and the window says why."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QFileDialog

    from interreid.desktop.main_window import MainWindow
    from interreid.desktop.widgets.import_dialog import ImportDialog

    monkeypatch.delenv("INTERREID_KEY_FILE")
    monkeypatch.setattr("interreid.desktop.main_window.ensure_passphrase", lambda *a, **k: False)  # cancelled
    gallery = tmp_path / "gallery"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(gallery))
    monkeypatch.setattr(ImportDialog, "exec", lambda dialog: qtbot.waitUntil(
        lambda: dialog.report is not None or bool(dialog.error), timeout=30000))
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.import_gallery_dialog([str(crops_dir)])
    assert not (gallery / "gallery.db").exists()
    assert window.banner.level == "warning" and "Nothing was imported" in window.banner.text()
    assert "passphrase" in window.banner.text()


def test_a_failed_verification_says_what_is_wrong_without_the_audit_logs_figures(qtbot, tmp_path):
    """The warning over a changed gallery opened on the audit log's row count, its head hash, the signing key's
    fingerprint and a note that the vector file matched: four lines an investigator cannot act on, before the
    files that are missing (a new user's trial). They are in the strip's tooltip; the strip says what is wrong."""
    from PySide6.QtCore import QSettings

    from interreid.desktop.main_window import MainWindow
    from interreid.engine.casefile.case import Verification

    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.statusBar().showMessage("Verifying the case and re-hashing its images…", 15000)  # as on opening
    missing = [{"sha256": "ab" * 32, "path": "/evidence/crops/ab/" + "ab" * 32 + ".png"}]
    window._on_verified(Verification(missing_images=missing, images_checked=1, audit_rows=39,
                                     head={"seq": 39, "hash": "e5" * 32}, key_fingerprint="4965112f9d94f051",
                                     anchors_checked=15, notes=["the gallery's vector file (the features its rankings "
                                                                "are scored from) matches the hashes recorded"]))
    text = window.banner.text()
    assert missing[0]["path"] in text and "1 missing" in text
    assert "Verifying" not in window.statusBar().currentMessage()  # it has ended: the strip says how
    for technical in ("head: row", "e5e5e5", "signed by workstation key", "anchor(s)", "vector file", "39 rows"):
        assert technical not in text, technical
        assert technical in window.banner.label.toolTip(), technical
    window._on_verified(Verification(chain_problems=["row 7 was changed"], audit_rows=39))  # a broken log says so
    assert "BROKEN" in window.banner.text() and "row 7 was changed" in window.banner.text()


def test_the_details_of_a_video_crop_shown_to_the_witness_fit_a_laptop_screen(qtbot, tmp_path):
    """The details of a marked video crop that was shown to the witness needed 789 pixels of height: on a
    1366 × 768 screen its buttons and Close were below the screen's foot (the demo's screenshots in a new user's
    trial). The column of facts scrolls; the window fits."""
    from videomaker import BlobDetector, write_walkers

    from interreid.desktop.session import ImageDetails
    from interreid.desktop.widgets.detail_view import DetailView
    from interreid.engine.embedder import create_embedder
    from interreid.engine.gallery.importer import import_sources
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.video.frames import track_boxes
    from interreid.engine.video.importer import VideoOptions
    from interreid.engine.video.query import crop_provenance

    video = write_walkers(tmp_path / "cam02" / "walk.avi")
    emb = create_embedder("lite")
    with Gallery.create(tmp_path / "g", emb.identity) as g:
        import_sources(g, emb, [video], video_options=VideoOptions(detector=BlobDetector(), min_height=20,
                                                                    sample_fps=10))
        img = g.image(0)
        prov = crop_provenance(g, img.sha256)
        prov["track_boxes"] = track_boxes(g, prov["track"])
    shown = [{"at": "2026-12-01T00:51:33", "note": "Line-up approved by the duty inspector (line-up of 3, "
              f"position {i})"} for i in (1, 2)]
    details = ImageDetails(img, [(0, 1, -0.4), (1, 1, -0.3), (2, 1, -0.2)],
                           {"mark": "possible", "note": "similar jacket, the same walk, seen twice at the gate"},
                           shown, ([], []), prov, [100.0, 100.0, 100.0])
    view = DetailView(details)
    qtbot.addWidget(view)
    view.show()
    qtbot.wait(50)
    assert view.minimumSizeHint().height() <= 700  # 768 less a taskbar and a title bar
    assert view.height() <= view.screen().availableGeometry().height()
    assert view.source_frame is not None and view.history.isVisible()


def test_a_marks_note_of_a_sentence_is_seen_whole_while_it_is_typed(qtbot):
    """The note box of Mark as match was 440 pixels wide: the note typed in a new user's trial ('Blue jacket, grey
    trousers, brown paper bag in right hand; matches the witness.') ran out of sight while it was being written."""
    from interreid.desktop.widgets.dialogs import mark_dialog

    dialog = mark_dialog("match")
    qtbot.addWidget(dialog)
    note = "Blue jacket, grey trousers, brown paper bag in right hand; matches the witness."
    dialog.edit.setText(note)
    dialog.show()
    qtbot.wait(20)
    shown = dialog.edit.contentsRect().width() - 12  # the box's padding and frame
    assert dialog.edit.fontMetrics().horizontalAdvance(note) <= shown


def test_after_file_import_the_window_says_what_the_gallery_holds_and_how_to_go_on(qtbot, tmp_path, crops_dir,
                                                                                   monkeypatch):
    """File → Import gallery: once it has run, the window says how many images the gallery holds (the count the
    import itself reports, no second opening of the gallery) and New case offers that gallery."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QFileDialog

    from interreid.desktop.main_window import MainWindow
    from interreid.desktop.widgets.import_dialog import ImportDialog

    target = tmp_path / "gallery"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(target))
    monkeypatch.setattr(ImportDialog, "exec", lambda self: qtbot.waitUntil(
        lambda: self.report is not None or bool(self.error), timeout=60000))
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.import_gallery_dialog([str(crops_dir / "cam01")])
    from interreid.engine.gallery.store import Gallery

    with Gallery.open(target, read_only=True) as g:
        held = len(g)
    assert held > 0
    assert window.banner.isVisible() and f"holds {held:,} images" in window.banner.text()
    assert "choose New case" in window.banner.text()
    assert window.settings.value("last_gallery") == str(target)
