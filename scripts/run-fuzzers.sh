#!/usr/bin/env bash
# Builds every libFuzzer target (fuzz/*_fuzz.cpp) with clang and runs each for N seconds (default 60) on its seed
# corpus (fuzz/corpus/<name>/). A crash, leak, timeout or sanitizer report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shopt -s nullglob
sources=(fuzz/*_fuzz.cpp)
if ((${#sources[@]} == 0)); then echo "[fuzz] no fuzz targets"; exit 0; fi
CXX_FUZZ=$(command -v clang++ || command -v clang++-14)
LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$CXX_FUZZ" "${LAUNCHER[@]}" \
  -DXPUSIM_FUZZ=ON -DXPUSIM_TESTS=OFF -DXPUSIM_BENCH=OFF -DXPUSIM_CUDA=OFF >/dev/null
targets=$(for f in "${sources[@]}"; do echo "xpusim_$(basename "$f" .cpp)"; done)
# shellcheck disable=SC2086
cmake --build build-fuzz -j "$(nproc)" --target $targets
bins=(build-fuzz/fuzz/xpusim_*_fuzz)
if ((${#bins[@]} != ${#sources[@]})); then echo "[fuzz] built ${#bins[@]} of ${#sources[@]} targets" >&2; exit 1; fi
for bin in "${bins[@]}"; do
  name=$(basename "$bin" | sed 's/^xpusim_//; s/_fuzz$//')
  corpus=$(mktemp -d)
  [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$corpus/"
  echo "[fuzz] $name for ${SECONDS_EACH}s"
  "$bin" -max_total_time="$SECONDS_EACH" -timeout=30 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 "$corpus" \
    2>&1 | tail -n 40
  rm -rf "$corpus"
done
