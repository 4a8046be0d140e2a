"""The screenshot script runs the real app under Xvfb on the demo gallery and writes its PNGs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("xvfb-run") is None or shutil.which("Xvfb") is None,
                    reason="Xvfb is not installed (scripts/setup.sh installs it); no display for the real app")
def test_screenshot_script_writes_the_interview_screen(tmp_path):
    if not (ROOT / "resources" / "demo" / "crops").is_dir():
        pytest.skip("the demo crops are not in this checkout")
    out = tmp_path / "interview.png"
    env = {**os.environ, "INTERREID_DATA": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("QT_QPA_PLATFORM", None)
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshot_demo.py"), "--out", str(out),
                          "--size", "1366x768"], env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    from PIL import Image

    with Image.open(out) as im:
        assert im.size == (1366, 768)  # fits a common laptop screen: nothing forces it wider
        grey = np.asarray(im.convert("L").resize((64, 40)))
    assert len(np.unique(grey)) > 20  # not a blank window
    for name in ("details.png", "similar.png", "help.png"):
        assert (tmp_path / name).is_file(), name
    for name in ("witness.png", "witness-lineup.png"):  # the witness view: a picture on black, nothing else
        with Image.open(tmp_path / name) as im:
            rgb = np.asarray(im.convert("RGB"))
        assert rgb.shape[1] >= 1366 - 1 and (rgb.max(axis=2) < 16).mean() > 0.5, name
