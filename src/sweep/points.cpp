#include "sweep/points.h"

#include <numeric>

#include "core/error.h"

namespace xpusim::sweep {

namespace {

// splitmix64: tiny, fast, and the same sequence everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : m_state(seed) {}
  uint64_t next() {
    uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) up to a modulo bias below n / 2^64 (n is an axis size or a sample count).
  uint64_t below(uint64_t n) { return next() % n; }

 private:
  uint64_t m_state;
};

std::vector<Point> grid(const std::vector<size_t>& sizes) {
  uint64_t total = 1;
  for (size_t size : sizes) {
    total *= size;
    if (total > kMaxPoints)
      fail(
          "sweep: the grid has more than {} points; narrow the axes or use sampling = \"random\" or "
          "\"latin-hypercube\" with samples = N",
          kMaxPoints);
  }
  std::vector<Point> points(total, Point(sizes.size()));
  for (uint64_t i = 0; i < total; ++i) {
    uint64_t rest = i;
    for (size_t axis = sizes.size(); axis-- > 0;) {
      points[i][axis] = static_cast<uint32_t>(rest % sizes[axis]);
      rest /= sizes[axis];
    }
  }
  return points;
}

std::vector<Point> random_points(const std::vector<size_t>& sizes, uint64_t count, uint64_t seed) {
  Rng rng(seed);
  std::vector<Point> points(count, Point(sizes.size()));
  for (Point& point : points)
    for (size_t axis = 0; axis < sizes.size(); ++axis)
      point[axis] = static_cast<uint32_t>(rng.below(sizes[axis]));
  return points;
}

// Each axis is cut into `count` strata, one sample per stratum, strata shuffled independently per axis;
// stratum s of an axis with n values maps to value floor((s + 1/2) n / count).
std::vector<Point> latin_hypercube(const std::vector<size_t>& sizes, uint64_t count, uint64_t seed) {
  Rng rng(seed);
  std::vector<Point> points(count, Point(sizes.size()));
  std::vector<uint64_t> strata(count);
  for (size_t axis = 0; axis < sizes.size(); ++axis) {
    std::iota(strata.begin(), strata.end(), 0);
    for (uint64_t i = count; i > 1; --i) std::swap(strata[i - 1], strata[rng.below(i)]);
    for (uint64_t i = 0; i < count; ++i)
      points[i][axis] = static_cast<uint32_t>((2 * strata[i] + 1) * sizes[axis] / (2 * count));
  }
  return points;
}

}  // namespace

AxisLayout axis_layout(const SweepSpec& spec) { return AxisLayout{spec.overrides.size()}; }

std::vector<size_t> axis_sizes(const SweepSpec& spec) {
  const AxisLayout layout = axis_layout(spec);
  std::vector<size_t> sizes(layout.size());
  sizes[AxisLayout::kModel] = spec.models.size();
  sizes[AxisLayout::kChip] = spec.chips.size();
  for (size_t i = 0; i < spec.overrides.size(); ++i)
    sizes[AxisLayout::kFirstOverride + i] = spec.overrides[i].size();
  sizes[layout.chip_count()] = std::max<size_t>(1, spec.chip_counts.size());
  sizes[layout.precision()] = spec.precisions.size();
  sizes[layout.kv_dtype()] = spec.kv_dtypes.size();
  sizes[layout.prompt_len()] = spec.prompt_lens.size();
  sizes[layout.gen_len()] = spec.gen_lens.size();
  sizes[layout.batch()] = spec.batches.size();
  return sizes;
}

std::vector<std::string> axis_names(const SweepSpec& spec) {
  std::vector<std::string> names = {"model", "chip"};
  for (const OverrideAxis& axis : spec.overrides)
    names.push_back((axis.scale ? "scale:" : "set:") + axis.key);
  for (const char* name : {"chip_count", "precision", "kv_dtype", "prompt_len", "gen_len", "batch"})
    names.push_back(name);
  return names;
}

std::vector<Point> draw_points(const SweepSpec& spec) {
  const std::vector<size_t> sizes = axis_sizes(spec);
  switch (spec.sampling) {
    case Sampling::GRID:
      return grid(sizes);
    case Sampling::RANDOM:
      if (static_cast<uint64_t>(spec.samples) > kMaxPoints) fail("sweep: samples must be <= {}", kMaxPoints);
      return random_points(sizes, static_cast<uint64_t>(spec.samples), spec.seed);
    case Sampling::LATIN_HYPERCUBE:
      if (static_cast<uint64_t>(spec.samples) > kMaxPoints) fail("sweep: samples must be <= {}", kMaxPoints);
      return latin_hypercube(sizes, static_cast<uint64_t>(spec.samples), spec.seed);
  }
  fail("sweep: unknown sampling");
}

}  // namespace xpusim::sweep
