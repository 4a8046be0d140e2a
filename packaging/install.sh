#!/usr/bin/env bash
# Installs interreid from an offline bundle (made by build_wheelhouse.sh) on a workstation with no
# network, and optionally installs a model pack from removable media after verifying it.
#
#   bash install.sh [--venv DIR] [--pack DIR_ON_MEDIA]
#
# --venv   where the program's environment goes (default: $XDG_DATA_HOME/interreid/venv, i.e.
#          ~/.local/share/interreid/venv). Existing environments are upgraded in place.
# --pack   a model pack folder (e.g. on a USB drive): copied to local disk, every file's SHA-256
#          checked (`interreid pack verify`), then installed (`interreid pack install`).
# Prints the path of the `interreid` program on its last line. PYTHON chooses the interpreter.
set -euo pipefail
bundle="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${XDG_DATA_HOME:-$HOME/.local/share}/interreid/venv"
pack=""
while [ $# -gt 0 ]; do
  case "$1" in
    --venv) venv="$2"; shift 2;;
    --pack) pack="$2"; shift 2;;
    -h|--help) sed -n 2,11p "$0"; exit 0;;
    *) echo "install.sh: unknown option '$1'; use --venv DIR and/or --pack DIR." >&2; exit 2;;
  esac
done
if [ -n "$pack" ] && [ ! -f "$pack/manifest.json" ]; then
  echo "install.sh: $pack is not a model pack (no manifest.json); give the pack's folder on the media." >&2
  exit 2
fi
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null || py=python3
spec="$(sed -n 's/^spec=//p' "$bundle/bundle.txt")"
want="$(sed -n 's/^python=//p' "$bundle/bundle.txt")"
have="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$want" != "$have" ]; then
  echo "install.sh: this bundle was built for Python $want but $py is Python $have; set PYTHON to a Python $want interpreter." >&2
  exit 2
fi

echo "interreid: checking the bundle's files..." >&2
(cd "$bundle" && sha256sum --quiet -c SHA256SUMS) || {
  echo "install.sh: some files of the bundle are damaged or missing (see above); copy the bundle again." >&2
  exit 1
}

# Nothing here may reach a network: no index, only the bundle's folders.
export PIP_NO_INDEX=1 PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_CONSTRAINT
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --no-index --find-links "$bundle/wheels" --upgrade pip setuptools wheel >&2
echo "interreid: installing $spec into $venv..." >&2
"$venv/bin/python" -m pip install -q --no-index --find-links "$bundle/wheels" "$spec" >&2
if [ -f "$bundle/nodeps.txt" ]; then
  # Packages whose own requirements are not needed (see build_wheelhouse.sh): no dependencies.
  "$venv/bin/python" -m pip install -q --no-index --no-deps --find-links "$bundle/wheels-nodeps" -r "$bundle/nodeps.txt" >&2
fi
"$venv/bin/interreid" --help >/dev/null

if [ -n "$pack" ]; then
  # Verify a local copy (media can be pulled out or altered mid-way), then install that copy.
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  echo "interreid: copying the model pack from $pack..." >&2
  cp -R "$pack" "$scratch/pack"
  "$venv/bin/interreid" pack verify "$scratch/pack" >&2
  "$venv/bin/interreid" pack install "$scratch/pack" >&2
fi
echo "$venv/bin/interreid"
