"""Plain words for the engine's technical ones, with the technical text kept at hand."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from test_desktop_interview import (  # noqa: F401
    WAIT,
    accept_next_dialog,
    idle,
    lite_case,
    make_window,
    open_and_wait,
)

from interreid.desktop.plain import plain_engine, plain_event, plain_rationale, plain_reasons


def test_match_reasons_are_grouped_words_not_raw_numbers():
    text = "upper: white 0.09, lower: white 0.09, lower: blue 0.45, lower length: short 0.81"
    out = plain_reasons(text)
    assert out == ("Top: white unlikely. Trousers or skirt: white unlikely, blue possible. "
                   "Trouser length: short likely.")
    assert out.count("Trousers or skirt") == 1 and "0." not in out
    assert plain_reasons("upper: red 0.10 (said not)") == "Top: not red: doubtful."
    assert plain_reasons("something the engine says differently") == "something the engine says differently"


def test_rationale_event_and_engine_words():
    why = "the top candidates differ most in upper-body colour: red 60%, blue 30% — expected gain 0.62 bits"
    assert "bits" not in plain_rationale(why) and plain_rationale(why).startswith("The best-ranked images differ")
    why += ", weighed by how reliably the camera shows it (the witness mentioned the top when asked about something"
    assert plain_rationale(why) == ("The best-ranked images differ most in upper-body colour: red 60%, blue 30% (the "
                                    "witness mentioned the top when asked about something")
    assert plain_rationale("next fixed template: shoe colour") == "The next question in a fixed order: shoe colour"
    assert plain_event("candidates.shown") == "Candidates put before the investigator"
    assert plain_event("case.meta") == "Case detail recorded"
    assert plain_event("some.new_event") == "Some: new event"
    assert plain_engine("lite", "lite engine; selector kmeans, questioner infogain") == \
        "Colour search (no model) · varied candidates"
    assert plain_engine("full", "full engine, pack tiny 0.1 (untrained — for testing only); selector top, "
                                "questioner llava") == \
        "Image-model search (tiny 0.1 (untrained — for testing only)) · the best-ranked candidates"


def test_window_shows_plain_words_and_keeps_the_technical_ones(qtbot, lite_case, tmp_path):  # noqa: F811
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, lite_case)
    page, q = window.interview_page, window.interview_page.questions
    qtbot.keyClicks(q.description, "A person wearing a red top.")
    q.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    card = page.candidates.cards[0]
    assert "Top: red" in card.reasons.text() and "upper:" in card.reasons.toolTip()
    assert "not a probability" in card.score.toolTip()
    assert "top 200" not in page.cand_title.text() and "bits" not in q.rationale.text()
    assert "bits" in q.rationale.toolTip() or not q.rationale.toolTip()
    assert "weighed by how reliably" not in q.rationale.text()
    # the rank chart: labelled by mark and camera (no hash prefix), coloured like the card badge
    from interreid.desktop.models.ranking_model import MARK_COLOURS

    accept_next_dialog("")
    card.mark_requested.emit(card.row, "possible")
    qtbot.waitUntil(lambda: bool(page.chart.series) and idle(window), timeout=WAIT)
    label, _pts, colour = page.chart.series[0]
    assert label.startswith("Possible: cam0") and card.sha[:6] not in label
    assert colour.name() == MARK_COLOURS["possible"].name()
    window.close()
    # recent cases list the case's title
    again = make_window(qtbot, tmp_path)
    assert again.start_page.recent.item(0).text().startswith("Test case")
    again.close()


def test_report_audit_section_in_words_with_technical_names_beside(lite_case, tmp_path):  # noqa: F811
    from interreid.engine.report import write_report

    html = write_report(lite_case, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Case detail recorded" in html and "case.meta" in html
    assert "How the gallery was searched" in html and "clothing colours" in html


def test_pdf_report_speaks_plainly_too(lite_case, tmp_path):  # noqa: F811
    pytest.importorskip("reportlab")
    from interreid.engine.casefile import CaseFile
    from interreid.engine.casefile.case import InterviewRecords
    from interreid.engine.report import write_report

    with CaseFile.open(lite_case) as case:
        InterviewRecords(case).save_candidates(0, [{"sha256": "a" * 64, "gallery_row": 0, "rank": 1, "score": -1.5,
                                                    "reasons": "upper: red 0.90"}])
    html = write_report(lite_case, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Top: red likely." in html and "upper: red 0.90" in html
    assert "Record of every action (audit log)" in html
    pdf = write_report(lite_case, tmp_path / "r.pdf")
    assert pdf.stat().st_size > 1000


def test_command_line_advice_becomes_window_advice():
    from interreid.desktop.errors import app_wording
    from interreid.engine.errors import CaseFileError, GalleryError

    cases = [CaseFileError("Case file x.case does not exist; check the path or create it with 'case new'."),
             GalleryError("Gallery folder g does not exist; import images into it first with "
                          "'interreid gallery import SRC --gallery DIR'."),
             GalleryError("g is not an interreid gallery (no gallery.db); import images into it first with "
                          "'interreid gallery import'."),
             GalleryError("The gallery was built with model pack p, which is not installed; install it with "
                          "'interreid pack install SRC' or give --pack DIR.")]
    for exc in cases:
        text = app_wording(str(exc))
        assert "'interreid" not in text and "'case" not in text and "--" not in text, text
        assert "gallery.db" not in text
