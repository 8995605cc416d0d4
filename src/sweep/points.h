// Drawing a sweep's points from its axes: the full grid, or `samples` points drawn at random or by Latin
// hypercube (each axis's values used as evenly as the sample count allows), from the spec's seed. A point is
// one index per axis, in the order of axis_names(); the same spec always gives the same points in the same
// order (the generator is a fixed splitmix64, not the standard library's distributions, which differ between
// implementations).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sweep/spec.h"

namespace xpusim::sweep {

// Axis order: model, chip, each override in spec order, chip_count, precision, kv_dtype, prompt_len, gen_len,
// batch (the last varies fastest in a grid).
struct AxisLayout {
  static constexpr size_t kModel = 0, kChip = 1, kFirstOverride = 2;
  size_t overrides = 0;
  size_t chip_count() const { return kFirstOverride + overrides; }
  size_t precision() const { return chip_count() + 1; }
  size_t kv_dtype() const { return chip_count() + 2; }
  size_t prompt_len() const { return chip_count() + 3; }
  size_t gen_len() const { return chip_count() + 4; }
  size_t batch() const { return chip_count() + 5; }
  size_t size() const { return chip_count() + 6; }
};

AxisLayout axis_layout(const SweepSpec& spec);
std::vector<size_t> axis_sizes(const SweepSpec& spec);  // a chip_count axis left out counts as one value
std::vector<std::string> axis_names(const SweepSpec& spec);

using Point = std::vector<uint32_t>;  // one value index per axis
// xpusim::Error when a grid would exceed kMaxPoints.
std::vector<Point> draw_points(const SweepSpec& spec);
inline constexpr uint64_t kMaxPoints = 20'000'000;

}  // namespace xpusim::sweep
