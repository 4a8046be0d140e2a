"""Opening a gallery and starting an interview read no per-row list: hashes and tracks are read by
row when a round needs them (engine/gallery/lazy.py, video/query.TrackLookup)."""

from __future__ import annotations

import numpy as np
import pytest

from interreid.engine.gallery.lazy import RowShas
from interreid.engine.gallery.store import Gallery


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from interreid.engine.bench.speed_round import build_synthetic_gallery

    folder = tmp_path_factory.mktemp("open") / "g"
    build_synthetic_gallery(folder, 2000, "lite")
    return folder


def test_row_shas_reads_rows_on_demand(synthetic):
    with Gallery.open(synthetic) as g:
        every = g.shas()
        lazy = RowShas(g)
        assert len(lazy) == len(g) == 2000
        assert lazy[17] == every[17] and lazy[-1] == every[-1]
        assert lazy[5:9] == every[5:9] and lazy.many([3, 1, 3]) == [every[3], every[1], every[3]]
        assert list(lazy) == every
        assert every[42] in lazy and lazy.index(every[42]) == 42 and "0" * 64 not in lazy
        with pytest.raises(IndexError):
            lazy[2000]


def test_interview_opens_and_runs_without_reading_every_hash(synthetic, monkeypatch):
    from interreid.engine.engines import build_engine
    from interreid.engine.interview.loop import Interview

    with Gallery.open(synthetic) as g:
        every = g.shas()
        counted = []
        monkeypatch.setattr(Gallery, "shas", lambda self: (_ for _ in ()).throw(AssertionError("read all")))
        monkeypatch.setattr(Gallery, "__len__", lambda self: counted.append(1) or self.next_row())
        iv = Interview(g, build_engine(g))
        state = iv.start("a man in a red jacket and blue jeans")
        state = iv.answer("black shoes", asked="What shoes?")
        assert [c.sha256 for c in state.candidates] == [every[c.row] for c in state.candidates]
        assert len(state.candidates) == 4 and len(np.unique(state.rows)) == len(state.rows)
        assert counted  # the size comes from the primary key's end, not COUNT(*)


def test_size_is_the_primary_keys_end(synthetic):
    with Gallery.open(synthetic) as g:
        assert len(g) == g.next_row() == g.query_one("SELECT COUNT(*) FROM images")[0] == 2000


def test_an_image_gone_from_its_sources_and_thumbnail_is_one_sentence(lite_gallery):
    from pathlib import Path

    from interreid.engine.errors import GalleryError
    from interreid.engine.gallery.store import Gallery

    with Gallery.open(lite_gallery) as g:
        img = g.image(2)
        assert g.load_image(2).size == (img.width, img.height)
        for p in img.sources:
            Path(p).unlink()
        assert g.load_image(2) is not None  # the thumbnail stands in for lost originals
        (g.folder / img.thumb if not Path(img.thumb).is_absolute() else Path(img.thumb)).unlink()
        with pytest.raises(GalleryError, match="can be read neither from its original nor from its thumbnail"):
            g.load_image(2)
