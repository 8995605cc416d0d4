"""The xpusim Python module against the command line: the same rows, the same errors (run by run_tests.sh)."""

import json
import os
import subprocess
import sys
import unittest

import xpusim

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
XPUSIM = os.environ.get("XPUSIM_BINARY", os.path.join(ROOT, "build", "xpusim"))

SPEC = {
    "sweep": {"name": "python", "sampling": "latin-hypercube", "samples": 24, "seed": 5},
    "axes": {
        "models": ["smollm2-135m", "llama-3.2-1b"],
        "chips": ["gpu-h100-sxm", "tpu-v5e"],
        "batch": {"from": 1, "to": 16, "factor": 2},
        "prompt_len": [64],
        "gen_len": [8],
        "scale": {"efficiency.memory_bw_fraction": [0.5, 1]},
    },
    "constraints": {"max_tpot_ms": 30},
}


def rows_of(table):
    return table.to_dict("records") if hasattr(table, "to_dict") else table


class PythonApi(unittest.TestCase):
    def test_compare_matches_the_cli(self):
        rows = rows_of(xpusim.compare(model="llama-3.2-1b", chips=["gpu-h100-sxm", "tpu-v5e"]))
        self.assertEqual([r["chip"] for r in rows], ["gpu-h100-sxm", "tpu-v5e"])
        if os.path.exists(XPUSIM):
            cli = json.loads(subprocess.run([XPUSIM, "compare", "--model", "llama-3.2-1b", "--chips",
                                             "gpu-h100-sxm,tpu-v5e", "--json", "-q"],
                                            capture_output=True, text=True, check=True).stdout)
            for ours, theirs in zip(rows, cli["chips"]):
                self.assertEqual(ours["tpot_s"], theirs["tpot_s"])

    def test_chip_dict_edited_in_python(self):
        chip = xpusim.chip("gpu-h100-sxm")
        base = rows_of(xpusim.compare(model="llama-3.2-1b", chips=[chip]))[0]
        for level in chip["memory"]:
            if level["name"] == "hbm":
                level["bandwidth_gbps"] *= 2
        faster = rows_of(xpusim.compare(model="llama-3.2-1b", chips=[chip]))[0]
        self.assertLess(faster["tpot_s"], base["tpot_s"])

    def test_sweep_matches_the_cli_byte_for_byte(self):
        result = xpusim.sweep(SPEC, workers=2)
        self.assertEqual(len(rows_of(result.rows)), 24)
        self.assertTrue(result.front)
        if os.path.exists(XPUSIM):
            path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "xpusim_python_spec.toml")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(xpusim.to_toml(SPEC))
            cli = json.loads(subprocess.run([XPUSIM, "sweep", path, "--json", "-", "-q", "--workers", "1"],
                                            capture_output=True, text=True, check=True).stdout)
            self.assertEqual(json.dumps(cli["rows"]), json.dumps(result.raw["rows"]))
            os.remove(path)

    def test_errors_keep_the_cli_message(self):
        with self.assertRaises(xpusim.XpusimError) as caught:
            xpusim.compare(chips=["no-such-chip"])
        self.assertIn("unknown chip 'no-such-chip'", str(caught.exception))
        with self.assertRaises(xpusim.XpusimError) as caught:
            xpusim.sweep({"axes": {"models": ["llama-3.2-1b"], "chips": ["gpu-h100-sxm"], "colour": 1}})
        self.assertIn("unknown key 'colour' in [axes]", str(caught.exception))

    def test_validate(self):
        run = xpusim.validate(family="gpu")
        self.assertTrue(len(rows_of(run["rows"])) > 0)


if __name__ == "__main__":
    sys.exit(unittest.main())
