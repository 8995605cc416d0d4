#include "cli/html_timeline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "engine/assembler.h"

namespace xpusim::cli {
namespace {

// The mnemonic of the instruction at `pc` ("?" when the record points outside the program).
std::string mnemonic(const std::vector<engine::Program>& programs, int engine, uint32_t pc) {
  if (engine < 0 || static_cast<size_t>(engine) >= programs.size() ||
      pc >= programs[static_cast<size_t>(engine)].code.size())
    return "?";
  const std::string text = engine::describe_word(programs[static_cast<size_t>(engine)].code[pc]);
  return text.substr(0, text.find(' '));
}

}  // namespace

report::TimelineSection build_timeline(const std::string& title, double clock_mhz,
                                       const std::vector<std::string>& track_names,
                                       std::vector<TimelineInterval> intervals, size_t max_slices_per_track) {
  report::TimelineSection section;
  section.title = title;
  section.clock_mhz = clock_mhz;
  uint64_t last = 1;
  for (const TimelineInterval& interval : intervals) last = std::max(last, interval.end_cycle);
  const uint64_t merge_gap = last / std::max<size_t>(max_slices_per_track, 1);
  std::stable_sort(intervals.begin(), intervals.end(), [](const auto& a, const auto& b) {
    return a.track != b.track ? a.track < b.track : a.start_cycle < b.start_cycle;
  });
  std::vector<report::TimelineTrack> tracks(track_names.size());
  std::vector<size_t> merged(track_names.size(), 0);  // extra intervals folded into the current slice
  auto close_slice = [&](size_t track) {
    if (merged[track] > 0 && !tracks[track].slices.empty())
      tracks[track].slices.back().label += fmt::format(" +{} more", merged[track]);
    merged[track] = 0;
  };
  for (const TimelineInterval& interval : intervals) {
    XPUSIM_ASSERT(interval.track < tracks.size());
    auto& slices = tracks[interval.track].slices;
    if (!slices.empty() && interval.start_cycle <= slices.back().end_cycle + merge_gap) {
      slices.back().end_cycle = std::max(slices.back().end_cycle, interval.end_cycle);
      ++merged[interval.track];
      continue;
    }
    close_slice(interval.track);
    slices.push_back(
        {interval.start_cycle, std::max(interval.start_cycle, interval.end_cycle), interval.label});
  }
  for (size_t t = 0; t < tracks.size(); ++t) {
    close_slice(t);
    if (tracks[t].slices.empty()) continue;
    tracks[t].unit = track_names[t];
    section.tracks.push_back(std::move(tracks[t]));
  }
  return section;
}

report::TimelineSection engine_trace_timeline(const engine::RunResult& result,
                                              const std::vector<engine::Program>& programs,
                                              const engine::ChipConfig& chip) {
  std::vector<std::string> names;
  const bool several = result.engines.size() > 1;
  for (size_t e = 0; e < result.engines.size(); ++e)
    for (int u = 0; u < engine::kUnitCount; ++u)
      names.push_back((several ? fmt::format("e{} ", e) : std::string()) +
                      std::string(engine::unit_name(static_cast<engine::Unit>(u))));
  std::vector<TimelineInterval> intervals;
  intervals.reserve(result.records.size());
  for (const engine::InstrRecord& r : result.records) {
    if (r.engine < 0 || r.start < 0 || r.ready < r.start) continue;
    intervals.push_back({static_cast<size_t>(r.engine) * engine::kUnitCount + static_cast<size_t>(r.unit),
                         static_cast<uint64_t>(r.start), static_cast<uint64_t>(r.ready),
                         mnemonic(programs, r.engine, r.pc)});
  }
  return build_timeline(fmt::format("{}: {} cycles", chip.name, result.cycles), chip.clock_mhz, names,
                        std::move(intervals));
}

void append_step_intervals(const chips::StepCost& cost, double start_s, double clock_mhz,
                           std::vector<std::string>& track_names, std::vector<TimelineInterval>& intervals) {
  const double cycles_per_s = clock_mhz * 1e6;
  double t = start_s;
  for (const chips::OpCost& op : cost.ops) {
    if (op.seconds <= 0) continue;
    const auto found = std::find(track_names.begin(), track_names.end(), op.op_type);
    const size_t track = static_cast<size_t>(found - track_names.begin());
    if (found == track_names.end()) track_names.push_back(op.op_type);
    intervals.push_back({track, static_cast<uint64_t>(std::llround(t * cycles_per_s)),
                         static_cast<uint64_t>(std::llround((t + op.seconds) * cycles_per_s)), op.label});
    t += op.seconds;
  }
}

}  // namespace xpusim::cli
