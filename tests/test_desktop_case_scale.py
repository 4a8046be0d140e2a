"""The app on a large (synthetic) gallery: opening a case reads no per-row list (camera, time, track and
hash are read for the images the grid lists), and the rank chart has a point for a marked image ranked
below the top rows the case keeps (an open circle under a dashed "top N kept" line)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from test_desktop_interview import WAIT, idle, make_window, open_and_wait  # noqa: E402


@pytest.fixture
def synthetic_case(tmp_path):
    """A synthetic lite gallery bigger than the rows a round keeps (1000), and a new case on it."""
    from interreid.engine.bench.speed_round import build_synthetic_gallery
    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery

    build_synthetic_gallery(tmp_path / "g", 1500, "lite")
    with Gallery.open(tmp_path / "g") as g:
        CaseFile.create(tmp_path / "big.case", "Big gallery", "tester", g, build_engine(g).identity()).close()
    return tmp_path / "big.case"


def test_opening_a_case_reads_only_the_rows_the_grid_lists(qtbot, synthetic_case, tmp_path, monkeypatch):
    from interreid.desktop.models import ranking_model
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.video import query

    def whole_gallery(*_args, **_kwargs):
        raise AssertionError("opening a case must not read every row of the gallery")

    for name in ("row_metadata", "snapshot", "shas", "fingerprint", "iter_shas", "cameras"):
        monkeypatch.setattr(Gallery, name, whole_gallery)
    monkeypatch.setattr(query, "track_of_rows", whole_gallery)
    monkeypatch.setattr(ranking_model, "UNRANKED_LIMIT", 100)  # the gallery's first page before a search
    read: list[int] = []
    facts = Gallery.facts_of_rows

    def counting(self, rows):
        rows = list(rows)
        read.extend(rows)
        return facts(self, rows)

    monkeypatch.setattr(Gallery, "facts_of_rows", counting)
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, synthetic_case)
    grid = window.interview_page.grid
    assert window.session.opened_case.gallery_size == 1500
    assert grid.model.rowCount() == 100 and grid.count.text() == "first 100 of 1,500 images"
    assert sorted(set(read)) == list(range(100))  # camera and time of the listed rows only
    q = window.interview_page.questions
    qtbot.keyClicks(q.description, "A person in a red top and blue trousers.")
    q.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    assert grid.model.rowCount() == 1000  # the ranking's kept top
    assert len(set(read)) <= 1100 < 1500  # ... and its rows' camera and time, never the whole gallery
    window.close()


def test_the_rank_chart_shows_a_marked_image_below_the_kept_top(qtbot, synthetic_case, tmp_path):
    import numpy as np

    from interreid.engine.casefile import CaseFile
    from interreid.engine.casefile.case import InterviewRecords

    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, synthetic_case)
    q = window.interview_page.questions
    qtbot.keyClicks(q.description, "A person in a red top and blue trousers.")
    q.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    state = window.session.state
    far = int(np.setdiff1d(np.arange(1500), state.rows)[0])
    expected = state.rank_of(far)
    sha = window.session.opened_case.shas[far]
    window.session.mark(sha, "possible", "far down the list")
    chart = window.interview_page.chart
    qtbot.waitUntil(lambda: bool(chart.beyond_points()), timeout=WAIT)
    assert chart.kept == 1000 and expected > 1000
    assert [(rnd, rank) for _label, rnd, rank in chart.beyond_points()] == [(0, expected)]
    assert "top 1,000 kept" in chart.kept_label()
    qtbot.waitUntil(lambda: idle(window), timeout=WAIT)
    window.close()
    with CaseFile.open(synthetic_case) as case:  # the app stored the counted rank in the case (audited)
        (point,) = InterviewRecords(case).rank_points()
    assert point["sha256"] == sha and point["rank"] == expected and point["kept"] == 1000
    assert point["counted"] == "later"  # marked after the round was ranked: that round's query scored again
