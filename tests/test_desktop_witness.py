"""Showing images to the witness: a reason is required, the witness sees the image(s) alone, the
shown image is badged everywhere, and who/when/what/why is in the audit log and the report."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QApplication, QLabel, QPushButton
from test_desktop_interview import (  # noqa: F401
    WAIT,
    accept_next_dialog,
    idle,
    lite_case,
    make_window,
    open_and_wait,
)

from interreid.desktop.models.ranking_model import SHOWN_ROLE
from interreid.desktop.widgets.dialogs import LineupDialog, witness_dialog
from interreid.desktop.widgets.witness_view import WitnessView


def started(qtbot, window):
    q = window.interview_page.questions
    qtbot.keyClicks(q.description, "A person wearing a red top.")
    q.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)


def test_the_reason_is_required(qtbot, lite_case, tmp_path):  # noqa: F811
    dialog = witness_dialog()
    qtbot.addWidget(dialog)
    assert not dialog.ok.isEnabled()
    dialog.edit.setText("   ")
    dialog.accept()
    assert dialog.result() != dialog.DialogCode.Accepted and not dialog.ok.isEnabled()
    dialog.edit.setText("supervisor approved a single-image showing")
    assert dialog.ok.isEnabled()

    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    started(qtbot, window)
    window.session.show_to_witness(window.session.state.candidates[0].sha256, "  ")
    assert "give the reason" in window.banner.text()
    assert window.session.case.witness_views() == []
    window.close()


def test_one_image_is_shown_alone_recorded_and_badged(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    started(qtbot, window)
    page = window.interview_page
    card = page.candidates.cards[1]
    sha = card.sha
    accept_next_dialog("witness asked to see the person in the red top")
    card.witness_requested.emit(card.row)
    qtbot.waitUntil(lambda: bool(window.witness_windows) and idle(window), timeout=WAIT)
    view = window.witness_windows[-1]
    assert view.isFullScreen() and len(view.pictures) == 1 and not view.numbers
    assert not view.pictures[0].original.isNull()
    # nothing but the picture and a dim close button: no rank, score, mark or file name
    texts = [w.text() for w in view.findChildren(QLabel) if w.text()] + \
        [b.text() for b in view.findChildren(QPushButton)]
    assert texts == ["Close (Esc)"]
    # badged on the card, in the grid and in the header
    assert card.shown.text() == "Shown to witness" and "shown to the witness" in card.accessibleName()
    assert page.model.data(page.model.index(page.model.view_row_of(card.row)), SHOWN_ROLE)
    assert "1 image shown" in page.witness_note.text()
    # recorded: what and why in the table, who and when in the audit log
    views = window.session.case.witness_views()
    assert views[0]["sha256"] == sha and views[0]["note"] == "witness asked to see the person in the red top"
    entry = [e for e in window.session.case.audit_entries() if e.event == "shown_to_witness"][-1]
    assert entry.actor and entry.ts and entry.params["sha256"] == sha
    view.close()
    assert not window.witness_windows

    from interreid.engine.report import write_report

    out = write_report(lite_case, tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    assert "IMAGES SHOWN TO THE WITNESS (1)" in html and "witness asked to see the person in the red top" in html
    assert f"<td>{entry.actor}</td>" in html
    window.close()


def test_a_lineup_in_the_investigators_order(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    started(qtbot, window)
    choices = window._lineup_choices()
    assert len(choices) >= 4 and all(label for _s, label, _t in choices)
    dialog = LineupDialog(choices)
    qtbot.addWidget(dialog)
    from PySide6.QtCore import Qt

    for i in (0, 2, 3):
        dialog.list.item(i).setCheckState(Qt.CheckState.Checked)
    dialog.list.setCurrentRow(3)
    dialog.move(-1)  # the investigator moves the fourth above the third
    order = dialog.chosen()
    assert order == [choices[0][0], choices[3][0], choices[2][0]]
    assert not dialog.ok.isEnabled()  # no reason yet
    dialog.edit.setText("line-up approved by the duty inspector")
    assert dialog.ok.isEnabled()

    got = []
    window.session.show_to_witness(order, dialog.note(), got.append)
    qtbot.waitUntil(lambda: bool(got) and idle(window), timeout=WAIT)
    window._present_to_witness(got[0])
    view = window.witness_windows[-1]
    assert [n.text() for n in view.numbers] == ["1", "2", "3"] and len(view.pictures) == 3
    gallery = window.session.gallery
    assert [s[0] for s in got[0]] == [gallery.image(gallery.row_of(s)).sources[0] for s in order]
    lineup = [e for e in window.session.case.audit_entries() if e.event == "lineup.shown"][-1]
    assert lineup.params == {"images": order, "reason": "line-up approved by the duty inspector"}
    notes = [v["note"] for v in window.session.case.witness_views()]
    assert notes[1].endswith("(line-up of 3, position 2)")
    view.close()
    window.close()


def test_witness_view_goes_to_the_second_screen_when_there_is_one(qtbot, monkeypatch):
    from PySide6.QtGui import QPixmap

    import interreid.desktop.widgets.witness_view as wv

    screens = QApplication.screens()
    assert wv.witness_screen() in screens  # one screen: the investigator's own
    fake_second = object()
    monkeypatch.setattr(wv.QGuiApplication, "screens", staticmethod(lambda: [screens[0], fake_second]))
    assert wv.witness_screen() is fake_second
    monkeypatch.undo()
    pix = QPixmap(20, 40)
    view = WitnessView([pix])
    qtbot.addWidget(view)
    view.present()
    assert view.isFullScreen()
    view.close()
