// Plain data for the report's engine-timeline section: one track per engine unit (DMA, matrix, vector, ...)
// with busy intervals in cycles. The engine-trace command converts engine::RunResult records into this; the
// report draws it as an SVG with a small zoom control.
// Non-goals: reading engine types (report does not depend on src/engine).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xpusim::report {

struct TimelineSlice {
  uint64_t start_cycle = 0;
  uint64_t end_cycle = 0;
  std::string label;  // instruction mnemonic, shown as tooltip
};

struct TimelineTrack {
  std::string unit;  // "dma0", "matrix", "vector"
  std::vector<TimelineSlice> slices;
};

struct TimelineSection {
  std::string title;  // "ue-ku5p: decode step, layer 0"
  double clock_mhz = 0;
  std::vector<TimelineTrack> tracks;
};

}  // namespace xpusim::report
