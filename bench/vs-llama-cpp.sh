#!/usr/bin/env bash
# xpusim bench vs llama.cpp's llama-bench on the same GGUF files (issue 19).
#
#   bench/vs-llama-cpp.sh [stage ...]      stages: fetch build models run (default: all, in that order)
#
# fetch:  llama.cpp's source from PyPI: the sdist of llama-cpp-python (it vendors llama.cpp), via pip.
# build:  llama-bench and llama-quantize (Release, native CPU flags; JOBS=1 and nice by default, since this is
#         slow on a small shared machine).
# models: F16 GGUFs with random weights (normal, std 0.02; norms 1) and the real Llama-3.2-1B and GPT-2
#         shapes (tied embeddings, as both models), written with the vendored gguf-py (a venv with numpy),
#         the tokenizer taken from the real SmolLM2 GGUF and padded with filler tokens to the model's vocab;
#         then llama-quantize to each of $TYPES (its default mixes: Q4_K_M = Q4_K + Q6_K ...), plus the real
#         SmolLM2-135M GGUF as it is. Without a llama.cpp build (stage build skipped or failed), the mixes are
#         written directly as random block bytes (make_random_gguf.py --mix) and only xpusim runs.
# run:    for each file and pass: xpusim bench and llama-bench back to back (interleaved), pp$P and tg$N,
#         $THREADS threads; peak RSS of each from /usr/bin/time (GNU time) or, without it, from the tools'
#         own reports. Prints a table of medians and the xpusim / llama.cpp ratios; raw rows in
#         $WORK/results.csv.
#
# Environment: WORK (default ~/.cache/xpusim/vs-llama-cpp), XPUSIM (default build/xpusim), PASSES (3),
# THREADS (2), P (512), N (128), TYPES ("Q4_0 Q4_K_M Q5_K_M Q6_K Q8_0 IQ4_XS"), SHAPES ("llama-1b gpt2"),
# LLAMA_CPP_PYTHON (the PyPI version to fetch, default 0.3.36), JOBS (1).
set -euo pipefail

WORK=${WORK:-$HOME/.cache/xpusim/vs-llama-cpp}
XPUSIM=${XPUSIM:-build/xpusim}
PASSES=${PASSES:-3}
THREADS=${THREADS:-2}
P=${P:-512}
N=${N:-128}
TYPES=${TYPES:-"Q4_0 Q4_K_M Q5_K_M Q6_K Q8_0 IQ4_XS"}
SHAPES=${SHAPES:-"llama-1b gpt2"}
VERSION=${LLAMA_CPP_PYTHON:-0.3.36}
JOBS=${JOBS:-1}
SMOLLM2=${SMOLLM2:-$HOME/.cache/xpusim/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf}
SRC="$WORK/llama_cpp_python-$VERSION/vendor/llama.cpp"
BIN="$WORK/build/bin"
MODELS="$WORK/models"
HERE=$(cd "$(dirname "$0")" && pwd)

log() { echo "[vs-llama-cpp] $*" >&2; }

fetch() {
  [ -d "$SRC" ] && return 0
  mkdir -p "$WORK"
  log "fetching llama-cpp-python==$VERSION (sdist, vendors llama.cpp) from PyPI"
  python3 -m pip download --quiet --no-binary :all: --no-deps -d "$WORK" "llama-cpp-python==$VERSION"
  tar xzf "$WORK/llama_cpp_python-$VERSION.tar.gz" -C "$WORK"
}

build() {
  [ -x "$BIN/llama-bench" ] && [ -x "$BIN/llama-quantize" ] && return 0
  log "building llama-bench and llama-quantize (-j$JOBS, nice 19)"
  nice -n 19 cmake -S "$SRC" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF >/dev/null
  nice -n 19 cmake --build "$WORK/build" -j "$JOBS" --target llama-bench llama-quantize
}

models() {
  mkdir -p "$MODELS"
  if [ ! -x "$WORK/venv/bin/python" ]; then
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install --quiet numpy pyyaml
  fi
  for shape in $SHAPES; do
    local f16="$MODELS/$shape-F16.gguf"
    if [ ! -s "$f16" ]; then
      log "writing $f16"
      PYTHONPATH="$SRC/gguf-py" "$WORK/venv/bin/python" "$HERE/make_random_gguf.py" --shape "$shape" \
        --tokenizer-from "$SMOLLM2" --out "$f16"
    fi
    for type in $TYPES; do
      local out="$MODELS/$shape-$type.gguf"
      [ -s "$out" ] && continue
      if [ -x "$BIN/llama-quantize" ]; then
        "$BIN/llama-quantize" "$f16" "$out" "$type" >"$out.log" 2>&1 || {
          log "llama-quantize $type failed (see $out.log)"
          rm -f "$out"
        }
      else  # no llama.cpp build: random block bytes in the mix's types (make_random_gguf.py --mix)
        log "no llama-quantize: writing $out with random $type blocks"
        PYTHONPATH="$SRC/gguf-py" "$WORK/venv/bin/python" "$HERE/make_random_gguf.py" --shape "$shape" \
          --mix "$type" --tokenizer-from "$SMOLLM2" --out "$out"
      fi
    done
  done
}

# Runs a command under GNU time (if there) and prints its peak RSS in MiB on fd 3.
peak_rss_of() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%M" -o "$WORK/time.out" "$@"
    echo $(($(tail -1 "$WORK/time.out") / 1024)) >&3
  else
    "$@"
    echo "" >&3
  fi
}

run() {
  local csv="$WORK/results.csv"
  echo "pass,file,tool,test,tokens_per_second,peak_rss_mib" >"$csv"
  local files=()
  for shape in $SHAPES; do
    for type in F16 $TYPES; do [ -s "$MODELS/$shape-$type.gguf" ] && files+=("$MODELS/$shape-$type.gguf"); done
  done
  [ -s "$SMOLLM2" ] && files+=("$SMOLLM2")
  for pass in $(seq 1 "$PASSES"); do
    for file in "${files[@]}"; do
      local name
      name=$(basename "$file" .gguf)
      log "pass $pass: $name"
      local out rss
      # xpusim: CSV rows test,tokens,tokens_per_second,...
      out=$( { peak_rss_of "$XPUSIM" bench --model "$file" -p "$P" -n "$N" --threads "$THREADS" --reps 1 --csv \
        --quiet 2>/dev/null; } 3>"$WORK/rss.out") || { log "xpusim failed on $name"; continue; }
      rss=$(cat "$WORK/rss.out")
      echo "$out" | awk -F, -v pass="$pass" -v name="$name" -v rss="$rss" \
        'NR > 1 { print pass "," name ",xpusim," $1 "," $3 "," rss }' >>"$csv"
      [ -x "$BIN/llama-bench" ] || continue
      # llama-bench: CSV with n_prompt, n_gen, avg_ts.
      out=$( { peak_rss_of "$BIN/llama-bench" -m "$file" -p "$P" -n "$N" -t "$THREADS" -r 1 -o csv \
        2>/dev/null; } 3>"$WORK/rss.out") || { log "llama-bench failed on $name"; continue; }
      rss=$(cat "$WORK/rss.out")
      echo "$out" | python3 -c '
import csv, sys
pass_, name, rss = sys.argv[1:4]
for row in csv.DictReader(sys.stdin):
    test = f"pp{row[\"n_prompt\"]}" if int(row["n_prompt"]) > 0 else f"tg{row[\"n_gen\"]}"
    print(f"{pass_},{name},llama.cpp,{test},{row[\"avg_ts\"]},{rss}")
' "$pass" "$name" "$rss" >>"$csv"
    done
  done
  python3 - "$csv" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
table = {}
for r in rows:
    table.setdefault((r["file"], r["test"]), {}).setdefault(r["tool"], []).append(r)
print(f"| file | test | xpusim t/s | llama.cpp t/s | ratio | xpusim RSS MiB | llama.cpp RSS MiB |")
print("|---|---|---|---|---|---|---|")
for (name, test), tools in sorted(table.items()):
    def med(tool, key):
        values = [float(r[key]) for r in tools.get(tool, []) if r[key]]
        return statistics.median(values) if values else float("nan")
    x, l = med("xpusim", "tokens_per_second"), med("llama.cpp", "tokens_per_second")
    print(f"| {name} | {test} | {x:.1f} | {l:.1f} | {x / l:.2f} | {med('xpusim', 'peak_rss_mib'):.0f} | "
          f"{med('llama.cpp', 'peak_rss_mib'):.0f} |")
EOF
}

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(fetch build models run)
for stage in "${stages[@]}"; do
  case "$stage" in
    fetch | build | models | run) "$stage" ;;
    *)
      echo "unknown stage '$stage' (fetch, build, models, run)" >&2
      exit 2
      ;;
  esac
done
