"""The ranked grid's model: lazy thumbnails at 100k rows, numpy filters, marks."""

from __future__ import annotations


import numpy as np
import pytest

pytest.importorskip("pytestqt")

from interreid.desktop.models.ranking_model import RANK_ROLE, ROW_ROLE, RankingFilter, RankingModel  # noqa: E402
from interreid.desktop.models.thumbnails import ThumbnailCache  # noqa: E402
from interreid.desktop.widgets.ranked_grid import RankedGrid  # noqa: E402

N = 100_000


def fake_model(n=N, loads=None):
    cams = [f"cam{i % 7:02d}" for i in range(n)]
    stamps = [f"2024-05-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}" for i in range(n)]
    shas = [f"{i:064x}" for i in range(n)]
    thumbs = ThumbnailCache(lambda row: f"/nonexistent/{row}.jpg", capacity=200)
    model = RankingModel(thumbs, shas, cams, stamps)
    rng = np.random.default_rng(0)
    rows = rng.permutation(n)
    model.set_ranking(rows, np.linspace(1, 0, n, dtype=np.float32))
    return model, rows


def test_grid_over_100k_rows_loads_only_a_screenful(qtbot):
    model, rows = fake_model()
    grid = RankedGrid()
    qtbot.addWidget(grid)
    grid.resize(900, 600)
    grid.set_model(model)
    grid.show()
    qtbot.waitExposed(grid)
    qtbot.wait(50)
    # a 900 x 600 grid of 84 x 148 cells shows about 10 x 4; allow generous slack but far below N
    assert 0 < model.thumbs.loads <= 120, model.thumbs.loads
    grid.view.scrollToBottom()
    qtbot.wait(50)
    assert model.thumbs.loads <= 240
    last = model.index(model.rowCount() - 1)
    assert last.data(RANK_ROLE) == N and last.data(ROW_ROLE) == int(rows[-1])
    assert len(model.thumbs._cache) <= 200


def test_filters_by_camera_time_and_hidden_rows(qtbot):
    model, rows = fake_model(1000)
    model.set_filter(RankingFilter(cameras={"cam03"}))
    assert model.rowCount() == sum(1 for r in rows if r % 7 == 3)
    assert all(model.index(i).data(ROW_ROLE) % 7 == 3 for i in range(model.rowCount()))
    ranks = [model.index(i).data(RANK_ROLE) for i in range(model.rowCount())]
    assert ranks == sorted(ranks)  # the filter keeps rank order and the full-ranking rank numbers
    model.set_filter(RankingFilter(time_from="2024-05-01T00:05", time_to="2024-05-01T00:06"))
    kept = {model.index(i).data(ROW_ROLE) for i in range(model.rowCount())}
    assert kept == set(range(300, 420))  # 00:05:00 .. 00:06:59 inclusive
    hidden = {int(rows[0]), int(rows[1])}
    model.set_filter(RankingFilter(hidden_rows=hidden))
    assert model.rowCount() == 998 and model.index(0).data(RANK_ROLE) == 3
    model.set_filter(RankingFilter())
    assert model.rowCount() == 1000
