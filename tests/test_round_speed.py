"""The full-engine round's fast paths give the same results as the plain ones they replaced: the bits
index's FAISS asymmetric stage, its sampled cut-off, its BLAS-free exact re-score (threaded or not),
the vectorised k-means, and a round that encodes its query once."""

from __future__ import annotations

import numpy as np
import pytest

from fixtures_full import tiny_pack  # noqa: F401


def _codes(n, dim, seed=0):
    from interreid.engine.gallery import bits_index

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return bits_index.encode(x, np.zeros(dim, np.float32)), rng.standard_normal(dim).astype(np.float32)


def test_asymmetric_stage_by_faiss_equals_numpy_popcounts():
    pytest.importorskip("faiss")
    from interreid.engine.gallery import bits_index

    for dim, planes in ((512, 4), (70, 4), (256, 6)):  # 70: a code padded to whole words
        codes, q = _codes(3000, dim, seed=dim)
        by_faiss = bits_index.asymmetric_scores(codes, q, planes=planes)
        by_numpy = bits_index.asymmetric_scores(codes, q, planes=planes, use_faiss=False)
        assert by_faiss.dtype == np.float32 and np.array_equal(by_faiss, by_numpy)
        signs = np.unpackbits(codes, axis=1)[:, :dim].astype(np.float32) * 2 - 1
        assert np.corrcoef(signs @ q, by_faiss)[0, 1] > 0.95


def _full_histogram_rows(distances, m, width_bits):
    counts = np.cumsum(np.bincount(distances, minlength=width_bits + 1))
    cut = int(np.searchsorted(counts, m))
    return np.flatnonzero(distances <= cut)


@pytest.mark.parametrize("workers", [1, 2])
def test_sampled_cut_off_keeps_the_rows_of_the_full_histogram(monkeypatch, workers):
    """From 4 x SAMPLE_ROWS distances the cut-off is guessed from a sample and made exact on the rows
    within the guess (found in parts over the cores from PARALLEL_FROM rows); the rows kept are those of
    the histogram of every distance (ties included)."""
    from interreid.engine.gallery import bits_index

    monkeypatch.setattr(bits_index, "_WORKERS", workers)
    assert 4 * bits_index.SAMPLE_ROWS + 123 >= bits_index.PARALLEL_FROM

    n = 4 * bits_index.SAMPLE_ROWS + 123
    rng = np.random.default_rng(4)
    cases = [rng.binomial(512, 0.5, n).astype(np.int32),  # Hamming distances of random codes
             np.clip(rng.normal(200, 40, n), 0, 512).astype(np.int32)]
    misleading = np.full(n, 400, dtype=np.int32)  # the sample sees only near rows: the guess keeps too few
    misleading[np.arange(n) % (n // bits_index.SAMPLE_ROWS) == 0] = 10
    cases.append(misleading)
    for distances in cases:
        for m in (1, 5000, 20_000, 100_000, n - 1):
            got = bits_index.nearest(distances, m, 512)
            want = _full_histogram_rows(distances, m, 512)
            assert got.dtype == np.int64 and np.array_equal(got, want)
            assert len(got) >= m
    assert np.array_equal(bits_index.nearest(cases[0], n, 512), np.arange(n))


def test_exact_rescore_without_blas_equals_the_matrix_product(tmp_path):
    from interreid.engine.gallery import bits_index

    rng = np.random.default_rng(5)
    x = rng.standard_normal((5000, 64)).astype(np.float32)
    path = tmp_path / "v.f32"
    x.tofile(path)
    mapped = np.memmap(path, dtype=np.float32, mode="r", shape=x.shape)
    q = rng.standard_normal(64).astype(np.float32)
    rows = np.sort(rng.choice(5000, 3000, replace=False))
    want = x[rows].astype(np.float64) @ q
    for vectors in (x, mapped, x[:, :64:1].copy(order="F")):  # in-place reads, and a gather otherwise
        got = bits_index.inner_products(vectors, rows, q)
        assert got.dtype == np.float32 and np.allclose(got, want, atol=1e-4)
    with pytest.raises(IndexError):
        bits_index.inner_products(mapped, np.array([0, 5000]), q)  # never a read past the file
    index = bits_index.BitsIndex(64, mapped)
    threaded = index._exact_scores(rows, q)  # split over the cores when there are several
    assert np.array_equal(threaded, bits_index.inner_products(mapped, rows, q))


def test_faiss_calls_leave_this_threads_openmp_setting_as_it_was():
    faiss = pytest.importorskip("faiss")
    from interreid.engine.gallery import bits_index

    before = faiss.omp_get_max_threads()
    codes, q = _codes(2000, 128)
    bits_index.hamming(codes, codes[0])
    bits_index.asymmetric_scores(codes, q)
    assert faiss.omp_get_max_threads() == before


def test_vectorised_kmeans_gives_the_labels_of_the_difference_form():
    from interreid.engine.interview.selectors import kmeans

    def by_differences(x, n_clusters, iterations=20, seed=0):  # the form it replaced
        rng = np.random.default_rng(seed)
        n = len(x)
        centres = [x[rng.integers(n)]]
        for _ in range(1, n_clusters):
            d2 = np.min(((x[:, None, :] - np.asarray(centres)[None]) ** 2).sum(-1), axis=1)
            centres.append(x[int(rng.choice(n, p=d2 / d2.sum()))])
        c = np.asarray(centres)
        labels = np.zeros(n, dtype=int)
        for i in range(iterations):
            new = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
            if i and np.array_equal(new, labels):
                break
            labels = new
            for j in range(n_clusters):
                if np.any(labels == j):
                    c[j] = x[labels == j].mean(0)
        return labels

    rng = np.random.default_rng(6)
    for seed in range(30):
        x = rng.standard_normal((199, 48)) + 2 * rng.standard_normal((3, 48))[rng.integers(3, size=199)]
        assert np.array_equal(kmeans(x, 3, seed=seed), by_differences(x, 3, seed=seed))


def test_a_round_encodes_its_query_once_and_the_text_session_does_not_spin(tmp_path, tiny_pack):  # noqa: F811
    """The search and the candidates' explanations read one embedding of the round's query (the
    ViT-B/16 text tower takes about 100 ms a query on a CPU); its session's idle threads sleep."""
    from interreid.engine.engines import build_engine
    from interreid.engine.full.pack import open_pack
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.gallery.synthetic import build
    from interreid.engine.interview.loop import Interview
    from interreid.engine.interview.warmup import WARM_TEXT

    pack = open_pack(tiny_pack)
    build(tmp_path / "g", 3000, pack.identity(), False, text_encoder=pack.retriever())
    with Gallery.open(tmp_path / "g") as g:
        g.set_index_backend("bits")
        engine = build_engine(g, pack=str(tiny_pack))
        retriever = engine.retriever
        options = retriever.session.get_session_options()
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        seen: list[str] = []
        encode = retriever.encode_text

        def counting(texts):
            seen.extend([texts] if isinstance(texts, str) else list(texts))
            return encode(texts)

        retriever.encode_text = counting
        interview = Interview(g, engine)
        assert seen == [WARM_TEXT]  # the warm-up's neutral description, once, when the interview opens
        seen.clear()
        state = interview.start("A woman in a black coat with a handbag.")
        state = interview.answer("She had long hair.", asked="What else do you remember?")
        assert len(seen) == 2 and len(set(seen)) == 2  # one encode per round, each a new query
        q = state.ranking.query_vector
        assert np.allclose(q, encode([state.query])[0], atol=1e-6)
        assert state.candidates and all("cosine" in c.reasons for c in state.candidates)
        interview.undo()  # the first round again: its query is kept, not encoded anew
        assert len(seen) == 2


def test_prefault_maps_a_file_only_when_half_the_available_memory_holds_it(tmp_path, monkeypatch):
    from interreid.engine import host
    from interreid.engine.gallery import bits_index

    available = host.available_ram()
    if available is None:
        pytest.skip("this system does not say how much memory is available")
    assert available > 0
    path = tmp_path / "v.f32"
    np.arange(4096, dtype=np.float32).tofile(path)
    mapped = np.memmap(path, dtype=np.float32, mode="r")
    assert bits_index.prefault(mapped) in (True, False)  # False only on a kernel without MADV_POPULATE_READ
    started = bits_index.prefault(mapped, wait=False)  # in the background: opening does not wait for it
    if started:
        thread = bits_index._PREFAULTS[-1]
        thread.join(10)
        assert thread.name == "prefault" and thread.daemon and not thread.is_alive()
    assert np.array_equal(mapped[:5], np.arange(5, dtype=np.float32))
    monkeypatch.setattr(host, "available_ram", lambda: 2 * 4096 * 4 - 2)  # half is under the file's size
    assert bits_index.prefault(mapped) is False
    assert bits_index.prefault(mapped, wait=False) is False
    monkeypatch.setattr(host, "available_ram", lambda: None)
    assert bits_index.prefault(mapped) is False


def test_background_prefault_stops_when_the_gallery_is_closed(tmp_path, monkeypatch):
    """The background prefault holds the mapping only during each chunk's call: a gallery closed
    meanwhile is let go (it kept a closed case's 5.8 GB mapped for seconds at 10M rows), and the rest
    of the file is not mapped."""
    import ctypes
    import gc
    import weakref

    from interreid.engine.gallery import bits_index

    path = tmp_path / "v.f32"
    np.zeros(4 * 4096, dtype=np.float32).tofile(path)  # 16 pages
    holder = {"mapped": np.memmap(path, dtype=np.float32, mode="r")}
    calls = []

    class FakeLibc:
        class madvise_type:
            argtypes = None

            def __call__(self, address, size, advice):
                calls.append(size.value)
                if len(calls) == 2:
                    holder.clear()  # the case is closed while the third chunk waits
                    gc.collect()
                return 0

        def __init__(self, *args, **kwargs):
            self.madvise = self.madvise_type()

    monkeypatch.setattr(ctypes, "CDLL", FakeLibc)
    monkeypatch.setattr(bits_index, "POPULATE_CHUNK", 4096 * 4)
    owner = weakref.ref(holder["mapped"])
    start = holder["mapped"].ctypes.data
    bits_index._populate(owner, start, 16 * 4096, 22)
    assert calls == [16384, 16384] and owner() is None
    calls.clear()
    kept = np.memmap(path, dtype=np.float32, mode="r")
    bits_index._populate(weakref.ref(kept), kept.ctypes.data, 16 * 4096 - 100, 22)
    assert calls == [16384, 16384, 16384, 16384 - 100]  # while it is open: every chunk, the last one short
