#!/usr/bin/env bash
# Regenerates docs/validation.md: cost-model predictions (src/chips) against measurements.
#  1. cpu-host: real host executions (`xpusim run --json`, best of REPEATS runs; the machine is shared, so
#     timings are noisy) of smollm2-135m (real Q4_1 GGUF and --precision int8) and gpt2 (synthetic bf16 weights),
#     prefill and decode, against tools/chip_predict.cpp on the detected cpu-host chip.
#  2. gpu/lpu presets: against published measurements listed in shared/reference/chips.md §1.3 and §4.
# Usage: scripts/make-validation.sh [BUILD_DIR]   (default: build; needs the xpusim binary and static libraries)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
REPEATS="${REPEATS:-3}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
LIBS=""
for lib in chips graph model numerics core; do LIBS="$LIBS $BUILD/libxpusim_$lib.a"; done
# shellcheck disable=SC2046,SC2086
c++ -std=c++20 -O2 -I"$ROOT/src" "$ROOT/tools/chip_predict.cpp" -o "$TMP/chip_predict" $LIBS -ltomlplusplus -lfmt \
  $(pkg-config --libs libpcre2-8 icu-uc icu-i18n libxxhash) -lpthread
PROMPT="$(python3 -c "print(' '.join(['the quick brown fox jumps over the lazy dog'] * 12))")"
GEN=64

measure() {  # model precision -> best-of-N JSON line {prompt_tokens, prompt_seconds, decode_seconds, ...}
  local model="$1" precision="$2" best=""
  for _ in $(seq "$REPEATS"); do
    local args=(run --model "$model" --prompt "$PROMPT" -n "$GEN" --temperature 0 --json)
    [ "$precision" != "checkpoint" ] && args+=(--precision "$precision")
    "$BUILD/xpusim" "${args[@]}" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(json.dumps({k: d[k] for k in ("prompt_tokens", "prompt_seconds", "decode_seconds", "synthetic", "weight_bytes")}))' \
      >> "$TMP/m_${model}_${precision}.jsonl"
  done
  python3 - "$TMP/m_${model}_${precision}.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
best = dict(rows[0])
best["prompt_seconds"] = min(r["prompt_seconds"] for r in rows)
best["decode_seconds"] = min(r["decode_seconds"] for r in rows)
print(json.dumps(best))
PY
}

HOST_ROWS=""
# model, precision given to `xpusim run`, precision given to the model (the stored format), calibration row?
for spec in "smollm2-135m checkpoint q4_1 calibration" "smollm2-135m int8 int8 -" "gpt2 checkpoint bf16 -" \
            "gpt2 int8 int8 -"; do
  read -r model run_precision model_precision role <<< "$spec"
  m="$(measure "$model" "$run_precision")"
  tokens="$(python3 -c "import json; print(json.loads('$m')['prompt_tokens'])")"
  p="$("$TMP/chip_predict" cpu-host "$model" "$model_precision" "$tokens" "$GEN")"
  HOST_ROWS="$HOST_ROWS$model|$run_precision|$role|$m|$p"$'\n'
done

ANCHORS=""
# chip, model, precision, published decode tok/s, source
while IFS='|' read -r chip model precision published source; do
  [ -z "$chip" ] && continue
  p="$("$TMP/chip_predict" "$chip" "$model" "$precision" 128 128)"
  ANCHORS="$ANCHORS$chip|$model|$precision|$published|$source|$p"$'\n'
done <<'EOF2'
gpu-h100-sxm|llama-3.1-8b|bf16|126.9|[S19] torchao, torch.compile, batch 1
gpu-h100-sxm|llama-3.1-8b|int8|198.9|[S19] int8 weight-only
gpu-h100-sxm|llama-3.1-8b|int4|241.4|[S19] int4 weight-only g64
gpu-h100-sxm|llama-3.1-8b|fp8-e4m3|178.5|[S19] fp8 weight-only
gpu-a100|llama-3.1-8b|bf16|95.6|[S19] Llama-3-8B (same shapes), torchao
gpu-a100|llama-2-7b|bf16|104.9|[S20] gpt-fast, 330 W cap
gpu-a100|llama-2-7b|int8|155.6|[S20] gpt-fast int8
gpu-a100|llama-2-7b|int4|196.8|[S20] gpt-fast int4
gpu-jetson-orin-nano|smollm2-135m|q8_0|165|[S18] llama.cpp, 25 W (quantization not stated; q8_0 assumed)
lpu-groq|llama-2-7b|int8|750|[S24] public demo (~750 tok/s; precision not stated, int8 assumed)
EOF2

CPU_DESC="$("$BUILD/xpusim" chips --show cpu-host 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["description"])')"
python3 - "$ROOT/docs/validation.md" "$CPU_DESC" "$REPEATS" <<PY
import json, sys, datetime
out, cpu, repeats = sys.argv[1], sys.argv[2], sys.argv[3]
host = [l.split("|", 4) for l in """$HOST_ROWS""".strip().splitlines()]
anchors = [l.split("|", 5) for l in """$ANCHORS""".strip().splitlines()]
NOTES = """
## Reading the errors

- cpu-host decode depends on the DRAM bandwidth detected at start-up (a ~0.3 s streaming read); on this shared
  machine it varies between runs by tens of percent, and so do the measured decode times.
- \`xpusim run --precision int8\` quantizes linear weights at load time and runs them through the numerics
  decoder path of the host executor, which is slower than the model's fp32-FMA-plus-dequantize assumption; the
  model times what the hardware could do with that storage, the measurement shows today's kernel.
- GPU rows: the model charges achievable HBM streaming (0.83, measured on A100 [S20]) plus per-kernel gaps; the
  torch.compile / gpt-fast stacks of [S19][S20] reach 0.57-0.70 of HBM bandwidth at batch 1, so bf16 predictions
  are optimistic; weight-only int8/int4 kernels of those stacks dequantize far below the bandwidth roof, so those
  rows are optimistic by more. The model's int4 rows run int8 MACs after dequantization (no int4 tensor cores).
- The Jetson and Groq rows have unstated precisions (assumed as listed) and are vendor/community demos: order of
  magnitude checks only.
"""
def err(pred, meas): return f"{100.0 * (pred - meas) / meas:+.0f} %"
L = []
L.append("# Validation of the chip cost models")
L.append("")
L.append("Generated by \`scripts/make-validation.sh\` (do not edit by hand). Predictions: \`chips::estimate_run\` via")
L.append("tools/chip_predict.cpp. Error = (predicted - measured) / measured. Efficiency factors come from the chip files")
L.append("(sources there); no row has its own constant.")
L.append("")
L.append("## cpu-host against real host executions")
L.append("")
L.append(f"Machine: {cpu}. \`xpusim run --json --temperature 0 -n 64\`, best of {repeats} runs per row (the machine is")
L.append("shared with other jobs: timings are noisy). Prefill = the whole prompt in one step; decode = all 63 single-token")
L.append("steps. The row marked *calibration* sets cpu-host's gemm_fraction (chips/cpu-host.toml) and is not a test.")
L.append("")
L.append("| model | weights | role | prompt tokens | prefill measured | prefill predicted | error | decode measured (63 steps) | decode predicted | error | predicted bound (prefill / decode) |")
L.append("|---|---|---|---|---|---|---|---|---|---|---|")
for model, prec, role, m, p in host:
    m, p = json.loads(m), json.loads(p)
    weights = ("synthetic " if m["synthetic"] else "") + (p["precision"] if prec == "checkpoint" else prec + " (xpusim run --precision)")
    L.append(f"| {model} | {weights} | {role if role != '-' else 'test'} | {m['prompt_tokens']} | {m['prompt_seconds']*1e3:.0f} ms | {p['prefill_s']*1e3:.0f} ms | {err(p['prefill_s'], m['prompt_seconds'])} | {m['decode_seconds']*1e3:.0f} ms | {p['decode_s']*1e3:.0f} ms | {err(p['decode_s'], m['decode_seconds'])} | {p['prefill_bound']} / {p['decode_bound']} |")
L.append("")
L.append("## GPU and LPU presets against published measurements (shared/reference/chips.md)")
L.append("")
L.append("Batch 1, prompt 128, 128 generated tokens; decode tokens/s = 1 / mean decode step.")
L.append("")
L.append("| chip | model | weights | published tok/s | source | predicted tok/s | error | compute precision | predicted bound |")
L.append("|---|---|---|---|---|---|---|---|---|")
for chip, model, prec, pub, src, p in anchors:
    p = json.loads(p)
    tps = p["decode_steps"] / p["decode_s"]
    L.append(f"| {chip} | {model} | {prec} | {float(pub):g} | {src} | {tps:.0f} | {err(tps, float(pub))} | {p['compute']} | {p['decode_bound']} |")
L.append("")
L += NOTES.strip().splitlines()
# The unified-engine sections come from the engine benchmarks named in each (bench/*), not from this script: keep
# everything from the marker on across regenerations.
MARKER = "<!-- unified-engine sections"
kept = ""
try:
    previous = open(out).read()
    if MARKER in previous:
        kept = previous[previous.index(MARKER):]
except FileNotFoundError:
    pass
open(out, "w").write("\n".join(L) + "\n" + ("\n" + kept if kept else ""))
PY
echo "wrote $ROOT/docs/validation.md"
