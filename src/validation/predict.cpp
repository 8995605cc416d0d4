// Row -> prediction (see predict.h).
#include "validation/predict.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "chips/cost_model.h"
#include "chips/loader.h"
#include "core/error.h"
#include "model/presets.h"
#include "serving/simulator.h"

namespace xpusim::validation {
namespace {

// Figures of a predicted run that the metrics are read from.
struct RunFigures {
  double ttft_s = 0, tpot_s = 0;
  double output_tokens_per_s = 0;  // one replica
  double requests_per_s = 0;       // one replica
  double joules = 0, seconds = 0;  // one replica, whole run
  double prefill_tokens = 0;
  std::string bound;
};

model::ModelConfig model_of(const Point& point) {
  auto config = model::find_timing_config(point.model);
  if (!config) fail("x_model '{}': not a model preset and not a folder with config.json", point.model);
  return *config;
}

// A CPU run pinned to `cores` threads: peaks and per-core cache bandwidth scale with the cores used; shared
// levels (L3, DRAM) keep their bandwidth.
void use_cores(chips::ChipSpec& chip, int cores) {
  if (chip.family != chips::Family::CPU)
    fail("x_cores applies to cpu chips only ('{}' is not one)", chip.name);
  const int units = chip.compute.units;
  if (cores > units) fail("x_cores = {}: chip '{}' has {} cores", cores, chip.name, units);
  const double scale = static_cast<double>(cores) / units;
  for (auto& peak : chip.compute.peak_tflops)
    if (peak) *peak *= scale;
  for (chips::MemoryLevel& level : chip.memory) {
    if (level.instances != units || units == 1) continue;
    level.instances = cores;
    level.bandwidth_gbps *= scale;
  }
  chip.compute.units = cores;
}

chips::ChipSpec chip_of(const Point& point) {
  chips::ChipSpec chip = chips::load_chip(point.chip);
  if (point.chips > 0) {
    chip.system.chips_per_system = point.chips;
    chip.system.auto_size = false;
    if (chip.system.partition == chips::Partition::AUTO && chip.family != chips::Family::LPU)
      chip.system.partition = chips::Partition::TENSOR;
  }
  if (point.cores > 0) use_cores(chip, point.cores);
  return chip;
}

RunFigures run_static(chips::CostModel& model, const Point& point) {
  chips::RunShape shape;
  shape.batch = point.batch;
  shape.prompt_len = std::max<int64_t>(1, point.input);
  shape.gen_len = std::max<int64_t>(1, point.output);
  const chips::RunEstimate run = chips::estimate_run(model, shape);
  RunFigures out;
  out.ttft_s = run.ttft_s;
  out.tpot_s = run.tpot_s;
  out.output_tokens_per_s = run.tokens_per_s;
  out.seconds = run.prefill.seconds + run.decode.seconds;
  out.requests_per_s = static_cast<double>(shape.batch) / out.seconds;
  out.joules = run.prefill.energy.total() + run.decode.energy.total();
  out.prefill_tokens = static_cast<double>(shape.batch * shape.prompt_len);
  const bool decode_metric =
      point.metric != "ttft_ms" && point.metric != "prefill_tps" && point.metric != "prefill_ms";
  out.bound = chips::bound_name(decode_metric ? run.decode.bound : run.prefill.bound);
  return out;
}

RunFigures run_serving(chips::CostModel& model, const Point& point) {
  serving::WorkloadSpec workload;
  workload.rate = 0;
  workload.requests = point.requests > 0 ? point.requests : 8 * point.batch;
  if (point.sharegpt) {
    workload.kind = "sharegpt";
  } else {
    workload.kind = "fixed";
    workload.input_len = std::max<int64_t>(1, point.input);
    workload.output_len = std::max<int64_t>(1, point.output);
    workload.max_tokens = workload.output_len;
  }
  const std::vector<serving::SimRequest> requests = serving::make_workload(workload);
  serving::ServeSimOptions options;
  options.scheduler.max_running = point.batch;
  options.scheduler.max_batched_tokens = point.step_tokens > 0 ? point.step_tokens : 8192;
  options.scheduler.max_model_len = point.sharegpt ? 2048 : workload.input_len + workload.output_len;
  options.kv.capacity_tokens = static_cast<int64_t>(std::floor(model.plan().kv_capacity_tokens));
  options.max_samples = 16;
  const serving::ServeSimResult result = serving::simulate_serving(requests, model, options);
  if (result.completed == 0)
    fail("no request completed ({})", result.rejections.empty() ? "?" : result.rejections.front());
  RunFigures out;
  out.ttft_s = result.ttft_s.mean;
  out.tpot_s = result.tpot_s.mean;
  out.output_tokens_per_s = result.output_tokens_per_s;
  out.requests_per_s = result.request_throughput;
  out.seconds = result.duration_s;
  out.prefill_tokens = static_cast<double>(result.prompt_tokens);
  out.bound = "batch";
  return out;
}

double metric_value(const Point& point, const RunFigures& run) {
  const std::string& m = point.metric;
  const double replicas = point.replicas;
  if (m == "decode_tps_per_user") return 1.0 / run.tpot_s;
  if (m == "tpot_ms" || m == "itl_ms") return run.tpot_s * 1e3;
  if (m == "ttft_ms" || m == "prefill_ms") return run.ttft_s * 1e3;
  if (m == "prefill_tps") return run.prefill_tokens / run.ttft_s / (point.mode == Mode::SERVING ? 1 : 1);
  if (m == "total_output_tps") return run.output_tokens_per_s * replicas;
  if (m == "samples_per_s") return run.requests_per_s * replicas;
  if (m == "j_per_token") return run.joules / std::max(1.0, run.output_tokens_per_s * run.seconds);
  fail("metric '{}' is not one xpusim predicts", m);
}

}  // namespace

bool metric_supported(const std::string& metric) {
  static const char* kMetrics[] = {"decode_tps_per_user", "tpot_ms",     "itl_ms",           "ttft_ms",
                                   "prefill_ms",          "prefill_tps", "total_output_tps", "samples_per_s",
                                   "j_per_token"};
  return std::any_of(std::begin(kMetrics), std::end(kMetrics), [&](const char* m) { return metric == m; });
}

Prediction predict_point(const Point& point) {
  Prediction out;
  if (!point.skip.empty()) {
    out.why = point.skip;
    return out;
  }
  if (!metric_supported(point.metric)) {
    out.why = fmt::format("metric '{}' is not one xpusim predicts", point.metric);
    return out;
  }
  try {
    const chips::ChipSpec chip = chip_of(point);
    const model::ModelConfig config = model_of(point);
    chips::CostOptions options;
    options.kv_dtype = point.kv_dtype;
    options.activations = point.activations;
    // Self-sizing systems (lpu) make room for the row's own KV: every sequence at its full length.
    const int64_t length = point.sharegpt ? 2048 : std::max<int64_t>(1, point.input) + point.output;
    options.kv_reserve_tokens = std::max<int64_t>(1, point.batch) * length;
    if (!point.stack.empty()) options.stack = chips::load_stack(point.stack);
    auto model = chips::make_cost_model(chip, config, point.weights, options);
    const RunFigures run =
        point.mode == Mode::SERVING ? run_serving(*model, point) : run_static(*model, point);
    out.predicted = metric_value(point, run);
    if (!std::isfinite(out.predicted) || out.predicted <= 0) fail("the model predicted {}", out.predicted);
    out.error = (out.predicted - point.measured) / point.measured;
    out.bound = run.bound;
    const chips::SystemPlan& plan = model->plan();
    out.explanation = fmt::format("{} x {} ({}, {}), {}", plan.chips_used * point.replicas, plan.chip,
                                  plan.weight_format, chips::precision_name(plan.compute_precision),
                                  point.mode == Mode::SERVING ? "serving" : "static batch");
    if (run.seconds > 0 && run.joules > 0) out.predicted_power_w = run.joules / run.seconds * point.replicas;
    out.ran = true;
  } catch (const Error& e) {
    out.why = e.what();
  }
  return out;
}

}  // namespace xpusim::validation
