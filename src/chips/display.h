// Plain-text and JSON views of a ChipSpec, shared by `xpusim chips` and the reports that name a chip.
// Non-goals: report layout (src/report), model results (the per-family models).
// HOWTO show a new ChipSpec field: add it to chip_to_json() (and to chip_summary_line() if it is short).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "chips/chip_spec.h"

namespace xpusim::chips {

std::string format_bytes(double bytes);                  // "256 KiB", "50 MB", "80 GB"
std::string format_bandwidth(double gbps);               // "819 GB/s", "3.35 TB/s"
std::string format_peak_bf16(const ChipSpec& chip);      // "989", "188 (fp16)", "-"
std::string format_memory_levels(const ChipSpec& chip);  // "l2 50 MB @ 5.5 TB/s | hbm 80 GB @ 3.35 TB/s"
nlohmann::json chip_to_json(const ChipSpec& chip);

}  // namespace xpusim::chips
