// make_cost_model (family dispatch) and estimate_run (prefill + decode steps -> RunEstimate). The family
// models live in src/chips/impl/.
#include "chips/cost_model.h"
#include "core/enum_table.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "chips/impl/family_model.h"
#include "core/error.h"

namespace xpusim::chips {

constexpr EnumName<Bound> kBoundNames[] = {{Bound::COMPUTE, "compute"},
                                           {Bound::MEMORY, "memory"},
                                           {Bound::INTERCONNECT, "interconnect"},
                                           {Bound::OVERHEAD, "overhead"}};

const char* bound_name(Bound bound) { return enum_name(kBoundNames, bound).data(); }

EnergySplit& EnergySplit::operator+=(const EnergySplit& other) {
  compute_j += other.compute_j;
  onchip_memory_j += other.onchip_memory_j;
  offchip_memory_j += other.offchip_memory_j;
  links_j += other.links_j;
  static_j += other.static_j;
  return *this;
}

int64_t StepShape::total_new_tokens() const {
  int64_t total = 0;
  for (const auto& seq : sequences) total += std::max<int64_t>(0, seq.new_tokens);
  return total;
}

std::unique_ptr<CostModel> make_cost_model(const ChipSpec& chip, const model::ModelConfig& config,
                                           const std::string& precision) {
  if (chip.family == Family::UE)
    fail("chip '{}' (family ue) is timed by the engine compiler: use compiler::make_engine_cost_model",
         chip.name);
  return make_cost_model(chip, config, precision, CostOptions{});
}

std::unique_ptr<CostModel> make_cost_model(const ChipSpec& chip, const model::ModelConfig& config,
                                           const std::string& precision, const CostOptions& options) {
  if (chip.family == Family::UE)
    fail("chip '{}' (family ue) is timed by the engine compiler: use compiler::make_engine_cost_model",
         chip.name);
  return std::make_unique<impl::FamilyModel>(chip, config, precision, options);
}

double kv_dtype_bytes(const std::string& name) {
  struct Row {
    const char* name;
    double bytes;
  };
  static constexpr Row kRows[] = {{"fp32", 4}, {"f32", 4},       {"bf16", 2},     {"fp16", 2},
                                  {"f16", 2},  {"fp8", 1},       {"fp8-e4m3", 1}, {"fp8-e5m2", 1},
                                  {"int8", 1}, {"q8_0", 1.0625}, {"int4", 0.5},   {"q4_0", 0.5625}};
  std::string known;
  for (const Row& row : kRows) {
    if (name == row.name) return row.bytes;
    known += (known.empty() ? "" : ", ") + std::string(row.name);
  }
  fail("--kv-dtype: unknown KV-cache type '{}'; known: {}", name, known);
}

namespace {

EnergySplit scaled(const EnergySplit& e, double factor) {
  EnergySplit out;
  out.compute_j = e.compute_j * factor;
  out.onchip_memory_j = e.onchip_memory_j * factor;
  out.offchip_memory_j = e.offchip_memory_j * factor;
  out.links_j = e.links_j * factor;
  out.static_j = e.static_j * factor;
  return out;
}

// Adds `factor` x `step` into `total`, op by op (same op list for every decode step of one run).
void accumulate(StepCost& total, const StepCost& step, double factor) {
  if (total.ops.empty()) {
    total.ops = step.ops;
    for (OpCost& op : total.ops) {
      op.seconds *= factor;
      op.flops *= factor;
      op.link_bytes *= factor;
      for (double& b : op.bytes_per_level) b *= factor;
      op.energy = scaled(op.energy, factor);
    }
    return;
  }
  XPUSIM_ASSERT(total.ops.size() == step.ops.size());
  for (size_t i = 0; i < step.ops.size(); ++i) {
    OpCost& into = total.ops[i];
    const OpCost& from = step.ops[i];
    into.seconds += from.seconds * factor;
    into.flops += from.flops * factor;
    into.link_bytes += from.link_bytes * factor;
    for (size_t l = 0; l < into.bytes_per_level.size(); ++l)
      into.bytes_per_level[l] += from.bytes_per_level[l] * factor;
    into.energy += scaled(from.energy, factor);
  }
}

StepShape decode_shape(const RunShape& shape, int64_t step_index) {
  StepShape step;
  step.sequences.assign(static_cast<size_t>(shape.batch),
                        SequenceChunk{1, shape.prompt_len + step_index - 1});
  return step;
}

}  // namespace

RunEstimate estimate_run(CostModel& model, const RunShape& shape) {
  if (shape.batch < 1 || shape.prompt_len < 1 || shape.gen_len < 1 || shape.batch > (1 << 20))
    fail("run shape: batch = {}, prompt_len = {}, gen_len = {} (each must be >= 1, batch <= 1048576)",
         shape.batch, shape.prompt_len, shape.gen_len);
  RunEstimate run;
  run.plan = model.plan();
  run.shape = shape;
  const size_t levels = run.plan.levels.size();
  StepShape prefill;
  prefill.sequences.assign(static_cast<size_t>(shape.batch), SequenceChunk{shape.prompt_len, 0});
  run.prefill = model.step(prefill);

  // Decode step k (1 .. n) feeds generated token k with prompt_len + k - 1 tokens in the cache.
  const int64_t steps = shape.gen_len - 1;
  constexpr int64_t kExactSteps = 256, kSamples = 64;
  if (steps > 0 && steps <= kExactSteps) {
    for (int64_t k = 1; k <= steps; ++k) accumulate(run.decode, model.step(decode_shape(shape, k)), 1.0);
  } else if (steps > 0) {
    // Evenly spaced samples; trapezoid weights over the integer steps between them (they sum to `steps`).
    std::vector<int64_t> points;
    for (int64_t j = 0; j < kSamples; ++j)
      points.push_back(
          1 + static_cast<int64_t>(std::llround(static_cast<double>(j) * (steps - 1) / (kSamples - 1))));
    for (size_t j = 0; j < points.size(); ++j) {
      const double left = j == 0 ? 0.5 : (points[j] - points[j - 1]) / 2.0;
      const double right = j + 1 == points.size() ? 0.5 : (points[j + 1] - points[j]) / 2.0;
      accumulate(run.decode, model.step(decode_shape(shape, points[j])), left + right);
    }
  }
  impl::sum_step(run.decode, levels);

  const double generated = static_cast<double>(shape.batch * shape.gen_len);
  const double total_s = run.prefill.seconds + run.decode.seconds;
  run.ttft_s = run.prefill.seconds;
  run.tpot_s = steps > 0 ? run.decode.seconds / static_cast<double>(steps) : 0.0;
  run.tokens_per_s = generated / total_s;
  run.decode_tokens_per_s = run.tpot_s > 0 ? static_cast<double>(shape.batch) / run.tpot_s : 0.0;
  EnergySplit energy = run.prefill.energy;
  energy += run.decode.energy;
  run.energy_per_token = scaled(energy, 1.0 / generated);
  run.energy_per_token_j = run.energy_per_token.total();
  run.tokens_per_joule = run.energy_per_token_j > 0 ? 1.0 / run.energy_per_token_j : 0.0;
  run.utilization =
      run.plan.peak_flops > 0 ? (run.prefill.flops + run.decode.flops) / (total_s * run.plan.peak_flops) : 0;
  std::array<double, 4> by_bound{};
  for (const StepCost* step : {&run.prefill, &run.decode})
    for (const OpCost& op : step->ops) by_bound[static_cast<size_t>(op.bound)] += op.seconds;
  run.dominant_bound =
      static_cast<Bound>(std::max_element(by_bound.begin(), by_bound.end()) - by_bound.begin());
  return run;
}

}  // namespace xpusim::chips
