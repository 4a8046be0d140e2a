"""Gallery import: hashing, metadata, skip reasons, dedupe, unicode paths, symlink loops, resume."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from interreid.engine.errors import GalleryError
from interreid.engine.gallery.importer import import_sources
from interreid.engine.gallery.store import Gallery
from fake_embedders import BandColourTestEmbedder
from imagemaker import write_person


def _gallery(tmp_path, name="gallery"):
    return Gallery.create(tmp_path / name, BandColourTestEmbedder.identity)


def test_import_records_hash_size_metadata_and_thumbnail(tmp_path, crops_dir):
    before = {p: p.read_bytes() for p in crops_dir.rglob("*.jpg")}
    with _gallery(tmp_path) as g:
        report = import_sources(g, BandColourTestEmbedder(), [crops_dir])
        assert report.imported == 12 and not report.skipped
        assert len(g) == 12
        img = g.image(0)
        assert img.sha256 == hashlib.sha256(Path(img.path).read_bytes()).hexdigest()
        assert img.camera in {"cam01", "cam02", "cam03"}
        assert img.timestamp.startswith("2024-05-01T12:30:")
        assert img.thumb.is_file() and max(Image.open(img.thumb).size) <= 256
        assert g.vectors().shape == (12, 12)
    # evidence is never modified
    assert {p: p.read_bytes() for p in crops_dir.rglob("*.jpg")} == before


def test_duplicate_stored_once_with_both_sources(tmp_path, crops_dir):
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(next(crops_dir.rglob("*.jpg")), other / "copy of it.jpg")
    with _gallery(tmp_path) as g:
        import_sources(g, BandColourTestEmbedder(), [crops_dir])
        report = import_sources(g, BandColourTestEmbedder(), [other])
        assert report.duplicates == 1 and report.imported == 0
        assert len(g) == 12
        sha = hashlib.sha256((other / "copy of it.jpg").read_bytes()).hexdigest()
        img = g.image(g.row_of(sha))
        assert len(img.sources) == 2 and any(s.endswith("copy of it.jpg") for s in img.sources)


def test_bad_files_are_skipped_with_reasons_and_import_goes_on(tmp_path):
    src = tmp_path / "mixed"
    write_person(src / "good.jpg", "red", "blue")
    (src / "empty.jpg").write_bytes(b"")
    (src / "notes.png").write_text("this is not an image")
    good = (src / "good.jpg").read_bytes()
    (src / "truncated.jpg").write_bytes(good[: len(good) // 3])
    Image.new("RGB", (10, 40), "red").save(src / "tiny.png")
    (src / "readme.txt").write_text("ignored: not an image extension")
    with _gallery(tmp_path) as g:
        report = import_sources(g, BandColourTestEmbedder(), [src])
        reasons = {Path(p).name: r for p, r in report.skipped}
        assert report.imported == 1
        assert "empty file" in reasons["empty.jpg"]
        assert "not an image" in reasons["notes.png"]
        assert "corrupt or truncated" in reasons["truncated.jpg"]
        assert "too small" in reasons["tiny.png"]
        assert "readme.txt" not in reasons
        assert len(g.skipped()) == 4  # recorded in the gallery for 'gallery info'


def test_too_large_image_is_skipped(tmp_path, monkeypatch):
    import interreid.engine.gallery.importer as importer

    monkeypatch.setattr(importer, "MAX_PIXELS", 64 * 128 - 1)
    write_person(tmp_path / "src" / "big.jpg", "red", "blue")
    with _gallery(tmp_path) as g:
        report = import_sources(g, BandColourTestEmbedder(), [tmp_path / "src"])
    assert report.imported == 0 and "too large" in report.skipped[0][1]


def test_unicode_spaces_and_symlink_loop(tmp_path):
    src = tmp_path / "Zeugen Fotos ü"
    write_person(src / "kamera 1" / "Straße 東京.jpg", "green", "black")
    os.symlink(src, src / "kamera 1" / "loop")  # a symlink loop must not hang the walk
    with _gallery(tmp_path) as g:
        report = import_sources(g, BandColourTestEmbedder(), [src])
        assert report.imported == 1
        assert g.image(0).path.endswith("Straße 東京.jpg")


def test_rerun_resumes_without_reading_again(tmp_path, crops_dir):
    with _gallery(tmp_path) as g:
        import_sources(g, BandColourTestEmbedder(), [crops_dir])
        emb = BandColourTestEmbedder()
        report = import_sources(g, emb, [crops_dir])
        assert report.already == 12 and report.imported == 0 and emb.calls == 0
        assert len(g) == 12


def test_missing_source_folder_is_a_clear_error(tmp_path):
    with _gallery(tmp_path) as g, pytest.raises(GalleryError, match="does not exist"):
        import_sources(g, BandColourTestEmbedder(), [tmp_path / "nope"])


def test_gallery_of_other_embedder_or_newer_version_refused(tmp_path, crops_dir):
    from interreid.engine.embedder import EmbedderIdentity

    with _gallery(tmp_path) as g:
        import_sources(g, BandColourTestEmbedder(), [crops_dir])
        with g.conn:
            g.set_meta("schema_version", "99")
    with pytest.raises(GalleryError, match="newer interreid"):
        Gallery.open(tmp_path / "gallery")
    with pytest.raises(GalleryError, match="cannot take"):
        Gallery.create(tmp_path / "g2", BandColourTestEmbedder.identity).close()
        Gallery.create(tmp_path / "g2", EmbedderIdentity("other", "1", 5))


def test_not_a_gallery_folder(tmp_path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "x.txt").write_text("x")
    with pytest.raises(GalleryError, match="not an interreid gallery"):
        Gallery.open(tmp_path / "stuff")
    with pytest.raises(GalleryError, match="not empty"):
        Gallery.create(tmp_path / "stuff", BandColourTestEmbedder.identity)


_KILL_SCRIPT = r"""
import sys, time
sys.path.insert(0, sys.argv[3])
from fake_embedders import BandColourTestEmbedder
from interreid.engine.gallery.importer import import_sources
from interreid.engine.gallery.store import Gallery

class Slow(BandColourTestEmbedder):
    def embed_images(self, images):
        time.sleep(0.15)
        return super().embed_images(images)

g = Gallery.create(sys.argv[1], Slow.identity)
def progress(p):
    if p.done == 6:
        print("HALFWAY", flush=True)
import_sources(g, Slow(), [sys.argv[2]], progress=progress, batch_size=2)
print("DONE", flush=True)
"""


def test_killed_import_leaves_consistent_gallery_and_resumes(tmp_path):
    src = tmp_path / "many"
    for i in range(40):
        write_person(src / f"p{i:03d}.jpg", ["red", "blue", "green", "grey"][i % 4], "black", seed=i)
    gallery_dir = tmp_path / "gallery"
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(gallery_dir), str(src),
                             str(Path(__file__).parent)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "HALFWAY"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Gallery.open(gallery_dir) as g:
        partial = len(g)
        assert 0 < partial < 40
        # every image row has a source row and a full vector
        assert g.conn.execute("SELECT COUNT(*) FROM images WHERE sha256 NOT IN (SELECT sha256 FROM sources)"
                              ).fetchone()[0] == 0
        assert g.vectors().shape == (partial, 12)
        report = import_sources(g, BandColourTestEmbedder(), [src])
        assert report.already == partial and report.imported == 40 - partial
        assert len(g) == 40
        assert g.conn.execute("SELECT COUNT(DISTINCT sha256) FROM images").fetchone()[0] == 40
