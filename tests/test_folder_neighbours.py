"""Source context for plain images: the images beside one in its source folder, in the engine and the
details view."""

from __future__ import annotations

import pytest


def test_folder_neighbours_in_file_name_order(crops_dir, tmp_path):
    from interreid.engine.embedder import create_embedder
    from interreid.engine.gallery.importer import import_sources
    from interreid.engine.gallery.neighbours import folder_neighbours
    from interreid.engine.gallery.store import Gallery

    (crops_dir / "cam01" / "deeper").mkdir()
    from imagemaker import write_person

    write_person(crops_dir / "cam01" / "deeper" / "2024-05-01T12-30-04_p99.jpg", "green", "green", seed=99)
    embedder = create_embedder("lite")
    with Gallery.create(tmp_path / "g", embedder.identity) as g:
        import_sources(g, embedder, [crops_dir])
        name = {r: g.image(r).path.rsplit("_", 1)[1] for r in range(len(g))}
        row = {v: k for k, v in name.items()}
        before, after = folder_neighbours(g, row["p3.jpg"])
        assert [name[r] for r in before] == ["p0.jpg"]
        assert [name[r] for r in after] == ["p6.jpg", "p9.jpg"]  # the subfolder's image is not beside it
        before, after = folder_neighbours(g, row["p9.jpg"], each_side=2)
        assert [name[r] for r in before] == ["p6.jpg", "p3.jpg"] and after == []


def test_details_view_shows_and_opens_folder_neighbours(qtbot, tmp_path, crops_dir):
    pytest.importorskip("pytestqt")
    from test_desktop_interview import WAIT, idle, lite_case, make_window, open_and_wait

    case = lite_case.__wrapped__(crops_dir, tmp_path)
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, case)
    gallery = window.session.gallery
    rows = {gallery.image(r).path.rsplit("_", 1)[1]: r for r in range(len(gallery))}
    window.show_details(rows["p3.jpg"])
    qtbot.waitUntil(lambda: bool(window.detail_views) and idle(window), timeout=WAIT)
    view = window.detail_views[-1]
    assert len(view.neighbours.buttons) == 3
    view.neighbours.buttons[0].click()  # the image before it
    qtbot.waitUntil(lambda: len(window.detail_views) == 2 and idle(window), timeout=WAIT)
    assert window.detail_views[-1].details.image.row == rows["p0.jpg"]
    window.close()
