// Finding and loading chip files: `load_chip("gpu-h100-sxm")` or `load_chip("path/to/my.toml")`.
// Presets live in $XPUSIM_DATA_DIR/chips (searched first) and <source dir>/chips. A file may name a base
// preset with `extends = "..."`; the base is loaded first and the file's keys override it. cpu-host (`detect
// = true`) is merged over values detected on this machine. The result is validated against the schema
// (schema.h) and converted to a ChipSpec; every problem is an xpusim::Error naming file, line, key, value and
// the allowed range.
// Non-goals: timing or energy (the per-family models), listing output (src/cli/cmd_chips.cpp).
// HOWTO add a preset: write chips/<name>.toml (name = file name; a source and kind next to every number);
// the completeness test in tests/chips loads it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chips/chip_spec.h"

namespace xpusim::chips {

ChipSpec load_chip(const std::string& name_or_path);

// One chip-file key set (or scaled) on top of a loaded file, before validation: the same checks as a key
// written in the file. `key` is a dotted path ("power.tdp_w", "system.chips_per_system"); memory levels are
// addressed by name ("memory.hbm.bandwidth_gbps"). scale = true multiplies the file's value (which must
// exist) by `value`; integer keys stay integers and refuse a non-integral result.
struct KeyOverride {
  std::string key;
  double value = 0;
  bool scale = false;
  std::string text;  // non-empty: a string value instead of `value` ("system.partition" = "pipeline")
};
// load_chip() with `overrides` applied after `extends` and host detection, then validated (sweeps).
ChipSpec load_chip_with_overrides(const std::string& name_or_path, const std::vector<KeyOverride>& overrides);

// Same, from text (tests, fuzzing). `file_name` stands for the path: its stem must equal the chip's name.
ChipSpec load_chip_from_string(std::string_view toml_text, const std::string& file_name);

std::vector<std::string> preset_dirs();   // existing directories, in search order
std::vector<std::string> list_presets();  // preset names found in preset_dirs(), sorted, unique
// Data folders named `subdir` ("chips", "stacks"): $XPUSIM_DATA_DIR/<subdir>, then the source tree's.
std::vector<std::string> data_dirs(const std::string& subdir);
// Stems of the .toml files in `dirs`, sorted, unique.
std::vector<std::string> list_toml_names(const std::vector<std::string>& dirs);
std::string find_chip_file(const std::string& name_or_path);  // xpusim::Error listing presets when absent

}  // namespace xpusim::chips
