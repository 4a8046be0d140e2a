from PIL import Image

from interreid.engine.gallery.metadata import camera_from_path, timestamp_from_exif, timestamp_from_path


def test_camera_patterns():
    assert camera_from_path("cam03/2024-05-01T12-30-05_x.jpg") == "cam03"
    assert camera_from_path("site/Camera_7/a.jpg") == "cam07"
    assert camera_from_path("ch12/x.png") == "cam12"
    assert camera_from_path("0002_c4s1_000451_03.jpg") == "cam04"
    assert camera_from_path("people/alice.jpg") is None


def test_timestamp_patterns():
    assert timestamp_from_path("cam03/2024-05-01T12-30-05_x.jpg") == "2024-05-01T12:30:05"
    assert timestamp_from_path("20240501_123005.jpg") == "2024-05-01T12:30:05"
    assert timestamp_from_path("2024-05-01/a.jpg") == "2024-05-01"
    assert timestamp_from_path("2024-13-45_bad.jpg") is None
    assert timestamp_from_path("plain.jpg") is None


def test_exif_datetime_original(tmp_path):
    img = Image.new("RGB", (32, 64), "red")
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2023:11:02 08:15:00"
    img.save(tmp_path / "e.jpg", exif=exif)
    with Image.open(tmp_path / "e.jpg") as im:
        assert timestamp_from_exif(im) == "2023-11-02T08:15:00"
    Image.new("RGB", (32, 64)).save(tmp_path / "n.jpg")
    with Image.open(tmp_path / "n.jpg") as im:
        assert timestamp_from_exif(im) is None
