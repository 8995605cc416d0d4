#!/bin/sh
# Runs tests/python/test_api.py in a venv that has the xpusim module. The venv is $XPUSIM_PYTHON_VENV or
# build-python/venv; `run_tests.sh --install` creates it and runs `pip install .` (builds the module: minutes).
# Without a venv holding xpusim the test is skipped (exit 77), so ctest stays fast where nobody built it.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${XPUSIM_PYTHON_VENV:-$ROOT/build-python/venv}
if [ "${1:-}" = "--install" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "$ROOT"
fi
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import xpusim" 2>/dev/null; then
  echo "no venv with xpusim at $VENV (tests/python/run_tests.sh --install builds one): skipped"
  exit 77
fi
exec "$VENV/bin/python" "$ROOT/tests/python/test_api.py" -v
