"""Shared fixtures. Qt runs offscreen; the app's data folder is a temporary one per test."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Session-wide defaults for fixtures wider than one test (module/session scope): a temporary
# workstation folder and passphrase file, never the user's own. Each test then gets its own (below).
_SESSION_KEYS = tempfile.mkdtemp(prefix="interreid-test-keys-")
atexit.register(shutil.rmtree, _SESSION_KEYS, True)
PASSPHRASE = "correct horse battery staple"
Path(_SESSION_KEYS, "passphrase.txt").write_text(PASSPHRASE + "\n", encoding="utf-8")
os.environ["INTERREID_WORKSTATION"] = str(Path(_SESSION_KEYS, "workstation"))
os.environ["INTERREID_KEY_FILE"] = str(Path(_SESSION_KEYS, "passphrase.txt"))
os.environ["INTERREID_KDF"] = "fast"

import numpy as np  # noqa: E402
import pytest  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def demo_clip(tmp_path_factory) -> Path | None:
    """A 3-second clip of the bundled demo video: what `interreid demo` imports in tests (fast)."""
    from videomaker import VTEST, cut_vtest

    if not VTEST.is_file():
        return None
    return cut_vtest(tmp_path_factory.mktemp("demo") / "vtest-clip.avi", 40, 30)


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch, demo_clip):
    monkeypatch.setenv("INTERREID_DATA", str(tmp_path / "appdata"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    if demo_clip is not None:
        monkeypatch.setenv("INTERREID_DEMO_VIDEO", str(demo_clip))
    # The workstation's keys (signing key, anchor journal) and the passphrase that encrypts new case
    # files come from a temporary folder and key file, never from a prompt; scrypt runs cheap.
    monkeypatch.setenv("INTERREID_WORKSTATION", str(tmp_path / "workstation"))
    key_file = tmp_path / "passphrase.txt"
    key_file.write_text(PASSPHRASE + "\n", encoding="utf-8")
    monkeypatch.setenv("INTERREID_KEY_FILE", str(key_file))
    monkeypatch.setenv("INTERREID_KDF", "fast")
    from interreid.engine.storage import keys

    keys.set_passphrase(None)


@pytest.fixture
def crops_dir(tmp_path) -> Path:
    """A folder of 12 small person-like crops (distinct colours) in camera subfolders."""
    from imagemaker import write_person

    root = tmp_path / "crops"
    colours = ["red", "blue", "green", "yellow", "black", "white", "purple", "orange", "pink", "brown",
               "grey", "red"]
    for i, upper in enumerate(colours):
        cam = f"cam0{i % 3 + 1}"
        lower = colours[(i + 5) % len(colours)]
        write_person(root / cam / f"2024-05-01T12-30-{i:02d}_p{i}.jpg", upper, lower, seed=i)
    return root


@pytest.fixture
def lite_gallery(crops_dir, tmp_path) -> Path:
    """A plain lite gallery of ``crops_dir``'s 12 crops, imported through the engine's one import verb."""
    from interreid.engine.session import import_into

    report = import_into(tmp_path / "gallery", [crops_dir], engine="lite")
    assert report.imported == 12
    return tmp_path / "gallery"


@pytest.fixture
def rng():
    return np.random.default_rng(0)
