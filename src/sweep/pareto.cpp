#include "sweep/pareto.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>

namespace xpusim::sweep {

namespace {

using Costs = std::array<double, 3>;  // objectives turned into costs to minimize (maximized ones negated)

bool dominates(const Costs& a, const Costs& b, size_t n) {
  bool strictly = false;
  for (size_t i = 0; i < n; ++i) {
    if (a[i] > b[i]) return false;
    strictly = strictly || a[i] < b[i];
  }
  return strictly;
}

}  // namespace

// Candidates are sorted lexicographically by cost: every point's dominators come before it, and a dominated
// front member is impossible, so checking a point against the front found so far is enough.
void mark_pareto_front(const std::vector<Objective>& objectives, std::vector<PointRow>& rows) {
  const size_t n = std::min<size_t>(objectives.size(), 3);
  std::vector<std::pair<Costs, size_t>> candidates;
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].on_front = false;
    if (!rows[i].meets_constraints) continue;
    Costs costs{};
    bool complete = true;
    for (size_t k = 0; k < n; ++k) {
      const std::optional<double> value = rows[i].objective(objectives[k]);
      if (!value || !std::isfinite(*value))
        complete = false;
      else
        costs[k] = objective_info(objectives[k]).maximize ? -*value : *value;
    }
    if (complete) candidates.emplace_back(costs, i);
  }
  std::sort(candidates.begin(), candidates.end());
  std::vector<Costs> front;
  for (const auto& candidate : candidates) {
    const Costs& costs = candidate.first;  // a named reference: clang 14 cannot capture a structured binding
    if (std::any_of(front.begin(), front.end(), [&](const Costs& f) { return dominates(f, costs, n); }))
      continue;
    front.push_back(costs);
    rows[candidate.second].on_front = true;
  }
}

std::vector<BestPoint> best_points(const SweepSpec& spec, const std::vector<PointRow>& rows) {
  struct ConstraintSet {
    std::string label;
    std::function<bool(const PointRow&)> admits;
  };
  const Constraints& c = spec.constraints;
  std::vector<ConstraintSet> sets;
  sets.push_back({"all constraints", [](const PointRow& r) { return r.meets_constraints; }});
  if (c.memory_fit) sets.push_back({"memory fit", [](const PointRow& r) { return r.ran() && r.fits; }});
  if (c.max_ttft_ms)
    sets.push_back({fmt::format("TTFT <= {} ms", *c.max_ttft_ms),
                    [v = *c.max_ttft_ms](const PointRow& r) { return r.ran() && r.ttft_s * 1e3 <= v; }});
  if (c.max_tpot_ms)
    sets.push_back({fmt::format("TPOT <= {} ms", *c.max_tpot_ms),
                    [v = *c.max_tpot_ms](const PointRow& r) { return r.ran() && r.tpot_s * 1e3 <= v; }});
  if (c.max_power_w_per_chip)
    sets.push_back(
        {fmt::format("power <= {} W per chip", *c.max_power_w_per_chip),
         [v = *c.max_power_w_per_chip](const PointRow& r) { return r.ran() && r.power_w_per_chip <= v; }});
  sets.push_back({"none", [](const PointRow& r) { return r.ran(); }});

  std::vector<BestPoint> best;
  for (const ConstraintSet& set : sets) {
    for (const ObjectiveInfo& info : objective_table()) {
      BestPoint entry{set.label, info.objective, std::nullopt};
      double best_value = 0;
      for (size_t i = 0; i < rows.size(); ++i) {
        if (!set.admits(rows[i])) continue;
        const std::optional<double> value = rows[i].objective(info.objective);
        if (!value || !std::isfinite(*value)) continue;
        // Strictly better only: the first row in point order wins ties, so the table is deterministic.
        if (!entry.row || (info.maximize ? *value > best_value : *value < best_value)) {
          entry.row = i;
          best_value = *value;
        }
      }
      best.push_back(std::move(entry));
    }
  }
  return best;
}

}  // namespace xpusim::sweep
