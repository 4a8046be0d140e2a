"""Counted ranks of marked and shown images per round (case format 4): a case keeps only the top N of each
ranking, so the rank of every marked and every shown image is counted over the whole gallery and stored
(audited) with each round; the report's rank chart and its text use them beyond N. Older cases keep working,
say what they lack, and 'case migrate' adds the table."""

from __future__ import annotations

import numpy as np
import pytest

from fixtures_full import tiny_pack  # noqa: F401
from rawcase import raw_connect
from interreid.engine.bench.speed_round import build_synthetic_gallery
from interreid.engine.casefile import CaseFile
from interreid.engine.casefile import case as case_module
from interreid.engine.casefile.case import InterviewRecords
from interreid.engine.cli.main import main
from interreid.engine.engines import build_engine
from interreid.engine.gallery.store import Gallery
from interreid.engine.interview.loop import Interview
from interreid.engine.report import write_report
from interreid.engine.report.data import collect

from test_report import _parse_html

DESCRIPTION = "A person in a red top and blue trousers."
DEPTH = 250  # rows a round keeps (the interview keeps at least its 200-row pool)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ranks") / "g"
    build_synthetic_gallery(folder, 600, "lite")
    return folder


def full_sort_rank(iv: Interview, query: str, row: int) -> int:
    """The rank a full stable sort of every row's score gives (the reference for the counted rank)."""
    order = np.argsort(-iv.searcher.every_score(query), kind="stable")
    return int(np.flatnonzero(order == row)[0]) + 1


def far_row(state, n: int) -> int:
    kept = {int(r) for r in state.rows}
    return next(r for r in range(n) if r not in kept)


def test_a_marked_image_below_the_kept_top_gets_counted_ranks_in_the_case_and_the_report(tmp_path, synthetic):
    with Gallery.open(synthetic) as g:
        engine = build_engine(g)
        with CaseFile.create(tmp_path / "c.case", "t", "tester", g, engine.identity()) as case:
            iv = Interview(g, engine, case=case, depth=DEPTH)
            state = iv.start(DESCRIPTION)
            assert len(state.rows) == DEPTH < len(g)
            far, top = far_row(state, len(g)), int(state.rows[0])
            far_sha = g.image(far).sha256
            expected0 = full_sort_rank(iv, state.query, far)
            case.mark(far_sha, "possible", "far down")  # marked after round 0 was ranked (as 'case mark' does)
            case.mark(g.image(top).sha256, "match", "top")
            state = iv.answer("Black shoes.")  # the next ranking also fills the ranks of round 0
            expected1 = full_sort_rank(iv, state.query, far)
            points = {(p["after_round"], p["sha256"]): p for p in InterviewRecords(case).rank_points()}
            assert expected0 > DEPTH and expected1 > DEPTH
            assert points[(0, far_sha)]["rank"] == expected0 and points[(0, far_sha)]["counted"] == "later"
            assert points[(1, far_sha)]["rank"] == expected1 and points[(1, far_sha)]["counted"] == "with the round"
            assert points[(1, far_sha)]["kept"] == DEPTH and points[(1, far_sha)]["why"] == "marked"
            assert points[(0, g.image(top).sha256)]["rank"] == 1
            assert sum(e.event == "rank.counted" for e in case.audit_entries()) == len(points)
            assert case.verify(rehash_images=False).ok
            data = collect(case)
    assert data.rank_history[far_sha] == [(0, expected0), (1, expected1)]  # chart points beyond N
    assert data.beyond_points() == {far_sha: {0, 1}} and data.kept_top() == DEPTH
    out = write_report(tmp_path / "c.case", tmp_path / "r.html")
    parsed = _parse_html(out)
    text = " ".join(" ".join(parsed.text).split())
    assert (f"ranked below the {DEPTH:,} best-ranked images the case keeps: it was at rank {expected0:,} in the "
            f"initial ranking and {expected1:,} after answer 1, counted among all 600 images the case searched "
            "and stored in the case") in text
    assert "open circles below the dashed line" in text and "the chart has no point there" not in text
    assert any(t == "img" and a.get("alt", "").startswith("rank of the marked images") for t, a in parsed.tags)


def test_a_shown_images_rank_is_stored_every_round_and_reported(tmp_path, synthetic):
    with Gallery.open(synthetic) as g:
        engine = build_engine(g)
        with CaseFile.create(tmp_path / "c.case", "t", "tester", g, engine.identity()) as case:
            iv = Interview(g, engine, case=case, depth=DEPTH)
            state = iv.start(DESCRIPTION)
            far = far_row(state, len(g))
            sha = g.image(far).sha256
            case.record_witness_view(sha, "line-up")
            assert iv.record_ranks() == 1  # the app and 'case mark' count it at once for the rounds so far
            assert iv.record_ranks() == 0  # stored once
            state = iv.answer("Black shoes.")
            ranks = {p["after_round"]: p for p in InterviewRecords(case).rank_points() if p["sha256"] == sha}
            assert ranks[0]["why"] == "shown" and ranks[0]["rank"] == full_sort_rank(iv, DESCRIPTION, far)
            assert ranks[1]["rank"] == full_sort_rank(iv, state.query, far)
            iv.undo()  # an undone round's ranking no longer counts, nor do its ranks
            assert [p["after_round"] for p in InterviewRecords(case).rank_points()] == [0]
    text = " ".join(" ".join(_parse_html(write_report(tmp_path / "c.case", tmp_path / "r.html")).text).split())
    assert f"Image {sha[:12]}… was at rank {ranks[0]['rank']:,} in the initial ranking (below the {DEPTH:,} the " \
        "case keeps)." in text


def test_a_changed_counted_rank_is_found_by_verify(tmp_path, synthetic):
    with Gallery.open(synthetic) as g:
        engine = build_engine(g)
        with CaseFile.create(tmp_path / "c.case", "t", "tester", g, engine.identity()) as case:
            iv = Interview(g, engine, case=case, depth=DEPTH)
            state = iv.start(DESCRIPTION)
            case.mark(g.image(far_row(state, len(g))).sha256, "match")
            iv.record_ranks()
    conn = raw_connect(tmp_path / "c.case")
    conn.execute("UPDATE ranks SET rank = 3")
    conn.commit()
    conn.close()
    with CaseFile.open(tmp_path / "c.case") as case:
        problems = case.verify(rehash_images=False).data_problems
    assert any(p.startswith("ranks row 1 was altered") for p in problems), problems


def test_a_format_3_case_says_what_it_lacks_and_migrates_to_store_ranks(tmp_path, synthetic, monkeypatch, capsys):
    with Gallery.open(synthetic) as g:
        engine = build_engine(g)
        monkeypatch.setattr(case_module, "CASE_SCHEMA_VERSION", 3)  # made as interreid wrote format 3
        CaseFile.create(tmp_path / "old.case", "t", "tester", g, engine.identity()).close()
        monkeypatch.undo()
        with CaseFile.open(tmp_path / "old.case") as case:
            assert case.version == 3 and not case.stores_ranks()
            assert case.verify(rehash_images=False).ok  # no 'ranks' table is not a dropped table here
            iv = Interview(g, engine, case=case, depth=DEPTH)
            state = iv.start(DESCRIPTION)  # an old case still takes the interview
            far_sha = g.image(far_row(state, len(g))).sha256
            case.mark(far_sha, "possible")
            assert iv.record_ranks() == 0 and InterviewRecords(case).rank_points() == []
    text = " ".join(" ".join(_parse_html(write_report(tmp_path / "old.case", tmp_path / "r.html")).text).split())
    assert f"ranked below the {DEPTH:,} best-ranked images the case keeps, in the ranking after the initial " \
        "description; the case holds no counted rank for it there" in text

    capsys.readouterr()
    assert main(["case", "migrate", str(tmp_path / "old.case")]) == 0
    said = capsys.readouterr().out
    assert "format 3 -> 4" in said and "added a table for the rank of every marked image" in said
    with Gallery.open(synthetic) as g:
        engine = build_engine(g)
        with CaseFile.open(tmp_path / "old.case") as case:
            assert case.version == 4 and case.stores_ranks()
            assert case.verify(rehash_images=False).ok
            migrated = [e for e in case.audit_entries() if e.event == "case.migrated"]
            assert migrated[-1].params["added_tables"] == ["ranks"] and migrated[-1].params["from_format"] == 3
            iv = Interview(g, engine, case=case, depth=DEPTH)
            iv.resume()
            assert iv.record_ranks() == 1  # the round recorded before the upgrade, counted now
    assert "format 3 -> 4" not in main_out(["case", "migrate", str(tmp_path / "old.case")], capsys)


def test_case_mark_counts_the_rank_in_the_rounds_already_recorded(tmp_path, synthetic, capsys):
    with Gallery.open(synthetic) as g:
        engine = build_engine(g)
        with CaseFile.create(tmp_path / "c.case", "t", "tester", g, engine.identity()) as case:
            state = Interview(g, engine, case=case, depth=DEPTH).start(DESCRIPTION)
            far = int(np.setdiff1d(np.arange(len(g)), state.rows)[0])
            sha = g.image(far).sha256
    out = main_out(["case", "mark", str(tmp_path / "c.case"), sha[:20], "possible"], capsys)
    assert "stored 1 counted rank(s)" in out
    with CaseFile.open(tmp_path / "c.case") as case:
        (point,) = InterviewRecords(case).rank_points()
    assert point["sha256"] == sha and point["rank"] > len(state.rows) and point["counted"] == "later"


def main_out(argv, capsys) -> str:
    capsys.readouterr()
    assert main(argv) == 0
    return capsys.readouterr().out


def test_report_mark_and_extend_of_a_manifest_case_read_no_image_list(tmp_path, synthetic, monkeypatch, capsys):
    """A case citing the gallery manifest names its images by row: the report, 'case mark' (a SHA-256
    prefix, looked up in the gallery's hash index) and 'case extend' never read the whole image list."""
    with Gallery.open(synthetic) as g:
        engine = build_engine(g)
        with CaseFile.create(tmp_path / "c.case", "t", "tester", g, engine.identity()) as case:
            state = Interview(g, engine, case=case, depth=DEPTH).start(DESCRIPTION)
            top_sha, far_sha = g.image(int(state.rows[0])).sha256, g.image(far_row(state, len(g))).sha256

    def whole_list(*_args, **_kwargs):
        raise AssertionError("the whole image list was read")

    for name in ("snapshot", "shas", "fingerprint"):
        monkeypatch.setattr(Gallery, name, whole_list)
    monkeypatch.setattr(CaseFile, "gallery_snapshot", whole_list)
    out = main_out(["case", "mark", str(tmp_path / "c.case"), far_sha[:24], "match"], capsys)
    assert f"marked {far_sha[:16]}" in out and "stored 1 counted rank(s)" in out
    capsys.readouterr()
    assert main(["case", "mark", str(tmp_path / "c.case"), "0000", "match"]) == 2  # every synthetic row's prefix
    assert "matches more than one image of this case" in capsys.readouterr().err
    assert "already holds every image" in main_out(["case", "extend", str(tmp_path / "c.case")], capsys)
    report = write_report(tmp_path / "c.case", tmp_path / "r.html")
    text = " ".join(" ".join(_parse_html(report).text).split())
    assert top_sha in text and far_sha in text  # the final ranking's best image and the marked one, by hash
    with CaseFile.open(tmp_path / "c.case") as case:
        data = collect(case)
    assert data.final_ranking["items"][0]["sha256"] == top_sha and far_sha in data.rank_history


def test_the_terminal_interview_stores_the_ranks_and_case_show_lists_them(tmp_path, synthetic, capsys, monkeypatch):
    """'interreid interview' (the terminal) records the counted ranks with each ranking: an image marked
    with 'case mark' between two sittings is counted for the recorded round at once and for the next
    round when the interview is continued; 'case show' lists them."""
    import io

    case = tmp_path / "c.case"
    monkeypatch.setattr("sys.stdin", io.StringIO(":quit\n"))
    assert main(["interview", "--gallery", str(synthetic), "--case", str(case), "--description", DESCRIPTION]) == 0
    with CaseFile.open(case) as c:
        (first,) = InterviewRecords(c).rankings()
    with Gallery.open(synthetic) as g:  # the terminal keeps the top 1000: here every row, so take the last
        sha = g.image(int(first["rows"][-1])).sha256
    main_out(["case", "mark", str(case), sha, "possible"], capsys)
    monkeypatch.setattr("sys.stdin", io.StringIO("\nBlack shoes.\n:quit\n"))  # asks the suggested question
    assert main(["interview", "--case", str(case)]) == 0
    with CaseFile.open(case) as c:
        ranks = {p["after_round"]: p for p in InterviewRecords(c).rank_points() if p["sha256"] == sha}
    assert sorted(ranks) == [0, 1] and ranks[0]["counted"] == "later" and ranks[1]["counted"] == "with the round"
    out = main_out(["case", "show", str(case)], capsys)
    assert f"{ranks[1]['rank']:>9,}" in out and "after answer 1" in out and f"{sha[:16]}… (marked)" in out


def test_a_past_rounds_rank_is_counted_among_the_images_the_case_searched_then(tmp_path, crops_dir):
    """'case extend' adds the gallery's newer images to a case: a rank counted later for a round ranked
    before that counts only the images the case searched in that round, and an image added since has no
    rank there."""
    from imagemaker import write_person

    from interreid.engine.embedder import create_embedder
    from interreid.engine.gallery.importer import import_sources

    embedder = create_embedder("lite")
    with Gallery.create(tmp_path / "g", embedder.identity) as g:
        import_sources(g, embedder, [crops_dir])
        engine = build_engine(g)
        with CaseFile.create(tmp_path / "c.case", "t", "tester", g, engine.identity()) as case:
            iv = Interview(g, engine, case=case)
            iv.depth = 3  # keep only the top 3 of each ranking, so the others' ranks are counted
            first = iv.start(DESCRIPTION)
            for i, colour in enumerate(["red", "red", "blue", "white", "black", "green"]):
                write_person(tmp_path / "more" / f"2024-05-01T13-00-{i:02d}_q{i}.jpg", colour, "blue", seed=50 + i)
            import_sources(g, embedder, [tmp_path / "more"])
            assert case.extend_snapshot(g) == 6 and len(g) == 18
            iv = Interview(g, engine, case=case)
            iv.depth = 3
            iv.resume()
            second = iv.answer("Black shoes.")
            old = next(r for r in range(12) if r not in set(first.rows) | set(second.rows))
            new = next(r for r in range(12, 18) if r not in set(second.rows))
            case.mark(g.image(old).sha256, "possible")
            case.mark(g.image(new).sha256, "possible")
            assert iv.record_ranks() == 3  # the old image in both rankings, the new one in the second only
            points = {(p["after_round"], p["gallery_row"]): p for p in InterviewRecords(case).rank_points()}
            then = iv.searcher.every_score(first.query)[:12]  # the 12 images the case searched in round 0
            assert points[(0, old)]["rank"] == int(np.flatnonzero(np.argsort(-then, kind="stable") == old)[0]) + 1
            assert points[(0, old)]["rank"] < full_sort_rank(iv, first.query, old)  # newer red tops rank above it
            assert (0, new) not in points
            assert points[(1, new)]["rank"] == full_sort_rank(iv, second.query, new) > 3
            assert points[(1, old)]["rank"] == full_sort_rank(iv, second.query, old)


def test_a_full_engine_round_counts_the_rank_on_its_cosines(tmp_path, crops_dir, tiny_pack):  # noqa: F811
    """The full engine's rounds come from the gallery index (top K only): a marked image below the kept top
    is counted on every row's cosine, as a full sort would place it."""
    from interreid.engine.embedder import create_embedder
    from interreid.engine.gallery.importer import import_sources

    embedder = create_embedder("full", pack=str(tiny_pack))
    with Gallery.create(tmp_path / "full", embedder.identity) as g:
        import_sources(g, embedder, [crops_dir])
        engine = build_engine(g, pack=str(tiny_pack), questioner="infogain")
        with CaseFile.create(tmp_path / "c.case", "t", "tester", g, engine.identity()) as case:
            iv = Interview(g, engine, case=case)
            iv.depth = 3
            state = iv.start("a man in a red jacket")
            far = int(np.setdiff1d(np.arange(len(g)), state.rows)[-1])
            case.mark(g.image(far).sha256, "match")
            state = iv.answer("Blue jeans.")
            ranks = {p["after_round"]: p for p in InterviewRecords(case).rank_points()}
            q = engine.retriever.encode_text([state.query])[0]
            cosines = (np.asarray(g.vectors(), dtype=np.float32) @ q).astype(np.float32)
            by_sort = int(np.flatnonzero(np.argsort(-cosines, kind="stable") == far)[0]) + 1
    assert ranks[1]["counted"] == "with the round" and ranks[1]["rank"] == by_sort
    assert ranks[0]["counted"] == "later" and ranks[0]["rank"] > 0
