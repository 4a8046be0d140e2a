"""The bits index (sign codes scanned in full, the shortlist re-scored exactly), the people model of
synthetic vectors, and the round's decoded blocks on fp16/int8 galleries."""

from __future__ import annotations

import numpy as np
import pytest

from fixtures_full import tiny_pack  # noqa: F401
from vector_galleries import add_rows, gallery_of

DIM = 256


def _people(n, seed=0, dim=DIM):
    from interreid.engine.gallery.synthetic_people import PeopleModel

    model = PeopleModel(dim, seed=seed)
    rng = np.random.default_rng(seed)
    return model, model.rows(rng, n)[0], model.descriptions(rng, 12)


def _small_shortlist(monkeypatch, rows=1000):
    from interreid.engine.gallery import bits_index

    monkeypatch.setattr(bits_index, "MIN_SHORTLIST", rows)
    monkeypatch.setattr(bits_index, "SHORTLIST_PER_K", 2)
    monkeypatch.setattr(bits_index, "FIRST_STAGE_MIN", 3 * rows)


def test_people_model_has_the_structure_of_person_crops():
    from interreid.engine.gallery.synthetic_people import PeopleModel

    model = PeopleModel(DIM, seed=3)
    x, who = model.rows(np.random.default_rng(3), 3000)
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    sizes = np.bincount(who)
    assert sizes[:-1].min() >= 4 and sizes.max() <= 10 and np.all(np.diff(who) >= 0)  # 4-10 consecutive crops
    sim = x[:600] @ x[:600].T
    same = (who[:600, None] == who[None, :600]) & ~np.eye(600, dtype=bool)
    assert sim[same].mean() > 0.85 > 0.7 > sim[~same].mean()  # a person's crops are close, others further
    var = np.linalg.svd(x - x.mean(0), compute_uv=False) ** 2
    assert np.searchsorted(np.cumsum(var) / var.sum(), 0.9) < DIM // 2  # low effective dimension


def test_bits_search_recall_against_exact_on_people_vectors(monkeypatch):
    """3000 rows by Hamming distance, 1000 of them by the asymmetric score, out of 20,000 (5 %): a
    prefilter that picked rows at random would find ~5 % of the exact top 100; a broken code,
    distance or score far less than the floor asserted here."""
    from interreid.engine.gallery.bits_index import BitsIndex
    from interreid.engine.gallery.index import ExactIndex

    _small_shortlist(monkeypatch)
    _model, x, queries = _people(20_000, seed=1)
    exact, bits = ExactIndex(DIM), BitsIndex(DIM, x)
    exact.add(x, 0)
    bits.add(x, 0)
    recalls = []
    for q in list(queries) + list(x[[5, 777, 15_000]]):  # descriptions, and crops as queries
        truth, found = exact.search(q, 100), bits.search(q, 100)
        recalls.append(len(set(truth.rows.tolist()) & set(found.rows.tolist())) / 100)
        common = np.isin(found.rows, truth.rows)
        assert np.allclose(found.scores, x[found.rows] @ q, atol=1e-5)  # exact scores, best first
        assert np.all(np.diff(found.scores) <= 0) and common[:10].all()
    assert np.mean(recalls) >= 0.9, recalls


def test_asymmetric_score_orders_rows_as_the_query_dot_their_signs():
    from interreid.engine.gallery import bits_index

    rng = np.random.default_rng(9)
    signs = rng.random((300, 70)) > 0.5
    codes = bits_index.encode(signs.astype(np.float32) - 0.5, np.zeros(70, np.float32))
    q = rng.standard_normal(70).astype(np.float32)
    exact = (2 * signs - 1) @ q
    approx = bits_index.asymmetric_scores(codes, q, planes=8)
    assert np.corrcoef(exact, approx)[0, 1] > 0.999  # up to the query's quantisation to 8 bits
    assert np.corrcoef(exact, bits_index.asymmetric_scores(codes, q))[0, 1] > 0.95  # 4 planes, as searched


def test_numpy_fallback_gives_the_same_results_as_faiss(monkeypatch):
    pytest.importorskip("faiss")
    from interreid.engine.gallery import bits_index

    _model, x, queries = _people(3000, seed=2)
    index = bits_index.BitsIndex(DIM, x)
    index.add(x, 0)
    code = bits_index.encode(queries[:1], index.mean)[0]
    with_faiss = bits_index.hamming(index._codes, code, use_faiss=True)
    by_numpy = bits_index.hamming(index._codes, code, use_faiss=False)
    assert np.array_equal(with_faiss, by_numpy) and with_faiss.max() > 0
    first = index.search(queries[0], 50)
    monkeypatch.setattr(bits_index, "_faiss_hammings", lambda: None)  # as on a core install
    second = index.search(queries[0], 50)
    assert np.array_equal(first.rows, second.rows)


def test_bits_index_is_persisted_extended_after_an_import_and_reopened(tmp_path, monkeypatch):
    from interreid.engine.gallery import bits_index
    from interreid.engine.gallery.index import open_index
    from interreid.engine.gallery.store import Gallery

    _small_shortlist(monkeypatch, 200)
    _model, x, queries = _people(3000, seed=4)
    g = gallery_of(tmp_path / "g", x[:2000])
    g.set_index_backend("bits")
    index = open_index(g)
    path = tmp_path / "g" / bits_index.BITS_FILE
    assert index.backend == "bits" and len(index) == 2000 and path.exists()
    size, head = path.stat().st_size, path.read_bytes()[:index.codes_offset]
    add_rows(g, x[2000:], 2000)  # an import: the next open appends the new rows' codes
    index = open_index(g)
    assert len(index) == 3000 and path.stat().st_size == size + 1000 * index.width
    assert path.read_bytes()[:index.codes_offset] == head  # the mean kept as built
    fresh = bits_index.BitsIndex(DIM, x)
    fresh.mean = index.mean
    fresh.add(x, 0)
    assert np.array_equal(np.asarray(index._codes), np.asarray(fresh._codes))  # same codes as one build
    found = index.search(queries[0], 20)
    g.close()
    mtime = path.stat().st_mtime_ns
    with Gallery.open(tmp_path / "g") as again:  # reopened: read from the file, not rebuilt
        reopened = open_index(again)
        assert path.stat().st_mtime_ns == mtime and len(reopened) == 3000
        assert np.array_equal(reopened.search(queries[0], 20).rows, found.rows)
    with open(path, "r+b") as f:  # a damaged header: the index is re-coded, not trusted
        f.write(b"{not json")
    with Gallery.open(tmp_path / "g") as again:
        rebuilt = open_index(again)
        assert len(rebuilt) == 3000 and path.read_bytes().startswith(b'{"version": 1')
        assert len(set(rebuilt.search(queries[0], 20).rows.tolist()) & set(found.rows.tolist())) >= 18


def test_auto_uses_exact_search_below_the_threshold_and_bits_above(tmp_path, monkeypatch):
    from interreid.engine.gallery import index as index_module
    from interreid.engine.gallery.bits_index import BITS_FILE

    assert index_module.choose_backend("auto", index_module.EXACT_THRESHOLD - 1) == "exact"
    assert index_module.choose_backend("auto", index_module.EXACT_THRESHOLD) == "bits"
    _model, x, _q = _people(600, seed=5)
    g = gallery_of(tmp_path / "g", x)
    assert index_module.open_index(g).backend == "exact" and not (tmp_path / "g" / BITS_FILE).exists()
    monkeypatch.setattr(index_module, "EXACT_THRESHOLD", 500)
    assert index_module.open_index(g).backend == "bits" and (tmp_path / "g" / BITS_FILE).exists()
    assert index_module.index_settings(g, 600)["backend"] == "bits"
    g.close()


def test_gallery_index_cli_builds_the_bits_index(tmp_path, capsys):
    from interreid.engine.cli.main import main

    _model, x, _q = _people(500, seed=6)
    gallery_of(tmp_path / "g", x).close()
    assert main(["gallery", "index", str(tmp_path / "g"), "--backend", "bits"]) == 0
    assert "bits index" in capsys.readouterr().out and (tmp_path / "g" / "index.bits").exists()


@pytest.mark.parametrize("fmt", ["int8", "fp16"])
def test_a_round_on_a_quantised_gallery_reads_one_decoded_block(tmp_path, monkeypatch, fmt, tiny_pack):  # noqa: F811
    """The learned selector and the questioner read the round's top-k from one decoded block: never the
    whole file decoded, and the same selection and question as on those rows decoded to float32."""
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery import vector_format
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.gallery.synthetic import build
    from interreid.engine.full.pack import open_pack
    from interreid.engine.interview import loop

    pack = open_pack(tiny_pack)
    build(tmp_path / "g", 3000, pack.identity(), False, vector_format=fmt, text_encoder=pack.retriever())

    def run():
        with Gallery.open(tmp_path / "g") as g:
            interview = loop.Interview(g, build_engine(g, pack=str(tiny_pack)))
            first = interview.start("A man in a red jacket and blue jeans.")
            second = interview.answer("He carried a black backpack.", asked="What did he carry?")
            return [[c.row for c in s.candidates] for s in (first, second)], \
                [s.suggestion.text for s in (first, second)], type(interview._round_vectors)

    def refuse(self, dtype=None, copy=None):
        raise AssertionError("the whole vector file was decoded during a round")

    with monkeypatch.context() as m:
        m.setattr(vector_format.QuantisedVectors, "__array__", refuse)
        chosen, asked, kind = run()
    assert kind is vector_format.DecodedRows and all(len(c) == 4 for c in chosen)
    # the same rounds with the top-k handed over as a plain float32 array of the same decoded rows
    monkeypatch.setattr(loop, "round_view", lambda vectors, rows: _Dense(vectors))
    assert run()[:2] == (chosen, asked)


class _Dense:
    """Every row decoded to float32 up front (the reference the block must agree with)."""

    def __new__(cls, vectors):
        return np.asarray(vectors[np.arange(len(vectors))], dtype=np.float32)


def test_the_interview_searches_through_the_bits_index(tmp_path, tiny_pack):  # noqa: F811
    """An interview round (the CLI's and the app's) asks the gallery's index: with the bits backend
    its top rows are the exact search's, with exact scores."""
    from interreid.engine.engines import build_engine
    from interreid.engine.full.pack import open_pack
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.gallery.synthetic import build
    from interreid.engine.interview.loop import Interview

    pack = open_pack(tiny_pack)
    build(tmp_path / "g", 5000, pack.identity(), False, text_encoder=pack.retriever())
    with Gallery.open(tmp_path / "g") as g:
        g.set_index_backend("bits")
        interview = Interview(g, build_engine(g, pack=str(tiny_pack)))
        state = interview.start("A woman in a black coat with a handbag.")
        assert interview.searcher.index.backend == "bits" and (tmp_path / "g" / "index.bits").exists()
        q = state.ranking.query_vector
        exact = np.argsort(-(np.asarray(g.vectors()) @ q), kind="stable")[:50]
        assert len(set(state.rows[:50].tolist()) & set(exact.tolist())) >= 48
        assert np.allclose(state.scores[:50], np.asarray(g.vectors())[state.rows[:50]] @ q, atol=1e-5)


def test_bench_measures_the_round_with_the_bits_index(tmp_path, tiny_pack):  # noqa: F811
    from interreid.engine.bench.speed_round import build_index, build_synthetic_gallery, measure_round

    folder = tmp_path / "g"
    build_synthetic_gallery(folder, 4000, "full", tiny_pack)
    built = build_index(folder, "bits")
    assert built["backend"] == "bits" and built["index_mb"] > 0 and (folder / "index.bits").exists()
    m = measure_round(folder, tiny_pack, rounds=1, index="bits")
    assert m["index"] == "bits" and m["recall_at_200"] >= 0.95 and m["round_ms"] > 0
    assert m["round_peak_rss_mb"] <= m["peak_rss_mb"]
    # each answered round, its CPU time, the first ranking and the interview's warm-up are reported
    assert len(m["rounds_ms"]) == len(m["rounds_cpu_ms"]) == 1 and m["rounds_cpu_ms"][0] > 0
    assert m["start_ms"] > 0 and m["warm_up_ms"] > 0 and m["open_ms"] >= m["warm_up_ms"]


def test_bench_index_rows_cover_bits_on_both_synthetic_models():
    from interreid.engine.bench.speed_index import index_backend_rows

    rows = {r["name"]: r for r in index_backend_rows((3000,), dim=DIM, k=20, n_queries=5, backends=("bits",),
                                                      progress=lambda m: None)}
    people = rows[f"bits (sign codes + exact re-score) recall@20 vs fp32 exact (3k x {DIM}-d, top-20, people)"]
    clusters = rows[f"bits (sign codes + exact re-score) recall@20 vs fp32 exact (3k x {DIM}-d, top-20)"]
    assert people["value"] >= 0.95 and 0 <= clusters["value"] <= 1
    assert rows[f"bits (sign codes + exact re-score) index file (3k x {DIM}-d, top-20, people)"]["ratio_vs_reference"] > 20


def test_the_shortlist_grows_with_the_gallery():
    """A fixed shortlist lost recall as galleries grew (0.90 at 3M rows with 4,096 rows re-scored, 0.995
    with 12,288): it is at least n / SHORTLIST_FRACTION, and the Hamming stage keeps four times it."""
    from interreid.engine.gallery import bits_index as b

    assert b.shortlist(1_000_000, 1000) == b.MIN_SHORTLIST  # unchanged where it was measured
    assert b.shortlist(3_000_000, 1000) == 3_000_000 // b.SHORTLIST_FRACTION > b.MIN_SHORTLIST
    assert b.shortlist(10_000_000, 1000) == 40_000
    for n in (50_000, 1_000_000, 3_000_000, 10_000_000):
        assert b.first_stage(n, 1000) >= 4 * b.shortlist(n, 1000) or b.first_stage(n, 1000) == n
    assert b.shortlist(2000, 1000) == 2000  # never more than the gallery
