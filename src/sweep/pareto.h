// The Pareto front of a sweep over 2 or 3 objectives, and the best point per objective under each constraint.
// Only points that meet every constraint (and have a value for every objective) can be on the front. Ties are
// kept: equal points are all on the front when one is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sweep/evaluate.h"
#include "sweep/spec.h"

namespace xpusim::sweep {

void mark_pareto_front(const std::vector<Objective>& objectives, std::vector<PointRow>& rows);

// "Best points per constraint": for each constraint set (all of the spec's constraints, each constraint
// alone, none), the row index that is best for each objective; nullopt when no row qualifies.
struct BestPoint {
  std::string constraint;  // "all constraints", "max_tpot_ms <= 50", "none"
  Objective objective;
  std::optional<size_t> row;
};
std::vector<BestPoint> best_points(const SweepSpec& spec, const std::vector<PointRow>& rows);

}  // namespace xpusim::sweep
