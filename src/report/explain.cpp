// explain(): the plain-language paragraph under the compare table. Every sentence is built from the
// estimates (bounds, bandwidths, peaks, energy splits); nothing is canned per chip or family.
#include <fmt/format.h>

#include <algorithm>

#include "chips/display.h"
#include "report/compare_data.h"
#include "report/format.h"

namespace xpusim::report {

namespace {

// Why one chip's decode runs at the speed it does, from its dominant bound.
std::string why_speed(const ChipResult& result) {
  const chips::RunEstimate& e = *result.estimate;
  const chips::SystemPlan& plan = e.plan;
  switch (e.dominant_bound) {
    case chips::Bound::MEMORY: {
      const double bandwidth = level_bandwidth(plan, plan.weight_level);
      if (bandwidth <= 0) return fmt::format("it is memory-bound (weights in {})", plan.weight_level);
      const double floor_s = plan.weight_bytes / bandwidth;
      return fmt::format(
          "it is memory-bound: every decode step streams {} of {} weights from {} at {}/s, a floor of {} "
          "per step (TPOT {})",
          chips::format_bytes(plan.weight_bytes), plan.weight_format, plan.weight_level,
          chips::format_bytes(bandwidth), format_seconds(floor_s), format_seconds(e.tpot_s));
    }
    case chips::Bound::COMPUTE:
      return fmt::format(
          "its ops are compute-bound ({} peak at {}; {} of it used over the run, as small "
          "matrices fill few of its units)",
          format_flops(plan.peak_flops), chips::precision_name(plan.compute_precision),
          percent(e.utilization));
    case chips::Bound::INTERCONNECT:
      return fmt::format("its {} chips spend most of the time exchanging activations over the links",
                         plan.chips_used);
    case chips::Bound::OVERHEAD:
      return fmt::format(
          "fixed per-op costs (kernel launch / dispatch) dominate: the model's ops are too "
          "small to fill it (TPOT {})",
          format_seconds(e.tpot_s));
  }
  return "";
}

std::string why_efficient(const ChipResult& result) {
  const chips::RunEstimate& e = *result.estimate;
  const EnergyShare share = largest_energy_share(e.energy_per_token);
  return fmt::format("{} spends {} per generated token, {} of it on {}", result.chip.name,
                     format_joules(e.energy_per_token_j), percent(share.fraction), share.component);
}

}  // namespace

std::vector<std::string> explain(const CompareReport& report) {
  std::vector<std::string> lines;
  const auto fastest = fastest_chip(report);
  const auto efficient = most_efficient_chip(report);
  if (!fastest || !efficient) {
    lines.push_back("No chip produced an estimate; see the errors in the table.");
    return lines;
  }
  const ChipResult& fast = report.results[*fastest];
  // Runner-up by speed, for the "x times" comparison.
  std::optional<size_t> second;
  for (size_t i = 0; i < report.results.size(); ++i) {
    if (i == *fastest || !report.results[i].estimate) continue;
    if (!second || report.results[i].estimate->tokens_per_s > report.results[*second].estimate->tokens_per_s)
      second = i;
  }
  std::string versus;
  if (second) {
    const ChipResult& runner = report.results[*second];
    versus = fmt::format(", {:.2g}x the runner-up {} ({} tokens/s, where {})",
                         fast.estimate->tokens_per_s / std::max(runner.estimate->tokens_per_s, 1e-30),
                         runner.chip.name, format_rate(runner.estimate->tokens_per_s), why_speed(runner));
  }
  lines.push_back(fmt::format("Fastest: {} at {} tokens/s{}. On {}, {}.", fast.chip.name,
                              format_rate(fast.estimate->tokens_per_s), versus, fast.chip.name,
                              why_speed(fast)));

  const ChipResult& eff = report.results[*efficient];
  if (*efficient == *fastest) {
    lines.push_back(fmt::format("{} is also the most efficient at {} tokens/J: {}.", eff.chip.name,
                                format_rate(eff.estimate->tokens_per_joule), why_efficient(eff)));
  } else {
    lines.push_back(
        fmt::format("Most efficient: {} at {} tokens/J ({:.2g}x {}): {}; {} {}.", eff.chip.name,
                    format_rate(eff.estimate->tokens_per_joule),
                    eff.estimate->tokens_per_joule / std::max(fast.estimate->tokens_per_joule, 1e-30),
                    fast.chip.name, why_efficient(eff), "by contrast", why_efficient(fast)));
  }
  // A chip without power figures has no static energy: say so, since it flatters its tokens/J.
  std::string unpowered;
  for (const auto& result : report.results)
    if (result.estimate && result.estimate->energy_per_token.static_j <= 0)
      unpowered += (unpowered.empty() ? "" : ", ") + result.chip.name;
  if (!unpowered.empty())
    lines.push_back(
        fmt::format("No static power counted for {} (no power figures in the chip file): their "
                    "tokens/J are upper bounds.",
                    unpowered));
  size_t failed = 0;
  for (const auto& result : report.results) failed += result.estimate ? 0 : 1;
  if (failed > 0)
    lines.push_back(fmt::format("{} chip{} could not run this model; the table says why.", failed,
                                failed == 1 ? "" : "s"));
  return lines;
}

}  // namespace xpusim::report
