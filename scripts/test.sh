#!/usr/bin/env bash
# The whole test suite: sets up (or reuses) the environment, runs ruff and import-linter, then pytest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$(bash "$here/scripts/setup.sh" | tail -n 1)"
cd "$here"
export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# Lint and layering first (configured in pyproject.toml; a second or two each).
"$venv/bin/ruff" check --no-cache --quiet .
"$venv/bin/lint-imports" --no-cache >/dev/null || "$venv/bin/lint-imports" --no-cache
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
