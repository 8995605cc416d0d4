#!/usr/bin/env python3
"""Per-chip speculative-decoding tables for docs/speculative.md: `xpusim compare --speculative ... --json` for
Llama-3.2-1B and Llama-3.1-8B on one chip per family plus the unified engine, at batch 1 and at a large batch
where the gain vanishes. The unified engine (ue-ku5p) runs its 4-bit ue-int4 weights (bf16 does not fit its
DRAM); the others their default precision.

Usage: scripts/speculative-chip-table.py [--xpusim build/xpusim] [--ngram-acceptance A]
"""
import argparse
import json
import subprocess
import sys

CHIPS = "cpu-host,gpu-h100-sxm,tpu-v5e,npu-apple-m4,lpu-groq"
ENGINE = "ue-ku5p"


def compare(xpusim, model, chips, precision, spec, k, a, batch):
    command = [xpusim, "compare", "-q", "--json", "--model", model, "--chips", chips, "--batch", str(batch),
               "--speculative", spec, "--draft-tokens", str(k), "--acceptance", str(a)]
    if precision:
        command += ["--precision", precision]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        return json.loads(result.stdout)["speculative"]["chips"]
    except (ValueError, KeyError):
        return [{"chip": c, "error": result.stderr.strip().splitlines()[-1] if result.stderr else "failed"}
                for c in chips.split(",")]


def ms(s):
    return "%.3g ms" % (s * 1e3)


def table(xpusim, model, spec, k, a, batch):
    rows = compare(xpusim, model, CHIPS, "", spec, k, a, batch)
    rows += compare(xpusim, model, ENGINE, "ue-int4", spec, k, a, batch)
    print("\n**%s, %s, k = %d, a = %.2f, batch %d**\n" % (model, spec, k, a, batch))
    print("| chip | TPOT plain | TPOT spec | tok/s plain | tok/s spec | tok/J plain | tok/J spec | speedup | "
          "verify / decode step | bounds (decode, verify) | gain gone at batch |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print("| %s | cannot run: %s |||||||||| " % (r["chip"], r["error"][:110]))
            continue
        gone = str(r["break_even_batch"]) if r["break_even_batch"] else "not up to %d" % r["largest_batch_costed"]
        print("| %s | %s | %s | %.3g | %.3g | %.3g | %.3g | %.2fx | %.2f | %s, %s | %s |" %
              (r["chip"], ms(r["plain_tpot_s"]), ms(r["spec_tpot_s"]), r["plain_tokens_per_s"],
               r["spec_tokens_per_s"], r["plain_tokens_per_j"], r["spec_tokens_per_j"], r["speedup"],
               r["verify_step_s"] / r["decode_step_s"], r["decode_bound"], r["verify_bound"], gone))
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xpusim", default="build/xpusim")
    parser.add_argument("--ngram-acceptance", type=float, default=0.7)
    parser.add_argument("--draft-acceptance", type=float, default=0.7)
    args = parser.parse_args()
    for batch in (1, 256):
        table(args.xpusim, "llama-3.2-1b", "ngram", 4, args.ngram_acceptance, batch)
        table(args.xpusim, "llama-3.1-8b", "draft:llama-3.2-1b", 4, args.draft_acceptance, batch)
    table(args.xpusim, "llama-3.1-8b", "tidar", 16, 0.9, 1)


if __name__ == "__main__":
    main()
