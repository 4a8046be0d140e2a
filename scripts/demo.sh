#!/usr/bin/env bash
# Set up (or reuse) the environment and start the main job: the app on the bundled demo gallery.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$(bash "$here/scripts/setup.sh" | tail -n 1)"
exec "$venv/bin/interreid" demo "$@"
