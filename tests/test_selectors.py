import numpy as np

from interreid.engine.interview.selectors import KMeansSelector, TopSelector, UniformSelector


def _clusters():
    rng = np.random.default_rng(0)
    centres = np.eye(3, 8)
    # ranks 2..13 come in 3 tight groups: a, b, c, a, b, c...
    vecs = np.array([centres[i % 3] + rng.normal(0, 0.01, 8) for i in range(13)])
    return np.arange(13), vecs


def test_top_and_uniform():
    topk, vecs = _clusters()
    assert TopSelector().select(topk, vecs) == [0, 1, 2, 3]
    picks = UniformSelector().select(topk, vecs)
    assert picks[0] == 0 and picks[-1] == 12 and len(picks) == 4 and picks == sorted(picks)


def test_kmeans_shows_one_per_cluster_best_ranked_first():
    topk, vecs = _clusters()
    picks = KMeansSelector().select(topk, vecs)
    assert picks[0] == 0 and len(picks) == 4
    groups = {int(np.argmax(vecs[p])) for p in picks[1:]}
    assert groups == {0, 1, 2}  # one representative of each cluster
    assert picks[1:] == [1, 2, 3]  # the best-ranked member of each


def test_fewer_rows_than_candidates():
    topk, vecs = _clusters()
    for sel in (TopSelector(), UniformSelector(), KMeansSelector()):
        assert sel.select(topk[:2], vecs) == [0, 1]
