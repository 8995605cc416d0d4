// Number formatting shared by the terminal table, the explanation and the HTML report, so one figure reads
// the same everywhere ("12.3 ms", "4.56 mJ", "1.2 k").
// Non-goals: byte/bandwidth formatting (chips/display.h owns those).
#pragma once

#include <string>

#include "chips/cost_model.h"

namespace xpusim::report {

std::string format_seconds(double seconds);    // "850 us", "12.3 ms", "1.42 s"
std::string format_joules(double joules);      // "3.2 uJ", "4.56 mJ", "1.2 J"
std::string format_rate(double value);         // 3 significant digits with k/M/G suffix: "1.23 k"
std::string format_flops(double flops_per_s);  // "989 TFLOP/s"
std::string percent(double fraction);          // "42%"

// Name of the largest component of an energy split ("off-chip memory") and its share of the total.
struct EnergyShare {
  const char* component;
  double fraction;
};
EnergyShare largest_energy_share(const chips::EnergySplit& split);
// Bandwidth (bytes/s) of the level named `name` in the plan, 0 when absent.
double level_bandwidth(const chips::SystemPlan& plan, const std::string& name);

}  // namespace xpusim::report
