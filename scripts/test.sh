#!/usr/bin/env bash
# Set up a virtual environment with everything the tests need and run them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e ".[test]"
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
