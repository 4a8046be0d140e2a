"""New case in the app with a second model matching the first description (paper Table 2): the
choice reaches the engine, the case records it, the case reopens with it, and the app's Search
ranks as `interreid search --treid` does."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from interreid.desktop.main_window import MainWindow  # noqa: E402
from interreid.desktop.widgets.new_case_dialog import NewCaseDialog  # noqa: E402

from fixtures_full import tiny_pack  # noqa: E402,F401  (fixture)

WAIT = 60000


def test_new_case_with_a_treid_model(qtbot, crops_dir, tmp_path):
    from interreid.engine.casefile import CaseFile
    from interreid.engine.cli.main import main

    gallery = tmp_path / "gallery"
    assert main(["gallery", "import", str(crops_dir), "--gallery", str(gallery)]) == 0
    dialog = NewCaseDialog(gallery=str(gallery))
    qtbot.addWidget(dialog)
    dialog.title.setText("Second model case")
    dialog.case_path.setText(str(tmp_path / "t.case"))
    assert dialog.treid.currentData() is None  # off unless chosen
    assert not dialog.treid_weight.isEnabled()  # its weight greyed out until a second model is chosen
    dialog.treid.setCurrentIndex(dialog.treid.findData("lite"))
    assert dialog.treid_weight.isEnabled()
    dialog.treid_weight.setValue(0.3)
    request = dialog.request()
    assert (request.treid, request.treid_weight) == ("lite", pytest.approx(0.3))

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, detect_device=False)
    qtbot.addWidget(window)
    window._create_case(request)
    qtbot.waitUntil(lambda: window.session.is_open and not window.session.busy, timeout=WAIT)
    engine = window.session.engine
    assert engine.treid is not None and engine.treid.weight == pytest.approx(0.3)
    window.session.start("a man in a red top")
    qtbot.waitUntil(lambda: window.session.state is not None and not window.session.busy, timeout=WAIT)
    assert len(window.session.state.candidates) == 4
    window.session.close()
    with CaseFile.open(request.case_path) as case:
        recorded = case.metadata()["engine"]["treid"]
    assert recorded["model"]["kind"] == "lite" and recorded["weight"] == pytest.approx(0.3)

    window.session.open(request.case_path)  # reopened: the same second model
    qtbot.waitUntil(lambda: window.session.is_open and not window.session.busy, timeout=WAIT)
    assert window.session.engine.treid is not None and window.session.engine.treid.weight == pytest.approx(0.3)
    window.session.close()


def test_the_apps_search_ranks_as_search_treid(qtbot, crops_dir, tmp_path, tiny_pack, capsys):  # noqa: F811
    """The app's Search (the first ranking of a case made with a second model) lists the images in
    the order `interreid search --treid` gives for the same description, model and weight."""
    import dataclasses
    import json

    from interreid.engine.cli.main import main

    gallery = tmp_path / "gallery"
    assert main(["gallery", "import", str(crops_dir), "--gallery", str(gallery)]) == 0
    said = "a man in a red top and blue trousers"
    capsys.readouterr()
    assert main(["search", said, "--gallery", str(gallery), "--top", "12", "--treid", str(tiny_pack),
                 "--treid-weight", "0.7", "--json"]) == 0
    cli = [r["sha256"] for r in json.loads(capsys.readouterr().out)["results"]]
    assert main(["search", said, "--gallery", str(gallery), "--top", "12", "--json"]) == 0
    plain = [r["sha256"] for r in json.loads(capsys.readouterr().out)["results"]]
    assert cli != plain  # the untrained pack reorders the lite engine's ranking

    dialog = NewCaseDialog(gallery=str(gallery))
    qtbot.addWidget(dialog)
    dialog.title.setText("Search box case")
    dialog.case_path.setText(str(tmp_path / "s.case"))
    dialog.treid_weight.setValue(0.7)
    request = dataclasses.replace(dialog.request(), treid=str(tiny_pack))  # the pack as if installed
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window._create_case(request)
    qtbot.waitUntil(lambda: window.session.is_open and not window.session.busy, timeout=WAIT)
    window.session.start(said)
    qtbot.waitUntil(lambda: window.session.state is not None and not window.session.busy, timeout=WAIT)
    gallery_open = window.session.gallery
    app = [gallery_open.image(int(r)).sha256 for r in window.session.state.rows[:12]]
    window.session.close()
    assert app == cli
