"""xpusim from Python: the same C++ core as the `xpusim` command, in-process.

    import xpusim
    xpusim.compare(model="llama-3.2-1b", chips=["gpu-h100-sxm", "tpu-v5e"])
    xpusim.sweep("examples/sweep-h100-like.toml")          # or a dict with the spec's tables
    xpusim.validate(family="gpu")

Tables come back as pandas DataFrames when pandas is installed, else as lists of dicts. Errors of the C++ core
raise xpusim.XpusimError (a ValueError) with the same message as the command line. See docs/python.md.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from typing import Any, Iterable

from . import _core

XpusimError = _core.XpusimError
__version__ = _core.version()

__all__ = ["XpusimError", "chip", "compare", "sweep", "validate", "SweepResult", "to_toml"]


def _table(rows: list[dict[str, Any]]):
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


def _toml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_scalar(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_scalar(v) for v in value) + "]"
    raise XpusimError(f"cannot write {value!r} ({type(value).__name__}) as TOML")


def _toml_key(key: str) -> str:
    bare = key and all(c.isalnum() or c in "-_" for c in key)
    return key if bare else json.dumps(key)


def to_toml(data: dict[str, Any], prefix: str = "") -> str:
    """A dict (a chip file or a sweep spec as read by tomllib) back to TOML text."""
    lines: list[str] = []
    nested: list[tuple[str, Any]] = []
    for key, value in data.items():
        is_table_list = isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        if isinstance(value, dict) and not prefix.startswith("axes.") and key not in ("batch", "prompt_len", "gen_len", "chip_count"):
            nested.append((key, value))
        elif is_table_list:
            nested.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_scalar(value)}")
    for key, value in nested:
        path = f"{prefix}.{_toml_key(key)}" if prefix else _toml_key(key)
        if isinstance(value, list):
            for item in value:
                lines.append(f"\n[[{path}]]")
                lines.append(to_toml(item, path))
        else:
            lines.append(f"\n[{path}]")
            lines.append(to_toml(value, path))
    return "\n".join(line for line in lines if line != "") + "\n"


def chip(name: str) -> dict[str, Any]:
    """A chip preset (or chip file) as a dict, to edit and pass to compare()."""
    with open(_core.chip_file(name), "rb") as handle:
        return tomllib.load(handle)


def _chip_arguments(chips: Iterable[str | dict[str, Any]]) -> tuple[list[str], list[str]]:
    texts, names = [], []
    for entry in chips:
        if isinstance(entry, dict):
            if "name" not in entry:
                raise XpusimError("a chip given as a dict needs its 'name'")
            texts.append(to_toml(entry))
            names.append(str(entry["name"]))
        else:
            texts.append(str(entry))
            names.append(str(entry))
    if not texts:
        raise XpusimError("chips: give at least one chip name or dict")
    return texts, names


def compare(model: str = "smollm2-135m", chips: Iterable[str | dict[str, Any]] = ("gpu-h100-sxm",),
            precision: str = "", batch: int = 1, prompt_len: int = 128, gen_len: int = 128,
            kv_dtype: str = ""):
    """One model on several chips (as `xpusim compare --json`): one row per chip."""
    texts, names = _chip_arguments(chips)
    report = json.loads(_core.compare_json(model, texts, names, precision, batch, prompt_len, gen_len, kv_dtype))
    return _table(report["chips"])


@dataclass
class SweepResult:
    rows: Any                      # DataFrame or list of dicts, one per point (as `xpusim sweep --json`)
    front: list[int]               # indices of the rows on the Pareto front
    best: list[dict[str, Any]]     # best point per objective under each constraint set
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def sweep(spec: str | os.PathLike | dict[str, Any], workers: int = 0) -> SweepResult:
    """A design-space sweep (docs/sweep.md). `spec`: a spec file's path or the spec as a dict."""
    if isinstance(spec, dict):
        text, name = to_toml(spec), "<dict>"
    else:
        name = os.fspath(spec)
        try:
            with open(name, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            raise XpusimError(f"{name}: cannot open sweep spec ({error.strerror})") from None
    raw = json.loads(_core.sweep_json(text, name, workers))
    return SweepResult(rows=_table(raw["rows"]), front=raw["front"], best=raw["best"], raw=raw)


def validate(points: str = "", family: str = ""):
    """The validation ledger's predictions (as `xpusim validate --json`): the parsed JSON, rows as a table."""
    run = json.loads(_core.validate_json(points, family))
    if isinstance(run, dict) and "rows" in run:
        run["rows"] = _table(run["rows"])
    return run
