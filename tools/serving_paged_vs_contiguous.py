#!/usr/bin/env python3
"""Makes the PagedAttention comparison table of docs/serving.md: contiguous vs paged KV on two chips.

For each (model, chip) it sweeps the request rate of a ShareGPT-like Poisson workload through
`xpusim serve-sim --json` with both allocators and prints, per allocator: the share of reserved KV memory
holding real tokens (time-weighted, at the highest rate), the largest batch, and the highest swept rate (and
its throughput) whose normalized latency (mean E2E / output tokens, the paper's metric) stays within 2x the
unloaded paged value. Standard library only (Python 3.11). Usage: tools/serving_paged_vs_contiguous.py
[path/to/xpusim] [requests]
"""
import json
import subprocess
import sys

XPUSIM = sys.argv[1] if len(sys.argv) > 1 else "build/xpusim"
REQUESTS = sys.argv[2] if len(sys.argv) > 2 else "500"
CASES = [("llama-3.2-3b", "tpu-v5e", [2, 4, 8, 16, 24, 32, 48, 64]),
         ("llama-3.2-3b", "gpu-jetson-orin-nano", [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5])]


def run(model, chip, rate, kv):
    out = subprocess.run([XPUSIM, "serve-sim", "--model", model, "--chip", chip, "--workload", "sharegpt",
                          "--rate", str(rate), "--requests", REQUESTS, "--kv", kv, "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


print("| model | chip | KV tokens | allocator | real tokens / reserved | largest batch | "
      "max rate within SLO (req/s) | throughput there (req/s, out tok/s) |")
print("|---|---|---|---|---|---|---|---|")
for model, chip, rates in CASES:
    results = {kv: [run(model, chip, r, kv) for r in rates] for kv in ("contiguous", "paged")}
    slo = 2 * results["paged"][0]["normalized_latency_s"]
    for kv, runs in results.items():
        ok = [(r, d) for r, d in zip(rates, runs) if d["normalized_latency_s"] <= slo and d["completed"] == d["requests"]]
        best_rate, best = ok[-1] if ok else (0, None)
        top = runs[-1]
        print(f"| {model} | {chip} | {top['kv_capacity_tokens']} | {kv} | {100 * top['mean_kv_utilization']:.1f} % | "
              f"{max(d['max_running'] for d in runs)} | {best_rate} (SLO {slo * 1e3:.1f} ms/token) | "
              + (f"{best['request_throughput']:.2f}, {best['output_tokens_per_s']:.0f} |" if best else "- |"))
