// sweep::SweepSpec: a design-space study read from a TOML file (docs/sweep.md): the axes (models, chips,
// chip-file key overrides, weight format, KV dtype, batch, prompt and generation lengths, chip count), how
// points are drawn from them (grid, random, Latin hypercube, with a seed), the constraints a point must meet
// (TTFT/TPOT SLOs, memory fit, power per chip) and the objectives of the Pareto front. Non-goals: evaluating
// points (evaluate.h), drawing them (points.h).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xpusim::sweep {

enum class Sampling { GRID, RANDOM, LATIN_HYPERCUBE };

// One chip-file key and the values it takes. scale = true: the values multiply the file's own value.
struct OverrideAxis {
  std::string key;
  bool scale = false;
  std::vector<double> values;      // numbers, or
  std::vector<std::string> texts;  // strings ([axes.set] only: "system.partition" = ["tensor", "pipeline"])
  size_t size() const { return texts.empty() ? values.size() : texts.size(); }
};

enum class Objective {
  TTFT,
  TPOT,
  TOKENS_PER_S_PER_USER,
  TOKENS_PER_S_PER_CHIP,
  TOKENS_PER_JOULE,
  USD_PER_MTOK
};

struct ObjectiveInfo {
  Objective objective;
  std::string_view name;  // spec and column name ("tpot_ms")
  bool maximize;
  std::string_view label;  // axis label for humans
};
std::span<const ObjectiveInfo> objective_table();
const ObjectiveInfo& objective_info(Objective objective);

struct Constraints {
  std::optional<double> max_ttft_ms;
  std::optional<double> max_tpot_ms;
  std::optional<double> max_power_w_per_chip;  // mean power of one chip over the run (energy / time / chips)
  bool memory_fit =
      true;  // weights + KV must fit (a point whose cost model refuses it never meets constraints)
};

struct SweepSpec {
  std::string name;
  std::vector<std::string> models;
  std::vector<std::string> chips;
  std::vector<OverrideAxis> overrides;
  std::vector<std::string> precisions = {""};  // "" = the chip's default weight format
  std::vector<std::string> kv_dtypes = {""};   // "" = the family default
  std::vector<int64_t> batches = {1};
  std::vector<int64_t> prompt_lens = {128};
  std::vector<int64_t> gen_lens = {128};
  std::vector<int64_t> chip_counts;  // empty = each chip file's system.chips_per_system
  Sampling sampling = Sampling::GRID;
  int64_t samples = 0;  // random / latin-hypercube: points drawn
  uint64_t seed = 1;
  Constraints constraints;
  std::vector<Objective> pareto = {Objective::TPOT, Objective::TOKENS_PER_JOULE};  // 2 or 3
  double electricity_usd_per_kwh = 0.10;  // an assumption unless the spec says otherwise
  double amortization_years = 3;          // chip price spread over this many years of continuous use
};

// Every problem is an xpusim::Error naming the file, key and what is accepted.
SweepSpec parse_spec(std::string_view toml_text, const std::string& path);
SweepSpec load_spec(const std::string& path);

}  // namespace xpusim::sweep
