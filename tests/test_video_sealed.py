"""Video import into an ENCRYPTED gallery: every image file it writes (crops, masks, backgrounds,
thumbnails) is sealed (0600), each crop keeps the SHA-256 of its PNG, and every reader unseals: the
gallery's image loader, `case verify`, the lite search, the desktop's details view, `gallery rekey`.
Plain galleries are unchanged (test_video_import.py)."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from interreid.engine.cli.main import main
from interreid.engine.gallery.store import Gallery
from interreid.engine.storage import blobs

PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"


@pytest.fixture
def footage(tmp_path, demo_clip) -> Path:
    if demo_clip is None:
        pytest.skip("resources/demo/vtest.avi is missing")
    folder = tmp_path / "footage" / "cam01"
    folder.mkdir(parents=True)
    (folder / "clip.avi").write_bytes(Path(demo_clip).read_bytes())
    return tmp_path / "footage"


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def _json(capsys) -> object:
    return json.loads(capsys.readouterr().out)


def test_encrypted_video_import_seals_every_image_and_crops_still_verify(tmp_path, footage, capsys):
    enc, plain = tmp_path / "enc", tmp_path / "plain"
    assert main(["gallery", "import", str(footage), "--gallery", str(enc)]) == 0  # encrypted by default
    assert main(["gallery", "import", str(footage), "--gallery", str(plain), "--plain"]) == 0
    capsys.readouterr()

    # no image of a person can be read from the encrypted folder: every file's first bytes, checked
    files = _files(enc)
    for sub in ("crops", "masks", "backgrounds", "thumbs"):
        assert any(p.relative_to(enc).parts[0] == sub for p in files), f"no {sub} written"
    for p in files:
        head = p.read_bytes()[:8]
        assert not head.startswith(PNG) and not head.startswith(JPEG), f"{p.relative_to(enc)} is a plain image"
        if p.suffix in (".png", ".jpg"):
            assert blobs.is_sealed(head) and stat.S_IMODE(p.stat().st_mode) == 0o600
    # the plain gallery is as before: plain PNG crops (the same pixels, hence the same hashes)
    plain_crops = sorted(p for p in _files(plain) if p.relative_to(plain).parts[0] == "crops")
    assert plain_crops and all(p.read_bytes().startswith(PNG) for p in plain_crops)

    with Gallery.open(enc) as g:
        shas = g.shas()
        assert sorted(shas) == sorted(p.stem for p in plain_crops)  # provenance unchanged by sealing
        for row, sha in enumerate(shas):
            src = Path(g.image(row).sources[0])
            assert src.read_bytes()[:8] != PNG
            png = blobs.read_image_bytes(src)
            assert png.startswith(PNG) and hashlib.sha256(png).hexdigest() == sha
            assert blobs.plain_sha256(src) == sha
            assert g.image(row).size_bytes == len(png)
            im = g.load_image(row)  # the crop itself (not the smaller thumbnail)
            assert im.size == (g.image(row).width, g.image(row).height)
        crop = Path(g.image(0).sources[0])

    # the lite search ranks the encrypted gallery exactly as the plain one
    assert main(["search", "a person in dark clothes", "--gallery", str(enc), "--top", "5", "--json"]) == 0
    ranked_enc = _json(capsys)
    assert main(["search", "a person in dark clothes", "--gallery", str(plain), "--top", "5", "--json"]) == 0
    ranked_plain = _json(capsys)
    def order(res):
        return [(r["rank"], r["sha256"], round(r["score"], 6)) for r in res["results"]]

    assert len(order(ranked_enc)) == 5 and order(ranked_enc) == order(ranked_plain)

    # a case made on it verifies: the crops re-hashed through their seal, the source video re-hashed
    case = tmp_path / "video.case"
    assert main(["case", "new", str(case), "--title", "Sealed crops", "--gallery", str(enc)]) == 0
    capsys.readouterr()
    assert main(["case", "verify", str(case), "--json"]) == 0
    v = _json(capsys)
    assert v["ok"] and v["images_checked"] == len(shas) and v["videos_checked"] == 1

    # the report draws the marked crop from its sealed thumbnail and names its source video
    from interreid.engine.casefile import CaseFile

    with CaseFile.open(case) as c:
        c.mark(shas[0], "possible", "walks past the camera")
    assert main(["case", "report", str(case), "--out", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "data:image/jpeg;base64," in html and "image unavailable" not in html
    assert "clip.avi" in html
    capsys.readouterr()

    # a sealed crop altered on disk is caught
    data = bytearray(crop.read_bytes())
    data[-5] ^= 0x01
    crop.write_bytes(bytes(data))
    assert main(["case", "verify", str(case), "--json"]) != 0
    v = _json(capsys)
    assert not v["ok"] and [d["path"] for d in v["altered_images"]] == [str(crop)]


def test_rekey_reseals_video_images(tmp_path, footage, capsys):
    from interreid.engine.storage import keys

    g = tmp_path / "g"
    assert main(["gallery", "import", str(footage), "--gallery", str(g)]) == 0
    new_key = tmp_path / "new.txt"
    new_key.write_text("another passphrase\n")
    assert main(["gallery", "rekey", str(g), "--new-key-file", str(new_key)]) == 0
    out = capsys.readouterr().out
    n_video = sum(1 for p in _files(g) if p.suffix == ".png")
    assert f"also {n_video} crops, masks and backgrounds" in out
    keys.set_passphrase("another passphrase")
    try:
        with Gallery.open(g) as gal:
            assert gal.load_image(0).size == (gal.image(0).width, gal.image(0).height)
    finally:
        keys.set_passphrase(None)


def test_details_view_shows_a_sealed_crop(qtbot, tmp_path):
    pytest.importorskip("pytestqt")
    from videomaker import BlobDetector, write_walkers

    from interreid.desktop.session import ImageDetails
    from interreid.desktop.widgets.detail_view import DetailView
    from interreid.engine.embedder import create_embedder
    from interreid.engine.gallery.importer import import_sources
    from interreid.engine.video.frames import track_boxes
    from interreid.engine.video.importer import VideoOptions
    from interreid.engine.video.query import crop_provenance

    video = write_walkers(tmp_path / "cam02" / "walk.avi")
    emb = create_embedder("lite")
    with Gallery.create(tmp_path / "g", emb.identity, encrypt=True) as g:
        import_sources(g, emb, [video], video_options=VideoOptions(detector=BlobDetector(), min_height=20,
                                                                    sample_fps=10))
        img = g.image(0)
        assert blobs.is_sealed(Path(img.sources[0]).read_bytes())
        prov = crop_provenance(g, img.sha256)
        prov["track_boxes"] = track_boxes(g, prov["track"])
        expected = g.load_image(0)
    view = DetailView(ImageDetails(img, [], None, [], ([], []), prov))
    qtbot.addWidget(view)
    view.show()
    shown = view.zoom.original
    assert shown is not None and not shown.isNull()
    assert (shown.width(), shown.height()) == expected.size  # the crop at full size, not the thumbnail
    x, y = expected.width // 2, expected.height // 2
    c = shown.toImage().pixelColor(x, y)
    assert (c.red(), c.green(), c.blue()) == expected.getpixel((x, y))
    assert view.source_frame is not None and not view.source_frame.picture.pixmap().isNull()


def test_encrypted_import_resumes_from_its_sealed_background(tmp_path):
    from videomaker import BlobDetector, write_walkers

    from interreid.engine.embedder import create_embedder
    from interreid.engine.gallery.importer import import_sources
    from interreid.engine.video.importer import VideoOptions
    from interreid.engine.video.query import list_tracks

    video = write_walkers(tmp_path / "footage" / "cam02" / "walk.avi")
    options = VideoOptions(detector=BlobDetector(), min_height=20, sample_fps=10, commit_every_s=1.0)
    emb = create_embedder("lite")
    calls = {"n": 0}

    def cancel():
        calls["n"] += 1
        return calls["n"] > 3

    with Gallery.create(tmp_path / "g", emb.identity, encrypt=True) as g:
        first = import_sources(g, emb, [video], video_options=options, cancel=cancel)
        assert first.cancelled
        background = next((g.folder / "backgrounds").iterdir())
        assert blobs.is_sealed(background.read_bytes())
        again = import_sources(g, emb, [video], video_options=options)  # reads the sealed background back
        assert again.videos[0]["status"] == "complete" and again.videos[0]["resumed_from_frame"] > 0
        assert len(list_tracks(g)) == 2
        assert not [p for p in _files(g.folder) if p.read_bytes()[:8].startswith((PNG, JPEG))]


def test_similar_takes_a_sealed_crop_of_the_gallery(tmp_path, footage, capsys):
    """`interreid similar CROP --gallery G` with one of an encrypted gallery's own crops said 'is not in gallery':
    it hashed the sealed file, not the PNG the crop is identified by (a re-ID researcher's trial on the bundled
    video)."""
    enc = tmp_path / "enc"
    assert main(["gallery", "import", str(footage), "--gallery", str(enc)]) == 0
    crop = sorted((enc / "crops").rglob("*.png"))[0]
    assert blobs.is_sealed(crop.read_bytes()[:8])
    capsys.readouterr()
    assert main(["similar", str(crop), "--gallery", str(enc), "--top", "3"]) == 0
    assert f"Most similar to {crop.stem[:12]}" in capsys.readouterr().out
