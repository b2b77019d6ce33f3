#!/usr/bin/env bash
# Install the project into .venv and run the whole platform on http://127.0.0.1:8000
# (embedded topology: one process, embedded PostgreSQL in .esop/ unless DATABASE_URL is set).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/esop run "$@"
