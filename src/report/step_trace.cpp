#include "report/step_trace.h"

#include <fstream>

#include "core/error.h"

namespace xpusim::report {

int StepTrace::track_of(const chips::OpCost& op) {
  std::string name = op.bound == chips::Bound::COMPUTE ? "compute units" : chips::bound_name(op.bound);
  if (op.bound == chips::Bound::MEMORY && op.bound_level >= 0 &&
      static_cast<size_t>(op.bound_level) < m_level_names.size())
    name = "memory: " + m_level_names[static_cast<size_t>(op.bound_level)];
  const auto [it, added] = m_tracks.emplace(name, static_cast<int>(m_tracks.size()));
  if (added)  // Perfetto names a track from its thread_name metadata event
    m_events.push_back(
        {{"name", "thread_name"}, {"ph", "M"}, {"pid", 0}, {"tid", it->second}, {"args", {{"name", name}}}});
  return it->second;
}

void StepTrace::add_step(const chips::StepCost& cost, double start_s, int64_t step) {
  double t = start_s;
  for (const chips::OpCost& op : cost.ops) {
    if (op.seconds <= 0) continue;
    m_events.push_back({{"name", op.label},
                        {"cat", op.op_type},
                        {"ph", "X"},
                        {"ts", t * 1e6},
                        {"dur", op.seconds * 1e6},
                        {"pid", 0},
                        {"tid", track_of(op)},
                        {"args",
                         {{"step", step},
                          {"layer", op.layer},
                          {"op", op.op_type},
                          {"bound", chips::bound_name(op.bound)}}}});
    t += op.seconds;
    ++m_slices;
  }
}

void StepTrace::write(const std::string& path) const {
  std::ofstream file(path);
  if (!file) fail("--trace: cannot write '{}'", path);
  file << nlohmann::json{{"traceEvents", m_events}, {"displayTimeUnit", "ms"}}.dump();
  if (!file) fail("--trace: writing '{}' failed", path);
}

}  // namespace xpusim::report
