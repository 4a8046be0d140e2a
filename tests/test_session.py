"""engine.session: the one way in to a case (open / new) and to a gallery import, for every caller."""

from __future__ import annotations

import pytest

from interreid.engine.errors import UserError


def add_one_crop(gallery, tmp_path):
    """Import one more crop into the gallery: its images now differ from a case made before."""
    from imagemaker import write_person

    from interreid.engine.session import import_into

    write_person(tmp_path / "more" / "cam09" / "2024-05-01T13-00-00_extra.jpg", "green", "red", seed=99)
    assert import_into(gallery, [tmp_path / "more"]).imported == 1


def test_new_case_then_open_case_gives_the_same_engine(lite_gallery, tmp_path):
    from interreid.engine.session import new_case, open_case

    with new_case(tmp_path / "a.case", "Theft", "j.doe", lite_gallery, selector="top",
                  questioner="template") as s:
        assert s.case.meta("investigator") == "j.doe"
        assert s.engine.identity()["selector"] == "top"
        assert len(s.gallery) == 12
    with open_case(tmp_path / "a.case") as s:
        assert (s.engine.selector.name, s.engine.questioner.name) == ("top", "template")
        assert s.warnings == []
    with open_case(tmp_path / "a.case", selector="uniform") as s:  # a caller may override the case's choice
        assert s.engine.selector.name == "uniform"


def test_open_case_warns_when_the_gallery_changed(lite_gallery, tmp_path):
    from interreid.engine.session import FINGERPRINT_WARNING, new_case, open_case

    new_case(tmp_path / "a.case", "Theft", None, lite_gallery).close()
    add_one_crop(lite_gallery, tmp_path)
    with open_case(tmp_path / "a.case") as s:
        assert len(s.warnings) == 1 and s.warnings[0].startswith(FINGERPRINT_WARNING.rstrip("."))
        assert "1 newer image(s) are left out" in s.warnings[0]  # the case searches only its own snapshot
        assert len(s.gallery) == 13


def test_new_case_refuses_an_empty_gallery_or_a_bad_choice_and_writes_nothing(tmp_path):
    from interreid.engine.embedder import create_embedder
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.session import new_case

    Gallery.create(tmp_path / "empty", create_embedder("lite").identity).close()
    with pytest.raises(UserError, match="holds no images"):
        new_case(tmp_path / "a.case", "Theft", None, tmp_path / "empty")
    assert not (tmp_path / "a.case").exists()


def test_new_case_refuses_an_unknown_selector_before_writing(lite_gallery, tmp_path):
    from interreid.engine.session import new_case

    with pytest.raises(UserError, match="Unknown selector"):
        new_case(tmp_path / "a.case", "Theft", None, lite_gallery, selector="nonsense")
    assert not (tmp_path / "a.case").exists()


def test_import_into_resumes_and_sets_the_index_backend(lite_gallery, crops_dir):
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.session import import_into

    again = import_into(lite_gallery, [crops_dir], index="exact")
    assert (again.imported, again.already) == (0, 12)
    with Gallery.open(lite_gallery) as g:
        assert g.meta("index_backend") == "exact"
    with pytest.raises(UserError, match="needs a model pack"):
        import_into(lite_gallery, [crops_dir], engine="full")


def test_cli_interview_warns_on_a_changed_gallery(lite_gallery, tmp_path, capsys, monkeypatch):
    import io

    from interreid.engine.cli.main import main
    from interreid.engine.session import new_case

    new_case(tmp_path / "a.case", "Theft", None, lite_gallery).close()
    add_one_crop(lite_gallery, tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(":quit\n"))
    assert main(["interview", "--case", str(tmp_path / "a.case"), "--description", "a man in a red top"]) == 0
    assert "differ from those the case was made with" in capsys.readouterr().err


def test_desktop_warns_on_a_changed_gallery(qtbot, lite_gallery, tmp_path):
    pytest.importorskip("pytestqt")
    from PySide6.QtCore import QSettings

    from interreid.desktop.main_window import MainWindow
    from interreid.engine.session import new_case

    new_case(tmp_path / "a.case", "Theft", None, lite_gallery).close()
    add_one_crop(lite_gallery, tmp_path)
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), detect_device=False)
    qtbot.addWidget(window)
    window.show()
    window.open_case(tmp_path / "a.case")
    qtbot.waitUntil(lambda: window.session.is_open and not window.session.busy, timeout=30000)
    assert window.banner.level == "warning"
    assert "differ from those the case was made with" in window.banner.text()
    window.close()
