#!/usr/bin/env bash
# README pictures (docs/images/*.png) from a running demo in headless Chromium; `make screenshots`.
# --check (CI, production profile): verify the pages' structure, keep the committed pictures.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${GBREC_PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || { echo "$PY not found; run 'make install' first" >&2; exit 1; }
exec "$PY" "$ROOT/scripts/screenshots.py" "$@"
