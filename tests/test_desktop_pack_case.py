"""A case on a model pack through the window: New case lists the installed packs and the selector
and questioner choices; the gallery is imported with the pack; the case opens with the learned
selector and the LLaVA questioner, which loads in the background while infogain stands in."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from interreid.desktop.main_window import MainWindow  # noqa: E402
from interreid.desktop.widgets.import_dialog import ImportDialog  # noqa: E402
from interreid.desktop.widgets.new_case_dialog import NewCaseDialog  # noqa: E402

WAIT = 60000


@pytest.fixture
def installed_pack(tmp_path):
    from interreid.engine.cli.main import main

    assert main(["pack", "build", str(tmp_path / "pack"), "--random-weights", "--config", "clip-reid-tiny",
                 "--random-selector", "--random-questioner", "--name", "tiny-desk"]) == 0
    assert main(["pack", "install", str(tmp_path / "pack")]) == 0
    from interreid.engine.full.pack import list_installed_packs

    (manifest,) = list_installed_packs()
    return manifest


def _choose(combo, key) -> None:
    combo.setCurrentIndex(combo.findData(key))


def test_new_case_on_a_pack_with_learned_selector_and_llava(qtbot, installed_pack, crops_dir, tmp_path):
    dialog = NewCaseDialog(sources=[str(crops_dir)])
    qtbot.addWidget(dialog)
    dialog.title.setText("Pack case")
    dialog.new_gallery.setText(str(tmp_path / "gallery"))
    labels = [dialog.embed_with.itemText(i) for i in range(dialog.embed_with.count())]
    assert labels[0].startswith("Lite") and "tiny-desk 0.1.0 (untrained — for testing only)" in labels[1]
    _choose(dialog.selector, "learned")
    _choose(dialog.questioner, "llava")
    assert dialog.request() is None and "model pack" in dialog.message.text()  # lite cannot do either
    dialog.embed_with.setCurrentIndex(1)
    request = dialog.request()
    assert (request.engine, request.selector, request.questioner) == ("full", "learned", "llava")
    assert request.pack == str(installed_pack.folder)

    importer = ImportDialog(request.gallery_folder, request.import_sources, engine=request.engine, pack=request.pack)
    qtbot.addWidget(importer)
    importer.start()
    qtbot.waitUntil(lambda: importer.report is not None or bool(importer.error), timeout=WAIT)
    assert not importer.error and importer.report.imported == 12

    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    messages = []
    window.session.questioner_ready.connect(messages.append)
    window._create_case(request)
    qtbot.waitUntil(lambda: window.session.is_open and not window.session.busy, timeout=WAIT)
    engine = window.session.engine
    assert engine.selector.name == "learned" and engine.questioner.name == "llava"
    assert "tiny-desk" in window.engine_label.text() and "untrained" in window.engine_label.text()
    assert "questioner llava" in window.engine_label.toolTip()
    qtbot.waitUntil(lambda: bool(messages), timeout=WAIT)  # loaded in its own thread
    assert engine.questioner.loaded and messages[0].startswith("LLaVA questioner ready")

    window.session.start("a man in a red jacket")
    qtbot.waitUntil(lambda: window.session.state is not None and not window.session.busy, timeout=WAIT)
    state = window.session.state
    assert len(state.candidates) == 4 and state.suggestion.text
    from interreid.engine.casefile import CaseFile

    with CaseFile.open(request.case_path) as case:
        recorded = case.metadata()["engine"]
    assert recorded["selector"] == "learned" and recorded["questioner"] == "llava"
    window.session.close()


def test_new_case_offers_the_packs_8bit_image_model_and_imports_with_it(qtbot, crops_dir, tmp_path, monkeypatch):
    """A pack built with --int8 is offered twice under "Search with": the 8-bit choice reaches the
    import, and the gallery it makes is measured with the int8 tower (recorded in its identity)."""
    from interreid.engine.cli.main import main
    from interreid.engine.gallery.store import Gallery

    monkeypatch.setenv("INTERREID_CPU_RUNTIME", "onnxruntime")
    assert main(["pack", "build", str(tmp_path / "pack"), "--random-weights", "--config", "clip-reid-tiny",
                 "--int8", "--name", "tiny-eight"]) == 0
    assert main(["pack", "install", str(tmp_path / "pack")]) == 0
    dialog = NewCaseDialog(sources=[str(crops_dir)])
    qtbot.addWidget(dialog)
    dialog.title.setText("Fast import")
    dialog.new_gallery.setText(str(tmp_path / "gallery"))
    labels = [dialog.embed_with.itemText(i) for i in range(dialog.embed_with.count())]
    eight = [i for i, label in enumerate(labels) if "8-bit" in label]
    assert len(eight) == 1 and "tiny-eight" in labels[eight[0]] and "tiny-eight" in labels[eight[0] - 1]
    dialog.embed_with.setCurrentIndex(eight[0] - 1)
    assert dialog.request().tower is None  # the plain item: fp32 for a new gallery, an existing gallery's own
    dialog.embed_with.setCurrentIndex(eight[0])
    request = dialog.request()
    assert (request.engine, request.tower) == ("full", "int8")

    seen = {}

    class Recorder:  # the window hands the choice on to its import dialog
        def __init__(self, *args, **kwargs):
            seen.update(kwargs)

        def start(self):
            pass

        def exec(self):
            pass

    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    monkeypatch.setattr("interreid.desktop.main_window.ImportDialog", Recorder)
    monkeypatch.setattr("interreid.desktop.main_window.ensure_passphrase", lambda *a, **k: True)  # the passphrase known
    window._run_import(request.gallery_folder, request.import_sources, request.engine, request.pack, request.tower)
    assert seen["tower"] == "int8" and seen["pack"] == request.pack

    importer = ImportDialog(request.gallery_folder, request.import_sources, engine=request.engine, pack=request.pack,
                            tower=request.tower, encrypt=False)
    qtbot.addWidget(importer)
    importer.start()
    qtbot.waitUntil(lambda: importer.report is not None or bool(importer.error), timeout=WAIT)
    assert not importer.error and importer.report.imported == 12
    with Gallery.open(request.gallery_folder) as g:
        assert g.embedder_identity.extra["precision"] == "int8"

    # importing into that gallery again with the plain item (e.g. to resume) keeps its 8-bit model, not refused
    dialog.embed_with.setCurrentIndex(eight[0] - 1)
    again = ImportDialog(request.gallery_folder, request.import_sources, engine="full", pack=request.pack,
                         tower=dialog.request().tower, encrypt=False)
    qtbot.addWidget(again)
    again.start()
    qtbot.waitUntil(lambda: again.report is not None or bool(again.error), timeout=WAIT)
    assert not again.error, again.error
    with Gallery.open(request.gallery_folder) as g:
        assert g.embedder_identity.extra["precision"] == "int8" and len(g) == 12
