// Evaluating a sweep in-process: models and chip variants are loaded once, each worker thread keeps its cost
// models (one per model x chip variant x weight format x KV dtype) across the points it runs, and every
// point's row is stored at the point's index, so the result does not depend on the number of workers. Cost
// models come from a factory so the CLI (and the Python module) plug in the same dispatch as `compare`
// (cli/targets.h). Non-goals: writing rows out (output.h), the front (pareto.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chips/chip_spec.h"
#include "chips/cost_model.h"
#include "model/config.h"
#include "sweep/points.h"
#include "sweep/spec.h"

namespace xpusim::sweep {

using CostModelFactory =
    std::function<std::unique_ptr<chips::CostModel>(const chips::ChipSpec&, const model::ModelConfig&,
                                                    const std::string& precision, const chips::CostOptions&)>;

// One point's figures: the run-report counters of chips::RunEstimate and the derived objectives.
struct PointRow {
  Point point;
  std::string chip_label;  // chip name plus its overrides ("gpu-h100-sxm[memory.hbm.bandwidth_gbps=x2]")
  std::string error;       // why the cost model refused the point (KV does not fit, ...); empty when it ran
  int chips_used = 0;
  std::string weight_format, weight_level, bound;
  double ttft_s = 0, tpot_s = 0, tokens_per_s = 0, decode_tokens_per_s = 0;
  double energy_per_token_j = 0, compute_j = 0, onchip_memory_j = 0, offchip_memory_j = 0, links_j = 0,
         static_j = 0;  // energy per token, split
  double tokens_per_joule = 0, utilization = 0;
  double weight_bytes = 0, kv_bytes_per_token = 0, kv_capacity_tokens = 0;
  double prefill_flops = 0, decode_flops = 0, prefill_bytes = 0, decode_bytes = 0, link_bytes = 0;
  double power_w = 0, power_w_per_chip = 0;
  double electricity_usd_per_mtok = 0;
  std::optional<double> usd_per_mtok;  // needs cost.price_usd in the chip file
  bool fits = false;                   // ran, and the batch's KV fits next to the weights
  bool meets_constraints = false;
  bool on_front = false;
  bool ran() const { return error.empty(); }
  std::optional<double> objective(Objective objective) const;  // nullopt when the point did not run
};

struct SweepResult {
  SweepSpec spec;
  std::vector<std::string> axis_names;
  std::vector<PointRow> rows;  // in point order
};

// Called from worker threads (serialized) with (points done, total).
using SweepProgress = std::function<void(size_t, size_t)>;

class SweepEvaluator {
 public:
  // Loads every model and every chip variant the points use; xpusim::Error on an unknown name or a chip key
  // override the chip validation refuses.
  SweepEvaluator(SweepSpec spec, CostModelFactory factory);
  ~SweepEvaluator();
  const std::vector<Point>& points() const { return m_points; }
  // Evaluates points [begin, end) on `workers` threads (0 = all cores); rows in point order.
  std::vector<PointRow> evaluate(size_t begin, size_t end, int workers,
                                 const SweepProgress& progress = {}) const;
  // The whole sweep: every point, constraints checked, the Pareto front marked.
  SweepResult run(int workers, const SweepProgress& progress = {}) const;
  const SweepSpec& spec() const { return m_spec; }

 private:
  struct Impl;
  SweepSpec m_spec;
  std::vector<Point> m_points;
  std::unique_ptr<Impl> m_impl;
};

// Marks meets_constraints (memory fit, SLOs, power cap) on every row.
void apply_constraints(const SweepSpec& spec, std::vector<PointRow>& rows);

}  // namespace xpusim::sweep
