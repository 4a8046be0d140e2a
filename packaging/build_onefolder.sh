#!/usr/bin/env bash
# Builds the one-folder desktop app (PyInstaller) of the runtime: lite engine + ONNX retriever +
# desktop + command line, no torch. Needs a connected machine, or a wheelhouse that also holds
# PyInstaller's wheels (build_wheelhouse.sh does not add them).
#
#   bash packaging/build_onefolder.sh OUT [--wheelhouse DIR]
#
# OUT/interreid/ is the app folder: copy it anywhere and run OUT/interreid/interreid (--help, demo,
# search, ...). With --wheelhouse the project and its dependencies come from that bundle (the same
# files the offline installer installs); without it, from this checkout and the package index.
# Prints the app folder's path on its last line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 1 ]; then
  echo "usage: build_onefolder.sh OUT [--wheelhouse DIR]" >&2
  exit 2
fi
out="$1"; shift
wheelhouse=""
if [ "${1:-}" = "--wheelhouse" ]; then wheelhouse="$(cd "$2" && pwd)"; fi
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null || py=python3
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A clean environment holding only the runtime (no torch), so that nothing else is collected.
"$py" -m venv "$work/env"
if [ -n "$wheelhouse" ]; then
  "$work/env/bin/pip" install -q --no-index --find-links "$wheelhouse/wheels" interreid
else
  # From a copy of the sources, so the build leaves nothing (build/, *.egg-info) in the checkout.
  mkdir -p "$work/src"
  cp -R "$here/engine" "$here/desktop" "$here/resources" "$here/setup.py" "$here/pyproject.toml" \
    "$here/README.md" "$work/src/"
  find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
  "$work/env/bin/pip" install -q "$work/src"
fi
"$work/env/bin/pip" install -q "pyinstaller>=6"
if "$work/env/bin/python" -c "import torch" 2>/dev/null; then
  echo "build_onefolder.sh: torch got into the runtime environment; the core must not depend on it." >&2
  exit 1
fi
cp "$here/packaging/launcher.py" "$here/packaging/interreid.spec" "$work/"
(cd "$work" && "$work/env/bin/pyinstaller" --noconfirm --log-level WARN --distpath "$out" \
   --workpath "$work/build" interreid.spec) >&2
echo "one-folder app: $out/interreid ($(du -sh "$out/interreid" | cut -f1))" >&2
echo "$out/interreid"
