"""The app with video: the import dialog cuts a video into person crops with its progress; the
details view shows a video crop in its source frame with the box, the track's path and a scrub."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from interreid.desktop.widgets.import_dialog import ImportDialog


def test_import_dialog_imports_a_video_folder(qtbot, tmp_path, demo_clip):
    if demo_clip is None:
        pytest.skip("resources/demo/vtest.avi is missing")
    folder = tmp_path / "footage" / "cam01"
    folder.mkdir(parents=True)
    (folder / "clip.avi").write_bytes(Path(demo_clip).read_bytes())
    seen = []
    dialog = ImportDialog(tmp_path / "gallery", [tmp_path / "footage"])
    qtbot.addWidget(dialog)
    orig = dialog._video_progress
    dialog._video_progress = lambda v: (seen.append(v), orig(v))
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.report is not None or bool(dialog.error), timeout=120000)
    assert not dialog.error
    assert dialog.report.videos[0]["status"] == "complete" and dialog.report.imported >= 2
    assert seen and "frames/s" in _status_text(dialog, seen)
    # the summary says what the video gave, as the command line does (it said only "N imported … (of 1 file)")
    people = dialog.report.videos[0]["tracks"]
    assert people and f"<b>{people}</b> people tracked" in dialog.summary.text()
    assert "camera cam01" in dialog.summary.text() and "times from the " in dialog.summary.text()


def _status_text(dialog, seen) -> str:
    dialog._video_progress(seen[-1])
    return dialog.status.text()


def test_source_frame_view_shows_the_crop_in_its_frame(qtbot, tmp_path):
    from videomaker import BlobDetector, write_walkers

    from interreid.desktop.widgets.source_frame import SourceFrameView
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
        prov = crop_provenance(g, g.shas()[0])
        prov["track_boxes"] = track_boxes(g, prov["track"])
    view = SourceFrameView(prov)
    qtbot.addWidget(view)
    view.show()
    assert view.picture.pixmap() is not None and not view.picture.pixmap().isNull()
    assert view.current_pts() == pytest.approx(prov["pts"])
    assert view.slider.maximum() >= 20  # +-2 s at 10 fps around the moment
    assert "The moment this image was taken" in view.when.text()
    shown = view.picture.pixmap()  # fitted to the label: never wider or taller than the space it is given
    assert shown.width() <= view.picture.width() and shown.height() <= view.picture.height()
    image = view.frame
    x, y, w, h = prov["bbox"]
    red = image.pixelColor(x, y + h // 2)  # the left edge of the drawn box
    assert red.red() > 200 and red.green() < 80
    view.slider.setValue(0)
    assert "before this image" in view.when.text()


def test_source_frame_says_where_the_clock_and_the_detector_came_from_in_words(qtbot, tmp_path):
    """The details of a video crop read "clock from the cameras.csv file" and "The built-in people detector
    (opencv-hog)"; they read "clock from the cameras.csv" and a bare "opencv-hog"."""
    from PySide6.QtWidgets import QLabel
    from videomaker import BlobDetector, write_walkers

    from interreid.desktop.widgets.source_frame import SourceFrameView
    from interreid.engine.embedder import create_embedder
    from interreid.engine.gallery.importer import import_sources
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.video.cameras import clock_words
    from interreid.engine.video.importer import VideoOptions
    from interreid.engine.video.query import crop_provenance

    write_walkers(tmp_path / "cam02" / "walk.avi")
    (tmp_path / "cameras.csv").write_text("pattern,camera,start\ncam02/*,cam02,2024-05-01T12:00:00Z\n")
    emb = create_embedder("lite")
    with Gallery.create(tmp_path / "g", emb.identity) as g:
        import_sources(g, emb, [tmp_path], video_options=VideoOptions(detector=BlobDetector(), min_height=20,
                                                                      sample_fps=10))
        prov = crop_provenance(g, g.shas()[0])
    assert prov["time_from"] == "cameras.csv"
    prov["detector"] = {**prov["detector"], "name": "opencv-hog"}  # what the default import records
    view = SourceFrameView(prov)
    qtbot.addWidget(view)
    texts = " ".join(label.text() for label in view.findChildren(QLabel))
    assert "(clock from the cameras.csv file)" in texts
    assert prov["time"].startswith("2024-05-01T") and prov["time"].replace("T", " ") in texts  # as the details show it
    assert "The built-in people detector (opencv-hog)" in texts
    assert clock_words("file modification time") == "the file modification time"


def test_ranked_grid_collapses_a_track_into_one_cell(qtbot):
    import numpy as np

    from interreid.desktop.models.ranking_model import ROW_ROLE, RankingModel
    from interreid.desktop.models.thumbnails import ThumbnailCache
    from interreid.desktop.widgets.ranked_grid import RankedGrid

    shas = [f"{i:064x}" for i in range(6)]
    model = RankingModel(ThumbnailCache(lambda row: f"/nonexistent/{row}.jpg"), shas, ["cam01"] * 6, [None] * 6)
    model.set_tracks({0: 7, 2: 7, 5: 7, 3: 9})
    model.set_ranking(np.array([2, 0, 1, 3, 5, 4]), np.linspace(1, 0, 6, dtype=np.float32))
    grid = RankedGrid()
    qtbot.addWidget(grid)
    grid.set_model(model)
    assert grid.one_per_person.isVisibleTo(grid) and grid.one_per_person.isChecked()
    rows = [model.index(i).data(ROW_ROLE) for i in range(model.rowCount())]
    assert rows == [2, 1, 3, 4]  # rows 0 and 5 are other crops of track 7, folded into its best (row 2)
    assert model.index(0).data().endswith("+2 more")
    # the count of folded images is drawn whole on a second line, not cut to "…" (it was at 84 px)
    from PySide6.QtGui import QFontMetrics

    from interreid.desktop.widgets.ranked_grid import CELL, THUMB, label_lines
    fm = QFontMetrics(grid.view.font())
    width = CELL.width() - 6
    label = "#1  100%  +12 more"
    lines = label_lines(label, fm.horizontalAdvance, width)
    assert lines == ["#1  100%", "+12 more"] if fm.horizontalAdvance(label) > width else lines == [label]
    assert all(fm.horizontalAdvance(line) <= width for line in lines)
    assert CELL.height() - 6 - 4 - THUMB.height() - 4 >= 2 * fm.height()  # room for both lines
    assert label_lines("#2  97%", fm.horizontalAdvance, width) == ["#2  97%"]
    grid.one_per_person.setChecked(False)
    assert model.rowCount() == 6


def test_demo_builds_its_gallery_inside_the_window(qtbot, monkeypatch, demo_clip):
    if demo_clip is None:
        pytest.skip("resources/demo/vtest.avi is missing")
    from interreid.engine.demo import demo_gallery_ready

    from interreid.desktop.demo_start import start_demo
    from interreid.desktop.main_window import MainWindow
    from interreid.desktop.widgets import import_dialog

    shown = []

    def exec_(self):  # the dialog runs modally in the app; here: wait for the import, then close it
        shown.append(self.windowTitle())
        qtbot.waitUntil(lambda: self.report is not None or bool(self.error), timeout=120000)
        return 1

    monkeypatch.setattr(import_dialog.ImportDialog, "exec", exec_)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert not demo_gallery_ready()
    start_demo(window)
    qtbot.waitUntil(lambda: window.session.is_open, timeout=60000)
    assert demo_gallery_ready() and shown == ["Building the demo gallery from the sample footage"]
    start_demo(window)  # a later run reuses the built gallery: no import dialog
    assert len(shown) == 1
