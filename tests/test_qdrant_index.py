"""The Qdrant backend (qdrant-client's embedded local mode; no server, no network): the same top-K as
exact search, camera and time-range payload filters, reopening, a gallery searched through it by
the CLI and an interview whose case records every ranking, and one sentence for a bad server URL."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fixtures_full import tiny_pack  # noqa: F401
from interreid.engine.bench.synthetic_vectors import clustered_vectors
from interreid.engine.gallery.filters import RowFilter, parse_time_bound, time_number
from interreid.engine.gallery.index import ExactIndex

pytest.importorskip("qdrant_client")

N, DIM, K = 1500, 32, 50
CAMERAS = ["cam01", "cam02", "cam03", None]


def stamp(i: int) -> str | None:
    return None if i % 7 == 0 else f"2024-05-01T{10 + i // 600:02d}:{(i // 10) % 60:02d}:{i % 10:02d}"


def payload(i: int) -> dict:
    return {"row": i, "sha256": f"{i:064x}", "camera": CAMERAS[i % 4], "time": time_number(stamp(i))}


@pytest.fixture
def data():
    vectors = clustered_vectors(N + 5, DIM, seed=4)
    return vectors[:N], vectors[N:]


def local_index(folder):
    from interreid.engine.gallery.qdrant_index import QdrantIndex

    return QdrantIndex(DIM, "test-gallery", path=folder)


def test_local_mode_same_top_k_as_exact_and_survives_reopen(tmp_path, data):
    from interreid.engine.gallery.qdrant_index import close_local

    base, queries = data
    exact = ExactIndex(DIM)
    exact.add(base, 0)
    store = tmp_path / "g" / "qdrant"
    index = local_index(store)
    index.add(base[:1000], 0, [payload(i) for i in range(1000)])
    index.add(base[1000:], 1000, [payload(i) for i in range(1000, N)])  # extended incrementally
    assert len(index) == N
    for q in queries:
        want, got = exact.search(q, K), index.search(q, K)
        assert np.array_equal(got.rows, want.rows)
        assert np.allclose(got.scores, want.scores, atol=1e-5)
    close_local(tmp_path / "g")
    again = local_index(store)  # a new client on the same folder: the points were persisted
    assert again is not index and len(again) == N
    assert np.array_equal(again.search(queries[0], K).rows, exact.search(queries[0], K).rows)


def test_payload_filters_by_camera_and_time_range(tmp_path, data):
    base, queries = data
    index = local_index(tmp_path / "qdrant")
    index.add(base, 0, [payload(i) for i in range(N)])
    cams, stamps = [CAMERAS[i % 4] for i in range(N)], [stamp(i) for i in range(N)]
    low = parse_time_bound("2024-05-01T10:20:00", False, "--from")
    high = parse_time_bound("2024-05-01T11:05", True, "--to")
    for where in (RowFilter(frozenset({"cam02"})), RowFilter(time_from=low, time_to=high),
                  RowFilter(frozenset({"cam01", "cam03"}), time_from=low), RowFilter(time_to=high)):
        keep = where.mask(cams, stamps)
        assert 0 < keep.sum() < N
        for q in queries[:2]:
            scores = np.where(keep, base @ q, -np.inf)
            want = np.argsort(-scores, kind="stable")[:K]
            got = index.search(q, K, where=where)
            assert np.array_equal(got.rows, want), where
            assert keep[got.rows].all()
    # rows with no capture time never pass a time range; rows with no camera never pass a camera filter
    got = index.search(queries[0], N, where=RowFilter(time_from=low))
    assert all(stamp(int(r)) is not None for r in got.rows)
    assert parse_time_bound("2024-05-01", True, "--to") == time_number("2024-05-01T23:59:59")


def test_bad_time_bound_is_one_sentence():
    from interreid.engine.errors import UserError

    with pytest.raises(UserError, match="not a date or time"):
        parse_time_bound("yesterday", False, "--from")


def run_cli(capsys, *args) -> tuple[int, str, str]:
    from interreid.engine.cli.main import main

    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_gallery_served_from_qdrant_through_cli_and_interview(crops_dir, tmp_path, tiny_pack, capsys,  # noqa: F811
                                                             monkeypatch):
    """import --index qdrant, search (with camera/time filters) equals exact search, 'gallery index' switches
    backends, and an interview's case file records every ranking it showed, plus which collection it searched."""
    from interreid.engine.gallery import qdrant_index

    monkeypatch.setattr(qdrant_index, "PUSH_CHUNK", 5)  # 12 rows pushed in 3 chunks, each with its own payloads
    from interreid.engine.casefile.case import InterviewRecords
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.interview.loop import Interview
    from interreid.engine.session import new_case

    g = tmp_path / "g"
    code, out, err = run_cli(capsys, "gallery", "import", crops_dir, "--gallery", g, "--engine", "full", "--pack",
                             tiny_pack, "--index", "qdrant", "--plain")
    assert code == 0, err
    assert (g / "qdrant").is_dir()  # the embedded store beside the gallery
    code, out, err = run_cli(capsys, "gallery", "info", g, "--json")
    info = json.loads(out)
    assert info["index"]["backend"] == "qdrant" and info["index"]["qdrant"]["server"] == "embedded"

    def search(*extra):
        code, out, err = run_cli(capsys, "search", "a man in a red jacket", "--gallery", g, "--pack", tiny_pack,
                                 "--top", 5, "--json", *extra)
        assert code == 0, err
        return json.loads(out)["results"]

    filters = [(), ("--camera", "cam02"), ("--from", "2024-05-01T12:30:03", "--to", "2024-05-01T12:30:08"),
               ("--camera", "cam01", "--camera", "cam03", "--to", "2024-05-01T12:30:06")]
    from_qdrant = [search(*f) for f in filters]
    assert {r["camera"] for r in from_qdrant[1]} == {"cam02"} and len(from_qdrant[1]) == 4
    assert all("12:30:03" <= r["timestamp"][-8:] <= "12:30:08" for r in from_qdrant[2]) and len(from_qdrant[2]) == 5
    assert {r["camera"] for r in from_qdrant[3]} <= {"cam01", "cam03"}

    code, out, err = run_cli(capsys, "gallery", "index", g, "--backend", "exact")
    assert code == 0 and "exact index" in out, err
    from_exact = [search(*f) for f in filters]
    for a, b in zip(from_qdrant, from_exact):
        assert [r["sha256"] for r in a] == [r["sha256"] for r in b]
        assert np.allclose([r["score"] for r in a], [r["score"] for r in b], atol=1e-5)
    code, out, err = run_cli(capsys, "gallery", "index", g, "--backend", "qdrant", "--json")
    assert code == 0, err
    pushed = json.loads(out)
    assert pushed["points"] == 12 and pushed["server"] == "embedded"
    code, out, err = run_cli(capsys, "search", "x", "--gallery", g, "--pack", tiny_pack, "--camera", "cam09")
    assert code == 2 and "cam09 is not in this gallery" in err

    # the interview (what the CLI and the app drive): every ranking shown is in the case file
    with new_case(tmp_path / "c.case", "Qdrant", "tester", g, pack=tiny_pack, encrypt=False) as s:
        assert s.gallery.meta("index_backend") == "qdrant"
        iv = Interview(s.gallery, s.engine, case=s.case)
        shown = [iv.start("a man in a red jacket"), iv.answer("Blue jeans."), iv.answer("He carried a bag.")]
        assert iv.searcher._index is not None and iv.searcher._index.backend == "qdrant"  # the index answered
        stored = InterviewRecords(s.case).rankings()
        assert [r["after_round"] for r in stored] == [0, 1, 2]
        for state, record in zip(shown, stored):
            assert np.array_equal(record["rows"], state.rows) and record["query"] == state.query
        opened = [e for e in s.case.audit_entries() if e.event == "index.opened"]
        assert len(opened) == 1 and opened[0].params["collection"] == pushed["collection"]
        assert opened[0].params["points"] == 12 and opened[0].params["server"] == "embedded"
        assert s.case.verify(rehash_images=False).ok
    with Gallery.open(g) as gallery:  # and the rankings equal exact search of the same queries
        vectors = gallery.vectors()
        for state in shown:
            exact = np.argsort(-(vectors @ state.ranking.query_vector), kind="stable")
            assert np.array_equal(state.rows[:5], exact[:5])


@pytest.mark.parametrize("url, words", [
    ("http://127.0.0.1:9", "cannot be reached"),
    ("not a url", "is not a server address"),
    ("https://user:secret@example.org", "user name or password"),
])
def test_bad_server_url_is_one_sentence_exit_2(lite_gallery, tmp_path, crops_dir, capsys, url, words):
    code, out, err = run_cli(capsys, "gallery", "index", lite_gallery, "--backend", "qdrant", "--qdrant-url", url)
    assert code == 2 and words in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    code, out, err = run_cli(capsys, "gallery", "import", crops_dir, "--gallery", tmp_path / "new", "--index", "qdrant",
                             "--qdrant-url", url, "--plain")
    assert code == 2 and words in err and not (tmp_path / "new").exists()  # refused before anything was written


def test_a_collection_from_another_gallery_is_refused(tmp_path, data):
    from interreid.engine.errors import GalleryError

    base, queries = data
    index = local_index(tmp_path / "qdrant")
    index.add(base[:100], 0, [payload(i) for i in range(100)])
    index.shas = [f"{i + 1:064x}" for i in range(100)]  # this gallery's rows hold other images
    with pytest.raises(GalleryError, match="another image"):
        index.search(queries[0], 5)
    index.shas = [f"{i:064x}" for i in range(100)]
    index.limit_rows = 40  # a server ahead of this workstation's gallery: only the rows it holds come back
    assert index.search(queries[0], 100).rows.max() < 40


def test_server_api_key_comes_from_the_environment_and_is_never_saved(lite_gallery, capsys, monkeypatch):
    """A local HTTP endpoint that refuses every request: the client sends the key from the environment,
    the refusal is one sentence naming the variable, and the key is written nowhere in the gallery."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[dict] = []

    class Refuse(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen.append({k.lower(): v for k, v in self.headers.items()} | {"path": self.path})
            body = b'{"status": {"error": "Must provide an API key or an Authorization bearer token"}}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        monkeypatch.setenv("INTERREID_QDRANT_API_KEY", "regional-key-123")
        code, out, err = run_cli(capsys, "gallery", "index", lite_gallery, "--backend", "qdrant", "--qdrant-url", url)
    finally:
        server.shutdown()
    assert code == 2 and "not authorised" in err and "INTERREID_QDRANT_API_KEY" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert seen and seen[0]["path"].startswith("/collections") and seen[0]["api-key"] == "regional-key-123"
    for f in lite_gallery.rglob("*"):
        assert not f.is_file() or b"regional-key-123" not in f.read_bytes()
    # a key is never sent over plain http to another machine: refused before any connection
    code, out, err = run_cli(capsys, "gallery", "index", lite_gallery, "--backend", "qdrant", "--qdrant-url",
                             "http://qdrant.invalid:6333")
    assert code == 2 and "unencrypted" in err and "https://" in err


def test_search_filters_on_a_lite_gallery_mask_rows_locally(lite_gallery, capsys):
    """The lite engine scores every row itself: --camera/--from/--to mask the rows, same order as unfiltered."""
    def search(*extra):
        code, out, err = run_cli(capsys, "search", "a man in a red top", "--gallery", lite_gallery, "--top", 12,
                                 "--json", *extra)
        assert code == 0, err
        return json.loads(out)["results"]

    every = search()
    cam = search("--camera", "cam02")
    assert [r["sha256"] for r in cam] == [r["sha256"] for r in every if r["camera"] == "cam02"] and len(cam) == 4
    timed = search("--from", "2024-05-01T12:30:04", "--to", "2024-05-01T12:30:09")
    assert [r["sha256"] for r in timed] == [r["sha256"] for r in every
                                            if "12:30:04" <= r["timestamp"][-8:] <= "12:30:09"]
    assert len(timed) == 6 and [r["rank"] for r in timed] == list(range(1, 7))
    code, out, err = run_cli(capsys, "search", "red", "--gallery", lite_gallery, "--from", "2024-05-02",
                             "--to", "2024-05-01")
    assert code == 2 and "--from is later than --to" in err
