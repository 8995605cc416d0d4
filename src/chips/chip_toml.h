// Internal steps of loading a chip file (used by loader.cpp and host detection; not part of the public API):
// merge (extends / detection), schema validation, conversion to ChipSpec with cross-field checks.
// Every error names the file, line, key, value and the allowed range. Nodes keep their source position when
// merged (toml++ moves keep it), so an error points at the file that set the value, base or derived.
// Non-goals: finding files (loader.cpp), detecting the host (host_detect.cpp).
#pragma once

#include <toml++/toml.h>

#include <string>

#include "chips/chip_spec.h"

namespace xpusim::chips::detail {

// "chips/gpu-a100.toml:12:5" for parsed nodes; "<fallback> (detected on this machine)" for generated ones.
std::string node_location(const toml::node& node, const std::string& fallback_file);
std::string node_value_text(const toml::node& node);  // 3.5, "hbm", a table, ...

// Moves every key of `over` into `base`; tables merge recursively; [[memory]] levels merge by `name`.
// drop_unmatched_levels: levels of `over` whose name is not in `base` are dropped (detection annotations).
void merge_chip_tables(toml::table& base, toml::table&& over, bool drop_unmatched_levels);

// Types, ranges, unknown keys and required keys against chip_schema(). `file` names the top-level file.
void validate_chip_table(const toml::table& root, const std::string& file);

// Converts a validated table; checks the rules that span keys (level order, idle <= tdp, ...).
// Family ue: only the common keys; the loader moves the engine's keys into ChipSpec::engine.
ChipSpec convert_chip_table(const toml::table& root, const std::string& file);

}  // namespace xpusim::chips::detail
