#include "report/format.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <utility>

namespace xpusim::report {

namespace {
std::string scaled(double value, const std::array<std::pair<double, const char*>, 5>& steps) {
  if (!std::isfinite(value)) return "-";
  for (const auto& [scale, unit] : steps)
    if (std::fabs(value) >= scale) return fmt::format("{:.3g} {}", value / scale, unit);
  const auto& [scale, unit] = steps.back();
  return fmt::format("{:.3g} {}", value / scale, unit);
}
}  // namespace

std::string format_seconds(double seconds) {
  if (seconds == 0) return "0";
  return scaled(seconds, {{{1, "s"}, {1e-3, "ms"}, {1e-6, "us"}, {1e-9, "ns"}, {1e-12, "ps"}}});
}

std::string format_joules(double joules) {
  if (joules == 0) return "0";
  return scaled(joules, {{{1, "J"}, {1e-3, "mJ"}, {1e-6, "uJ"}, {1e-9, "nJ"}, {1e-12, "pJ"}}});
}

std::string format_rate(double value) {
  if (!std::isfinite(value)) return "-";
  if (std::fabs(value) < 1e3) return fmt::format("{:.3g}", value);
  return scaled(value, {{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}}});
}

std::string format_flops(double flops_per_s) {
  return scaled(flops_per_s,
                {{{1e15, "PFLOP/s"}, {1e12, "TFLOP/s"}, {1e9, "GFLOP/s"}, {1e6, "MFLOP/s"}, {1, "FLOP/s"}}});
}

std::string percent(double fraction) {
  if (!std::isfinite(fraction)) return "-";
  const double pct = fraction * 100;
  return pct < 1 && pct > 0 ? fmt::format("{:.2f}%", pct) : fmt::format("{:.0f}%", pct);
}

EnergyShare largest_energy_share(const chips::EnergySplit& split) {
  const std::array<std::pair<const char*, double>, 5> parts = {{{"compute", split.compute_j},
                                                                {"on-chip memory", split.onchip_memory_j},
                                                                {"off-chip memory", split.offchip_memory_j},
                                                                {"links", split.links_j},
                                                                {"static power", split.static_j}}};
  EnergyShare best{parts[0].first, 0};
  double best_j = -1;
  for (const auto& [name, joules] : parts)
    if (joules > best_j) best = {name, 0}, best_j = joules;
  const double total = split.total();
  best.fraction = total > 0 ? best_j / total : 0;
  return best;
}

double level_bandwidth(const chips::SystemPlan& plan, const std::string& name) {
  for (const auto& level : plan.levels)
    if (level.name == name) return level.bandwidth_bytes_per_s;
  return 0;
}

}  // namespace xpusim::report
