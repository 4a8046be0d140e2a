"""Interactive re-ID metrics on hand-computed cases (docs/evaluation.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from interreid.engine.evaluation.metrics import (average_precision, best_ranks, bri, correct_positions, first_rank,
                                       inverse_negative_penalty, ranking_from_scores, recall_at, round_metrics)


def test_positions_ap_inp_by_hand():
    rows = np.array([3, 1, 0, 2, 4])  # ranking, best first
    pos = correct_positions(rows, {0, 4})
    assert pos.tolist() == [3, 5]
    assert first_rank(pos) == 3
    assert average_precision(pos) == pytest.approx((1 / 3 + 2 / 5) / 2)
    assert inverse_negative_penalty(pos) == pytest.approx(2 / 5)
    mask = np.zeros(5, dtype=bool)
    mask[[0, 4]] = True
    assert correct_positions(rows, mask).tolist() == [3, 5]


def test_perfect_ranking_is_100():
    m = round_metrics([[1, 2], [1]])
    assert m["R@1"] == m["mAP"] == m["mINP"] == 100.0
    assert m["mean_rank"] == 1.0


def test_ties_keep_gallery_order():
    scores = np.array([0.5, 0.9, 0.5, 0.1])
    rows = ranking_from_scores(scores)
    assert rows.tolist() == [1, 0, 2, 3]
    # row 2 ties row 0 and comes after it: rank 3, not 2
    assert correct_positions(rows, [2]).tolist() == [3]
    # all equal: plain gallery order
    assert ranking_from_scores(np.zeros(4)).tolist() == [0, 1, 2, 3]


def test_recall_and_a_target_never_in_the_top():
    firsts = [1, 3, 50]
    assert recall_at(firsts, 1) == pytest.approx(100 / 3)
    assert recall_at(firsts, 5) == pytest.approx(200 / 3)
    assert recall_at(firsts, 10) == pytest.approx(200 / 3)
    m = round_metrics([[1, 7], [3], [50, 60]])
    assert m["R@1"] == pytest.approx(100 / 3)
    assert m["R@10"] == pytest.approx(200 / 3)
    ap = [(1 / 1 + 2 / 7) / 2, 1 / 3, (1 / 50 + 2 / 60) / 2]
    inp = [2 / 7, 1 / 3, 2 / 60]
    assert m["mAP"] == pytest.approx(100 * np.mean(ap))
    assert m["mINP"] == pytest.approx(100 * np.mean(inp))
    assert m["mean_rank"] == pytest.approx(54 / 3)
    assert m["median_rank"] == 3


def test_missing_target_is_an_error():
    with pytest.raises(ValueError):
        correct_positions(np.array([0, 1, 2]), [7])


def test_bri_one_round():
    # q1: 4 -> 2: (ln 4 + ln 2) / 2 = 1.5 ln 2; q2 stays at rank 1: 0
    assert bri([[4, 2], [1, 1]]) == pytest.approx((1.5 * math.log(2) + 0) / 2)
    # a worse rank later never counts: best stays 2
    assert bri([[2, 9]]) == pytest.approx(math.log(2))


def test_bri_five_rounds():
    ranks = [[10, 20, 5, 5, 8, 1]]
    assert best_ranks(ranks).tolist() == [[10, 10, 5, 5, 5, 1]]
    l10, l5 = math.log(10), math.log(5)
    # trapezoids: l10, (l10 + l5)/2, l5, l5, l5/2 -> 1.5 l10 + 3 l5, over T = 5
    expected = (1.5 * l10 + 3 * l5) / 5
    assert bri(ranks) == pytest.approx(expected)
    assert bri(ranks + [[1] * 6]) == pytest.approx(expected / 2)


def test_bri_rejects_bad_input():
    with pytest.raises(ValueError):
        bri([[3]])
    with pytest.raises(ValueError):
        bri([[0, 1]])


def test_training_retrieval_metrics_share_the_definitions():
    from interreid.engine.training.metrics import retrieval_metrics

    sim = np.array([[0.9, 0.1, 0.5, 0.2], [0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.1, 0.0]])
    out = retrieval_metrics(sim, np.array([1, 2, 9]), np.array([1, 2, 1, 2]))
    # query 9 has no image in the gallery: a miss at every k, left out of mAP / mINP
    assert out["R@1"] == pytest.approx(200 / 3, abs=1e-3) and out["R@10"] == pytest.approx(200 / 3, abs=1e-3)
    assert out["mAP"] == pytest.approx(100 * (1.0 + (1 + 2 / 3) / 2) / 2, abs=1e-3)
