"""Find similar: the gallery ranked by likeness to one image, in the engine, the CLI and the window."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fixtures_full import tiny_pack  # noqa: F401


def test_similar_ranks_by_the_images_own_vectors(lite_gallery):
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.similar import find_similar, resolve_image

    with Gallery.open(lite_gallery) as g:
        rows = {g.image(r).path.rsplit("_", 1)[1]: r for r in range(len(g))}
        query = rows["p0.jpg"]  # red top, white trousers
        result = find_similar(g, query)
        assert query not in result.rows and len(result.rows) == len(g) - 1
        assert np.all(np.diff(result.scores) <= 1e-6)
        best = g.image(int(result.rows[0])).path
        assert best.endswith("_p11.jpg"), best  # the other red top
        assert result.measure.startswith("clothing colours")
        assert resolve_image(g, g.shas()[query][:10]) == query
        assert resolve_image(g, g.image(query).path) == query


def test_similar_scores_block_by_block_as_one_pass_and_resolves_prefixes_by_index(lite_gallery, monkeypatch):
    import interreid.engine.similar as similar
    from interreid.engine.errors import UserError
    from interreid.engine.gallery.store import Gallery

    with Gallery.open(lite_gallery) as g:
        whole = similar.find_similar(g, 3)
        monkeypatch.setattr(similar, "_BLOCK", 5)  # several blocks, the last one short
        assert len(g) % 5 and len(g) > 10
        blocks = similar.find_similar(g, 3)
        assert np.array_equal(whole.rows, blocks.rows) and np.allclose(whole.scores, blocks.scores)
        vectors = np.asarray(g.vectors(), dtype=np.float32)
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        assert np.allclose(blocks.scores, (unit @ unit[3])[blocks.rows], atol=1e-5)
        sha = g.shas()[7]
        assert similar.resolve_image(g, sha[:8].upper()) == 7
        with pytest.raises(UserError, match="starting with"):
            similar.resolve_image(g, "ffffffffffffffff" if not sha.startswith("ff") else "0000000000000000")


def test_similar_cli_records_the_side_search_in_the_case(lite_gallery, tmp_path, capsys):
    from interreid.engine.casefile import CaseFile
    from interreid.engine.cli.main import main
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery

    with Gallery.open(lite_gallery) as g:
        CaseFile.create(tmp_path / "c.case", "Case", "tester", g, build_engine(g).identity()).close()
        sha = g.shas()[0]
    assert main(["similar", sha[:12], "--gallery", str(lite_gallery), "--case", str(tmp_path / "c.case"),
                 "--top", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["image"] == sha and len(out["results"]) == 3 and out["results"][0]["rank"] == 1
    with CaseFile.open(tmp_path / "c.case") as case:
        entry = [e for e in case.audit_entries() if e.event == "similar.searched"][-1]
        assert entry.params["sha256"] == sha and entry.params["results"][0] == out["results"][0]["sha256"]
        assert case.verify(rehash_images=False).chain_ok
    assert main(["similar", "zz", "--gallery", str(lite_gallery)]) == 2
    assert "neither an image file nor a SHA-256" in capsys.readouterr().err


def test_find_similar_from_a_candidate_in_the_window(qtbot, tmp_path, lite_gallery):
    pytest.importorskip("pytestqt")
    from test_desktop_interview import WAIT, idle, make_window, open_and_wait

    from interreid.engine.casefile import CaseFile
    from interreid.engine.engines import build_engine
    from interreid.engine.gallery.store import Gallery

    with Gallery.open(lite_gallery) as g:
        CaseFile.create(tmp_path / "w.case", "Case", "tester", g, build_engine(g).identity()).close()
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, tmp_path / "w.case")
    q = window.interview_page.questions
    qtbot.keyClicks(q.description, "red top")
    q.start_button.click()
    qtbot.waitUntil(lambda: window.session.state is not None and idle(window), timeout=WAIT)
    before = np.array(window.session.state.rows)
    card = window.interview_page.candidates.cards[0]
    card.similar_requested.emit(card.row)
    from PySide6.QtCore import Qt

    from interreid.desktop.widgets.similar_view import SimilarView

    qtbot.waitUntil(lambda: any(isinstance(v, SimilarView) for v in window.detail_views) and idle(window),
                    timeout=WAIT)
    view = [v for v in window.detail_views if isinstance(v, SimilarView)][-1]
    assert view.model.rowCount() == window.session.opened_case.gallery_size - 1
    assert "clothing colours" in view.heading.text() and "not the chance" in view.heading.text()
    first = view.model.data(view.model.index(0, 0))
    assert first.startswith("#1 ") and first.endswith(f"{100 * min(1.0, max(0.0, float(view.result.scores[0]))):.0f}%")
    assert "score" in view.model.data(view.model.index(0, 0), Qt.ItemDataRole.ToolTipRole)  # the cosine, for detail
    assert np.array_equal(np.array(window.session.state.rows), before)  # the interview is unchanged
    events = [e for e in window.session.case.audit_entries() if e.event == "similar.searched"]
    assert events and events[-1].params["sha256"] == card.sha
    view.close()
    window.close()


def test_similar_on_a_full_engine_gallery_uses_the_image_embedding(crops_dir, tmp_path, tiny_pack):  # noqa: F811
    from interreid.engine.embedder import create_embedder
    from interreid.engine.gallery.importer import import_sources
    from interreid.engine.gallery.store import Gallery
    from interreid.engine.similar import find_similar

    embedder = create_embedder("full", pack=str(tiny_pack))
    with Gallery.create(tmp_path / "full", embedder.identity) as g:
        import_sources(g, embedder, [crops_dir])
        result = find_similar(g, 0, top=5)
        assert result.measure.startswith("image embedding")
        v = g.vectors()
        unit = v / np.linalg.norm(v, axis=1, keepdims=True)
        expected = np.argsort(-(unit @ unit[0]))
        expected = [int(r) for r in expected if r != 0][:5]
        assert [int(r) for r in result.rows] == expected
        assert np.allclose(result.scores, (unit @ unit[0])[expected], atol=1e-5)
