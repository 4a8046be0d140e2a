"""The primary actions and the layout: Enter searches, headings are never cut, the gallery can be
browsed before the first search, a real time-range control, and a readable skipped-file table."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QDateTime, Qt
from test_desktop_interview import WAIT, idle, lite_case, make_window, open_and_wait  # noqa: F401


def test_enter_searches_and_shift_enter_adds_a_line(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    q = window.interview_page.questions
    assert q.enter_hint.isVisible() and "Enter searches" in q.enter_hint.text()
    q.description.setFocus()
    qtbot.keyClicks(q.description, "A person wearing a red top")
    qtbot.keyClick(q.description, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(q.description, "and white trousers.")
    assert window.session.state is None
    assert q.description.toPlainText() == "A person wearing a red top\nand white trousers."
    qtbot.keyClick(q.description, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    assert window.session.state.round_index == 1
    assert not q.enter_hint.isVisible()
    window.close()


def test_gallery_can_be_browsed_before_the_first_search(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    grid = window.interview_page.grid
    n = window.session.opened_case.gallery_size
    assert grid.model.rowCount() == n and grid.count.text() == f"{n} images"
    assert "not ranked yet" in grid.title.text()
    window.close()


def test_round_heading_wraps_instead_of_being_cut(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    q = window.interview_page.questions
    qtbot.keyClicks(q.description, "red top")
    q.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    import dataclasses

    state = dataclasses.replace(window.session.state, round_index=12, max_rounds=5)
    assert state.over_cap
    q.show_state(state, "red top")
    assert q.round_title.wordWrap() and "Round 12" in q.round_title.text()
    fm = q.round_title.fontMetrics()
    assert q.round_title.heightForWidth(q.round_title.width()) >= fm.height()
    assert fm.horizontalAdvance(q.round_title.text()) <= q.round_title.width() * 3  # wraps, never elided
    window.close()


def test_time_range_control_filters_within_the_gallerys_span(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    grid = window.interview_page.grid
    model = grid.model
    n = model.rowCount()
    first, last = model.time_span
    assert first and last and grid.time_from.minimumDateTime().toString("yyyy-MM-ddTHH:mm:ss") == first[:19]
    assert grid.time_to.dateTime().toString("yyyy-MM-ddTHH:mm:ss") == last[:19]
    grid.time_on.setChecked(True)
    assert model.rowCount() == n  # the whole span: everything
    start = QDateTime.fromString("2024-05-01T12:30:03", Qt.DateFormat.ISODate)
    end = QDateTime.fromString("2024-05-01T12:30:05", Qt.DateFormat.ISODate)
    grid.time_from.setDateTime(start)
    grid.time_to.setDateTime(end)
    assert model.rowCount() == 3
    stamps = {model.timestamps[model.data(model.index(i), 0x0101)] for i in range(model.rowCount())}
    assert all("12:30:03" <= s[11:19] <= "12:30:05" for s in stamps)
    # a range that cannot match is said in words, not a silently empty grid
    grid.time_from.setDateTime(end)
    grid.time_to.setDateTime(start)
    assert grid.time_message.isVisibleTo(grid) and "after its end" in grid.time_message.text()
    grid.time_on.setChecked(False)
    assert model.rowCount() == n and not grid.time_message.isVisibleTo(grid)
    window.close()


def test_skipped_file_table_shows_several_whole_reasons(qtbot, crops_dir, tmp_path):
    from interreid.desktop.widgets.import_dialog import ImportDialog

    for i in range(6):
        (crops_dir / f"broken-{i}.jpg").write_bytes(b"not an image at all")
    dialog = ImportDialog(tmp_path / "g", [crops_dir])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=WAIT)
    table = dialog.skipped
    assert table.rowCount() >= 6 and table.wordWrap()
    row_h = table.rowHeight(0)
    assert table.viewport().height() >= 4 * row_h  # several rows, not one and a half
    reason = table.item(0, 1).text()
    assert table.item(0, 1).toolTip() == reason
    dialog.close()


def test_unreadable_gallery_times_are_said_not_silently_ignored(qtbot):
    from interreid.desktop.models.ranking_model import RankingModel
    from interreid.desktop.models.thumbnails import ThumbnailCache
    from interreid.desktop.widgets.ranked_grid import RankedGrid

    thumbs = ThumbnailCache(lambda _row: "")
    model = RankingModel(thumbs, ["a" * 64, "b" * 64], [None, None], ["yesterday", "12:01"])
    model.show_unranked()  # the filter's choices come from the images listed
    grid = RankedGrid(model)
    qtbot.addWidget(grid)
    grid.show()
    assert not grid.time_on.isEnabled()
    assert grid.time_message.isVisible() and "cannot be read as dates and times" in grid.time_message.text()


def test_recent_cases_show_titles_read_from_the_case_file(qtbot, lite_case, tmp_path):  # noqa: F811
    from PySide6.QtCore import QSettings

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("recent_cases", [str(lite_case)])  # remembered by an earlier version: no title stored
    window = make_window(qtbot, tmp_path)
    assert window.start_page.recent.item(0).text().startswith("Test case")
    window.close()


def test_with_a_banner_pictures_never_overlap_their_reasons(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    window.resize(1366, 700)
    open_and_wait(qtbot, window, lite_case)
    q = window.interview_page.questions
    qtbot.keyClicks(q.description, "A person wearing a red top, white trousers, dark shoes and short hair.")
    q.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    window.show_message("<br>".join(["A warning of several lines that takes height from the page."] * 6), "warning")
    qtbot.wait(50)
    for card in window.interview_page.candidates.cards:
        picture, reasons = card.image.geometry(), card.reasons.geometry()
        assert picture.bottom() < reasons.top(), (picture, reasons)
        assert reasons.bottom() < card.details_button.geometry().top()
        assert card.reasons.text()  # whole text kept (the box scrolls), not cut short
    window.close()


def test_new_case_dialog_shows_every_choice_in_full(qtbot):
    """At the size it opens at, no choice of the New case dialog is cut off ("…among the best-ranked
    (recommended)" was cut after "among the" at the dialog's 620 px), and it says videos can be imported."""
    from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox

    from interreid.desktop.widgets.new_case_dialog import NewCaseDialog

    dialog = NewCaseDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert "video" in dialog.use_new.text()
    combos = dialog.findChildren(QComboBox)
    assert dialog.selector in combos and dialog.questioner in combos
    for combo in combos:
        option = QStyleOptionComboBox()
        combo.initStyleOption(option)
        room = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, combo).width()
        for i in range(combo.count()):
            text = combo.itemText(i)
            assert combo.fontMetrics().horizontalAdvance(text) <= room, (text, room)


def test_rank_chart_legend_says_each_marked_image_current_rank(qtbot):
    """The chart's axis is labelled at 1, 10, 100… only: a line at rank 3 or 4 could not be read. Each legend
    line starts with the image's rank after the latest round."""
    from PySide6.QtGui import QImage

    from interreid.desktop.widgets.rank_chart import RankChart

    chart = RankChart()
    qtbot.addWidget(chart)
    chart.resize(300, 220)  # narrow: the legend goes under the plot
    chart.show()

    def legend_strip(possible_rank: int) -> QImage:
        chart.set_series([("Match: cam01 12:01:17", [(0, 1), (1, 1), (2, 1)], "match"),
                          ("Possible: cam01 12:00:47", [(0, 5), (1, 4), (2, possible_rank)], "possible")])
        image = chart.grab().toImage()
        strip = 2 * (chart.fontMetrics().height() + 2) + 6
        return image.copy(0, image.height() - strip, image.width(), strip)

    assert legend_strip(3) != legend_strip(4)  # the words under the plot say which rank
    assert chart.legend_texts() == ["#1 · Match: cam01 12:01:17", "#4 · Possible: cam01 12:00:47"]


def test_empty_candidate_cards_say_why_they_are_empty(qtbot, lite_case, tmp_path):  # noqa: F811
    """Before the first search the four cards were empty frames with a dash: each now says the candidates come
    after the description is searched; once a search gives candidates, no card keeps that note."""
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    cards = window.interview_page.candidates.cards
    assert all("after the witness's description is searched" in c.image.text() for c in cards)
    assert all(c.image.isVisible() and c.image.wordWrap() for c in cards)
    q = window.interview_page.questions
    qtbot.keyClicks(q.description, "A person wearing a red top.")
    q.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    assert all(c.row is not None and not c.image.text() and not c.image.pixmap().isNull() for c in cards)
    window.close()


def test_import_progress_line_wraps_instead_of_being_cut(qtbot, tmp_path):
    """A video's progress line ("… 18 people so far, 36 images kept") is wider than the import dialog; it was
    cut at the dialog's edge ("36 images kep")."""
    from interreid.desktop.widgets.import_dialog import ImportDialog

    dialog = ImportDialog(tmp_path / "g", [tmp_path])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog._video_progress({"file": str(tmp_path / "north gate camera 2 (export of 1 May).avi"), "frame": 201,
                            "frames_total": 795, "frames_per_s": 52.0, "tracks": 18, "crops": 36,
                            "file_number": 1, "files": 1})
    qtbot.wait(20)
    label = dialog.status
    assert label.fontMetrics().horizontalAdvance(label.text()) > label.width()  # longer than one line
    assert label.wordWrap() and label.height() >= label.heightForWidth(label.width())
