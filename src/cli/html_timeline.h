// Converts simulator traces into the HTML report's engine timeline (report::TimelineSection) for the --html
// options of `xpusim engine trace` (one track per engine unit, one slice per instruction) and `xpusim run
// --chip ue-*` (one track per op type, one slice per op of every step, in cycles at the chip's clock).
// Busy intervals closer than a pixel of the drawing are merged so long runs stay a small, quick page.
// Non-goals: drawing (report/html_series.cpp), the Chrome/SVG exports (engine/trace_export.h).
// HOWTO add a source: collect TimelineInterval values and call build_timeline().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chips/cost_model.h"
#include "engine/simulator.h"
#include "report/timeline_section.h"

namespace xpusim::cli {

struct TimelineInterval {
  size_t track = 0;  // index into the track names given to build_timeline
  uint64_t start_cycle = 0, end_cycle = 0;
  std::string label;
};

// Tracks keep the given order; tracks without intervals are left out. At most about `max_slices_per_track`
// slices per track: neighbours closer than (last cycle / max_slices_per_track) are merged into one slice
// whose label names the first instruction and how many more it covers.
report::TimelineSection build_timeline(const std::string& title, double clock_mhz,
                                       const std::vector<std::string>& track_names,
                                       std::vector<TimelineInterval> intervals,
                                       size_t max_slices_per_track = 2000);

// engine trace: RunResult::records (RunOptions::record_trace) of `programs` on `chip`.
report::TimelineSection engine_trace_timeline(const engine::RunResult& result,
                                              const std::vector<engine::Program>& programs,
                                              const engine::ChipConfig& chip);

// run --chip ue-*: appends the ops of one step, laid end to end from `start_s`, as intervals on per-op-type
// tracks (names added to `track_names` as they first appear).
void append_step_intervals(const chips::StepCost& cost, double start_s, double clock_mhz,
                           std::vector<std::string>& track_names, std::vector<TimelineInterval>& intervals);

}  // namespace xpusim::cli
