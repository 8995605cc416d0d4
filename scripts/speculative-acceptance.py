#!/usr/bin/env python3
"""Measures speculative-decoding acceptance per drafter and draft length k on real text with the real
SmolLM2-135M weights (docs/speculative.md).

Texts, all available offline: excerpts of Debian's license texts (/usr/share/common-licenses; the model is asked
to summarize them, so the answer can quote them) and the chat prompts in scripts/speculative-prompts.txt.
Greedy decoding (the output is the plain greedy output; `xpusim run --speculative` checks it). For each
(drafter, k) the counts are summed over the texts: per-position acceptance a = accepted / (accepted +
rejections), measured tokens per verify step, the formula (1 - a^(k+1)) / (1 - a) at that a, and the decode
speedup over plain decoding of the same prompt (wall clock, both in the same process; only at --speedup-k, to
save time). Prints a markdown table; every run's figures go to --jsonl as they come.

Usage: scripts/speculative-acceptance.py [--xpusim build/xpusim] [--ks 1,2,4,8]
       [--drafters ngram,self:q4_0,self:mxfp4] [--tokens 32] [--threads 2] [--speedup-k 4] [--jsonl runs.jsonl]
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LICENSES = ["GPL-3", "Apache-2.0", "MPL-2.0"]
EXCERPT_CHARS = 1200


def texts():
    out = []
    for name in LICENSES:
        path = os.path.join("/usr/share/common-licenses", name)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            body = " ".join(f.read()[:EXCERPT_CHARS].split())
        out.append(("license " + name, "Summarize the following text, quoting its key sentences.\n\n" + body))
    with open(os.path.join(HERE, "speculative-prompts.txt"), encoding="utf-8") as f:
        for i, line in enumerate(l.strip() for l in f):
            if line:
                out.append(("chat %d" % (i + 1), line))
    return out


def run(args, chat, drafter, k):
    command = [args.xpusim, "run", "--chat", chat, "--temperature", "0", "-n", str(args.tokens), "--json",
               "--quiet", "--threads", str(args.threads), "--speculative", drafter, "--draft-tokens", str(k)]
    if k != args.speedup_k:
        command.append("--no-baseline")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(command), result.stderr))
    return json.loads(result.stdout)


def expected(a, k):
    return k + 1.0 if a >= 1 else (1 - a ** (k + 1)) / (1 - a)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xpusim", default="build/xpusim")
    parser.add_argument("--ks", default="1,2,4,8")
    parser.add_argument("--drafters", default="ngram,self:q4_0,self:mxfp4")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--speedup-k", type=int, default=4,
                        help="measure the speedup (a plain-decoding run as well) only at this k")
    parser.add_argument("--jsonl", help="append every run's figures here as they come (one JSON per line)")
    args = parser.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    rows, raw = [], []
    for drafter in args.drafters.split(","):
        for k in ks:
            total = dict(accepted=0, rejections=0, drafted=0, emitted=0, steps=0, spec_s=0.0, plain_s=0.0,
                         tokens=0, same=True)
            for label, chat in texts():
                d = run(args, chat, drafter, k)
                s = d["speculative"]
                raw.append({**s, "text": label, "spec": drafter})
                if args.jsonl:
                    with open(args.jsonl, "a") as f:
                        f.write(json.dumps(raw[-1]) + "\n")
                total["accepted"] += s["accepted"]
                total["rejections"] += s["rejections"]
                total["drafted"] += s["drafted"]
                total["steps"] += s["verify_steps"]
                total["emitted"] += round(s["tokens_per_step"] * s["verify_steps"])
                if "speedup" in s:
                    total["spec_s"] += d["decode_seconds"]
                    total["plain_s"] += s["plain_decode_seconds"]
                    total["same"] &= s["same_output"]
                print("%-14s %-12s k=%d a=%.3f tok/step=%.2f speedup=%s" %
                      (label, drafter, k, s["per_position_acceptance"], s["tokens_per_step"],
                       "%.2f" % s["speedup"] if "speedup" in s else "-"), file=sys.stderr, flush=True)
            tried = total["accepted"] + total["rejections"]
            a = total["accepted"] / tried if tried else 0.0
            rows.append((drafter, k, total["accepted"] / max(1, total["drafted"]), a,
                         total["emitted"] / max(1, total["steps"]), expected(a, k),
                         total["plain_s"] / total["spec_s"] if total["spec_s"] else None,
                         total["same"] if total["spec_s"] else None))
    print("| drafter | k | acceptance (of drafted) | a (per position) | tokens / verify step | formula at a | "
          "host decode speedup | same output |")
    print("|---|---|---|---|---|---|---|---|")
    for drafter, k, rate, a, tps, formula, speedup, same in rows:
        print("| %s | %d | %.1f %% | %.3f | %.2f | %.2f | %s | %s |" %
              (drafter, k, 100 * rate, a, tps, formula, "-" if speedup is None else "%.2fx" % speedup,
               "-" if same is None else ("yes" if same else "NO")))


if __name__ == "__main__":
    main()
