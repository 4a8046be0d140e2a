"""What was understood, the empty-constraint warning and the investigator's audited corrections,
through the interview loop with a real case file, the CLI and the desktop chips (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest

from interreid.engine.casefile import CaseFile
from interreid.engine.engines import build_engine
from interreid.engine.errors import UserError
from interreid.engine.gallery.store import Gallery
from interreid.engine.interview.loop import Interview


def test_a_query_that_constrains_nothing_says_so(lite_gallery):
    with Gallery.open(lite_gallery) as g:
        iv = Interview(g, build_engine(g))
        state = iv.start("A tall person walking fast.")
        assert state.constrains_nothing
        assert state.understood[0]["constraints"] == [] and "walking" in state.understood[0]["unused"]
        state = iv.answer("His jacket was red.", asked="What colour was his jacket?")
        assert not state.constrains_nothing
        assert "top: red (sure; answer weighed 61%)" in state.understood[1]["constraints"]


def test_an_answer_about_another_garment_is_shown_as_not_what_was_asked(lite_gallery):
    with Gallery.open(lite_gallery) as g:
        iv = Interview(g, build_engine(g))
        iv.start("A man in a black jacket.")
        state = iv.answer("He wore a navy blue jacket.", asked="What colour were his shoes?")
        assert "top: dark blue (said ‘navy blue’; not what was asked; answer weighed 61%)" in state.understood[1]["constraints"]
        state = iv.answer("White trainers.", asked="What colour were his shoes?")
        assert "shoes: white (sure; answer weighed 23%)" in state.understood[2]["constraints"]


def test_the_query_is_shown_in_the_witness_words_without_the_engine_markers(lite_gallery):
    from interreid.engine.interview.query import readable_query

    with Gallery.open(lite_gallery) as g:
        iv = Interview(g, build_engine(g))
        iv.start("A man in a black jacket.")
        state = iv.answer("He wore a navy blue jacket.", asked="What colour were his shoes?")
        state = iv.correct(state.understood[0]["keys"][0])
    assert "[asked" in state.query and "[drop" in state.query  # what the engine reads
    shown = readable_query(state.query)
    assert "[" not in shown and "]" not in shown
    assert shown.startswith("A man in a black jacket.") and "He wore a navy blue jacket." in shown


def test_correction_is_audited_used_for_ranking_and_resumed(lite_gallery, tmp_path):
    with Gallery.open(lite_gallery) as g:
        engine = build_engine(g)
        with CaseFile.create(tmp_path / "c.case", "t", "tester", g, engine.identity()) as case:
            iv = Interview(g, engine, case=case)
            state = iv.start("A person in a red top and blue trousers.")
            keys = dict(zip(state.understood[0]["keys"], state.understood[0]["constraints"]))
            assert "upper red +" in keys
            with pytest.raises(UserError):
                iv.correct("upper purple +")  # not part of the search
            before = iv.rank(iv.query()).scores
            state = iv.correct("upper red +", "green")
            assert "[drop upper red +]" in state.query and "Top: green." in state.query
            assert "top: red (sure)" in state.understood[0]["removed"]
            assert any("top: green" in c for u in state.understood for c in u["constraints"])
            assert not np.array_equal(before, state.scores)  # the correction changed the ranking
            events = [e for e in case.audit_entries() if e.event == "constraint.corrected"]
            assert len(events) == 1
            params = events[0].params
            assert params["removed"] == "top: red (sure)" and params["replacement"] == "Top: green."
            # the corrected ranking and candidates are what the case now holds; the first ones are kept,
            # marked superseded
            records = iv.records
            assert [c["gallery_row"] for c in records.candidates(1)] == [c.row for c in state.candidates]
            assert np.array_equal(records.ranking(0)[1], state.scores[:len(records.ranking(0)[1])])
            assert len(records.rankings()) == 1
            states = case.conn.execute("SELECT state, COUNT(*) FROM candidates GROUP BY state").fetchall()
            assert dict(states) == {"active": len(state.candidates), "superseded": len(state.candidates)}
            assert any(e.event == "candidates.superseded" for e in case.audit_entries())
            query = state.query
            shown = [c.row for c in state.candidates]
        with CaseFile.open(tmp_path / "c.case") as case:
            state = Interview(g, build_engine(g), case=case).resume()
            assert state.query == query  # the correction survives reopening the case
            assert [c.row for c in state.candidates] == shown


def test_the_report_reads_each_statement_as_the_interview_did(lite_gallery, tmp_path):
    """The report's "What the software understood" and the interview's chips come from one reading
    (interview/understood.py): the same labels per statement, a removed one kept in the report and said so,
    the correction last; an undone round is in neither."""
    from interreid.engine.report.data import collect

    with Gallery.open(lite_gallery) as g:
        engine = build_engine(g)
        with CaseFile.create(tmp_path / "c.case", "t", "tester", g, engine.identity()) as case:
            iv = Interview(g, engine, case=case)
            iv.start("A man in a black jacket, dark blonde hair.")
            iv.answer("Grey trousers.", asked="What colour were his trousers?")
            iv.answer("Red shoes.", asked="What colour were his shoes?")
            iv.undo()
            state = iv.answer("White trainers, I think.", asked="What colour were his shoes?")
            state = iv.correct("upper black +", "dark blue")
            shown = state.understood
        with CaseFile.open(tmp_path / "c.case") as case:
            report = collect(case).understood
    assert [u["who"] for u in report] == ["Initial description", "Answer in round 1", "Answer in round 2",
                                          "Investigator's correction (round 3)"]
    assert [u["said"] for u in report] == [u["said"] for u in shown] == [
        "A man in a black jacket, dark blonde hair.", "Grey trousers.", "White trainers, I think.", "Top: dark blue."]
    for mine, theirs in zip(shown, report):
        assert theirs["constraints"] == [label + (" — removed by the investigator" if gone else "")
                                         for _k, label, gone in mine["items"]]  # in the engine's order
        assert sorted(label for _k, label, gone in mine["items"] if not gone) == sorted(mine["constraints"])
        assert theirs["unused"] == mine["unused"]
    assert "top: black (sure) — removed by the investigator" in report[0]["constraints"]
    assert "shoes: white (less sure; answer weighed 23%)" in report[2]["constraints"]


def test_cli_lists_and_corrects_constraints(lite_gallery, tmp_path, monkeypatch, capsys):
    import io

    from interreid.engine.cli.main import main

    monkeypatch.setattr("sys.stdin", io.StringIO(":drop 1\n:quit\n"))
    rc = main(["interview", "--gallery", str(lite_gallery), "--case", str(tmp_path / "cli.case"), "--title", "t",
               "--description", "A person in a red top, carrying a bag."])
    out = capsys.readouterr().out
    assert rc == 0
    assert "understood from description: [1] top: red (sure)" in out and "not used:" in out and "bag" in out
    assert "top: red (sure) (removed by you)" in out
    assert "[drop" not in out  # the engine's markers are not shown to the investigator
    assert "WARNING: nothing said so far" in out  # with the only constraint removed, nothing is left
    assert "match" in out and "100%" in out


def test_desktop_chips_show_and_remove_a_constraint(qtbot, lite_gallery, tmp_path):
    pytest.importorskip("pytestqt")
    from desktop_started import started_window

    window = started_window(qtbot, lite_gallery, tmp_path, "A tall person walking fast.")
    page = window.interview_page
    panel = page.understood
    assert panel.isVisible() and panel.warning.isVisible()  # nothing to search on: said plainly
    assert panel.chips == []
    window.session.ask("What colour was the jacket?", "Red, I think.")
    qtbot.waitUntil(lambda: not window.session.busy and len(window.session.state.dialogue) == 1, timeout=30000)
    assert not panel.warning.isVisible()
    labels = [c.accessibleName() for c in panel.chips]
    assert "top: red (less sure; answer weighed 61%)" in labels
    chip = panel.chips[labels.index("top: red (less sure; answer weighed 61%)")]
    remove = next(a for a in chip.menu().actions() if a.text() == "Remove")
    remove.trigger()
    qtbot.waitUntil(lambda: not window.session.busy and bool(window.session.interview.corrections), timeout=30000)
    assert "top: red (less sure; answer weighed 61%)" not in [c.accessibleName() for c in panel.chips]
    assert "[drop upper red +]" in window.session.state.query  # used for ranking
    events = [e for e in window.session.case.audit_entries() if e.event == "constraint.corrected"]
    assert len(events) == 1 and events[0].params["removed"] == "top: red (less sure; answer weighed 61%)"
    window.close()


def test_cli_search_warns_when_the_description_constrains_nothing(lite_gallery, capsys):
    from interreid.engine.cli.main import main

    assert main(["search", "--gallery", str(lite_gallery), "a tall person walking fast", "--top", "2"]) == 0
    err = capsys.readouterr().err
    assert "names no colour or garment" in err and "walking" in err
    assert main(["search", "--gallery", str(lite_gallery), "a red top", "--top", "2"]) == 0
    assert "names no colour" not in capsys.readouterr().err


def test_skipped_question_stays_skipped_after_reopening(lite_gallery, tmp_path):
    with Gallery.open(lite_gallery) as g:
        with CaseFile.create(tmp_path / "s.case", "t", "tester", g, build_engine(g).identity()) as case:
            iv = Interview(g, build_engine(g), case=case)
            first = iv.start("A person in a red top.").suggestion
            second = iv.skip().suggestion
            assert second.text != first.text and second.attribute != first.attribute
        with CaseFile.open(tmp_path / "s.case") as case:
            again = Interview(g, build_engine(g), case=case).resume().suggestion
            assert again.text != first.text and again.attribute != first.attribute


def test_long_chips_go_on_two_lines_and_chips_wrap_within_the_panel(qtbot):
    """A chip wider than the panel allows shows what was said on one line and how it was taken on the next;
    chips flow onto as many lines as the panel's width needs, none of them past its right edge."""
    pytest.importorskip("pytestqt")
    from types import SimpleNamespace

    from interreid.desktop.widgets.understood_panel import CHIP_WIDTH, UnderstoodPanel, chip_text

    long_label = "trousers/legs: brown (said ‘beige’; not what was asked; answer weighed 61%)"
    assert chip_text(long_label, len, 70) == "trousers/legs: brown\n(said ‘beige’; not what was asked; answer weighed 61%)"
    assert chip_text(long_label, len, 40) == ("trousers/legs: brown\n(said ‘beige’; not what was asked;\n"
                                              "answer weighed 61%)")
    assert chip_text("sleeves: long (less sure)", len, 30) == "sleeves: long (less sure)"
    panel = UnderstoodPanel()
    qtbot.addWidget(panel)
    panel.resize(340, 400)
    labels = ["hair/head: yellow (said ‘blonde’; sure)", "sleeves: long (less sure)", "legs: long trousers (sure)",
              long_label]
    state = SimpleNamespace(understood=[{"round": 0, "constraints": labels, "keys": [f"k{i}" for i in range(4)],
                                         "unused": ["walking"], "removed": []}], constrains_nothing=False)
    panel.show()
    panel.show_state(state)
    qtbot.waitUntil(lambda: all(c.isVisible() for c in panel.chips), timeout=5000)
    chips = panel.chips
    assert [c.accessibleName() for c in chips] == labels
    assert "\n" in chips[3].text() and chips[3].sizeHint().width() <= CHIP_WIDTH + 30
    right = panel.body.width()
    assert all(c.geometry().right() <= right for c in chips)  # nothing cut at the panel's edge
    assert chips[1].geometry().top() == chips[2].geometry().top()  # two short chips share a line
    assert chips[3].geometry().top() > chips[2].geometry().top()


def test_the_panel_scrolls_to_what_the_latest_answer_was_taken_as(qtbot):
    """After a few answers the statements are taller than the panel: it shows the latest answer's chips
    (what the investigator has just to check), not only the description at its top."""
    pytest.importorskip("pytestqt")
    from types import SimpleNamespace

    from interreid.desktop.widgets.understood_panel import UnderstoodPanel

    panel = UnderstoodPanel()
    qtbot.addWidget(panel)
    panel.resize(380, 160)
    first = {"round": 0, "constraints": ["hair/head: dark (sure)", "top: red (sure)", "trousers/legs: blue (sure)",
                                         "sleeves: long (less sure)", "legs: long trousers (sure)"],
             "keys": ["head dark +", "upper red +", "lower blue +", "cue sleeves", "cue length"],
             "unused": ["walking", "quickly"], "removed": []}
    answers = [{"round": i, "constraints": [f"shoes: white (sure; answer weighed {40 + i}%)"], "keys": [f"a{i}"],
                "unused": [], "removed": []} for i in (1, 2, 3)]
    panel.show()
    panel.show_state(SimpleNamespace(understood=[first], constrains_nothing=False))
    qtbot.waitUntil(lambda: all(c.isVisible() for c in panel.chips), timeout=5000)
    from PySide6.QtWidgets import QScrollArea

    scroll = panel.findChild(QScrollArea)
    bar = scroll.verticalScrollBar()
    assert bar.value() == 0  # the description alone: shown from its top
    panel.show_state(SimpleNamespace(understood=[first] + answers, constrains_nothing=False))
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=5000)
    latest = panel.chips[-1]
    assert latest.accessibleName() == "shoes: white (sure; answer weighed 43%)"
    top_left = latest.mapTo(scroll.viewport(), latest.rect().topLeft())
    assert 0 <= top_left.y() and top_left.y() + latest.height() <= scroll.viewport().height()
