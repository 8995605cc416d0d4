// Exports of a simulation run: Chrome/Perfetto trace JSON (one track per engine unit, one slice per
// instruction from start to ready, flow of markers) and a self-contained SVG timeline; plus the counters
// as JSON for `xpusim engine exec --json`.
// Non-goals: HTML reports (src/report).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/program.h"
#include "engine/simulator.h"

namespace xpusim::engine {

// `programs[i]` is engine i's program (for slice names); records come from RunOptions::record_trace.
std::string chrome_trace_json(const RunResult& result, const std::vector<Program>& programs,
                              const ChipConfig& chip);
std::string svg_timeline(const RunResult& result, const std::vector<Program>& programs,
                         const ChipConfig& chip);
nlohmann::json run_counters_json(const RunResult& result, const ChipConfig& chip);

}  // namespace xpusim::engine
