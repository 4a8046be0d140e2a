"""Lite colour vectors kept per row of a full-engine gallery (gallery/colour_cache.py): written at
import, filled lazily for older galleries, read by the infogain questioner instead of the images."""

from __future__ import annotations

import numpy as np
import pytest

from fake_embedders import BandColourTestEmbedder
from interreid.engine.gallery import colour_cache
from interreid.engine.gallery.importer import import_sources
from interreid.engine.gallery.store import Gallery
from interreid.engine.lite.embedder import LiteEmbedder


@pytest.fixture
def full_like(crops_dir, tmp_path):
    """A gallery whose vectors are not lite colour vectors (as a CLIP gallery's are not)."""
    emb = BandColourTestEmbedder()
    g = Gallery.create(tmp_path / "g", emb.identity)
    import_sources(g, emb, [crops_dir])
    yield g
    g.close()


def _path(g):
    return colour_cache.cache_path(g.folder, LiteEmbedder.identity.version)


def test_import_writes_every_rows_lite_colours(full_like):
    g = full_like
    assert _path(g).stat().st_size == len(g) * 4 * LiteEmbedder.identity.dim
    expected = LiteEmbedder().embed_images([g.load_image(r) for r in range(len(g))])
    stored = colour_cache.vectors_of(g, np.arange(len(g)), load_image=_never)
    assert np.allclose(stored, expected, atol=1e-5)
    assert colour_cache.coverage(g) == len(g)


def _never(row):
    raise AssertionError(f"row {row} was computed from its image, not read from the file")


def test_an_older_gallery_fills_lazily_and_by_migrate(full_like):
    g = full_like
    _path(g).unlink()  # as a gallery imported before the file existed
    assert colour_cache.coverage(g) == 0
    first = colour_cache.vectors_of(g, [3, 7])  # computed from the images once, kept
    assert colour_cache.coverage(g) == 2
    again = colour_cache.vectors_of(g, [7, 3], load_image=_never)
    assert np.array_equal(again, first[::-1])
    assert colour_cache.fill(g) == len(g) - 2
    assert colour_cache.coverage(g) == len(g)
    colour_cache.vectors_of(g, np.arange(len(g)), load_image=_never)


def test_a_read_only_gallery_is_never_written(full_like):
    folder = full_like.folder
    _path(full_like).unlink()
    full_like.close()
    with Gallery.open(folder, read_only=True) as g:
        v = colour_cache.vectors_of(g, [0, 1])
        assert v.shape == (2, LiteEmbedder.identity.dim) and np.all(v.any(axis=1))
        assert not _path(g).exists()


def test_infogain_on_a_full_gallery_reads_the_file_not_the_images(full_like):
    from interreid.engine.full.lite_view import lite_view
    from interreid.engine.interview.protocols import QuestionContext
    from interreid.engine.lite.questioners import QUESTIONERS

    g = full_like
    rows = np.arange(len(g))
    post = np.full(len(rows), 1.0 / len(rows))
    ctx = QuestionContext("a person in red", [], 1, rows, post, [0, 1, 2, 3], g.vectors(), _never,
                          lite_vectors=lambda r: colour_cache.vectors_of(g, r, load_image=_never))
    view = lite_view(ctx)
    assert view.vectors.shape == (len(rows), LiteEmbedder.identity.dim)
    from_images = lite_view(QuestionContext("a person in red", [], 1, rows, post, [0, 1, 2, 3], g.vectors(),
                                            g.load_image))
    assert np.allclose(view.vectors, from_images.vectors, atol=1e-5)
    question = QUESTIONERS["infogain"]().ask(view)
    assert question.text


def test_gallery_migrate_fills_and_says_so(full_like, capsys):
    from interreid.engine.cli.main import main

    folder = full_like.folder
    _path(full_like).unlink()
    full_like.close()
    assert main(["gallery", "migrate", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "colour features used to suggest questions for 12 images" in out
    with Gallery.open(folder) as g:
        assert colour_cache.coverage(g) == 12
    assert main(["gallery", "migrate", str(folder)]) == 0
    assert "nothing changed" in capsys.readouterr().out


def _mapped_in_process(path) -> bool:
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
        return any(line.rstrip().endswith(str(path)) for line in f)


def test_a_closed_gallery_drops_its_colour_files_map(full_like):
    """The file's map was kept until four other galleries' files had been mapped: a closed case's colour file
    (1.8 GB at 10M rows) stayed counted in the app's resident memory."""
    import gc

    g = full_like
    colour_cache.vectors_of(g, [0, 3], load_image=_never)
    path = _path(g)
    assert str(path) in colour_cache._MAPS and _mapped_in_process(path)
    g.close()
    gc.collect()
    assert str(path) not in colour_cache._MAPS and not _mapped_in_process(path)
    with Gallery.open(g.folder) as again:  # read again after reopening: mapped again, the same rows
        assert colour_cache.vectors_of(again, [0, 3], load_image=_never).any(axis=1).all()
        assert str(path) in colour_cache._MAPS
