// StepTrace: the Chrome/Perfetto trace (`--trace FILE`) of a simulated run on any chip: every op of every
// step is one slice, laid end to end in simulated time, on the track of the resource that bounds it (compute
// units, a memory level by name, the interconnect, or overhead), so the timeline shows which part of the chip
// each stretch of time waits on. Open it at ui.perfetto.dev or chrome://tracing.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "chips/cost_model.h"

namespace xpusim::report {

class StepTrace {
 public:
  // `level_names`: the memory levels as indexed by OpCost::bound_level (empty: "memory" for every level).
  explicit StepTrace(std::vector<std::string> level_names = {}) : m_level_names(std::move(level_names)) {}
  // Appends one step's ops from `start_s` (simulated seconds since the run began).
  void add_step(const chips::StepCost& cost, double start_s, int64_t step);
  // Writes the trace; xpusim::Error naming the path when it cannot.
  void write(const std::string& path) const;
  size_t slices() const { return m_slices; }

 private:
  int track_of(const chips::OpCost& op);
  std::vector<std::string> m_level_names;
  std::map<std::string, int> m_tracks;  // track name -> tid
  nlohmann::json m_events = nlohmann::json::array();
  size_t m_slices = 0;
};

}  // namespace xpusim::report
