#include "cli/bench_engine.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "compiler/engine_runner.h"
#include "compiler/memory_plan.h"
#include "compiler/policy_executor.h"
#include "core/error.h"
#include "engine/chip_config.h"
#include "engine/reference_kernels.h"
#include "engine/simd_mm.h"
#include "model/loader.h"
#include "report/table.h"
#include "runtime/sampler.h"

namespace xpusim::cli {
namespace {

constexpr int64_t kPromptTokens = 8;

struct Rate {
  double mean = 0, sd = 0;
};

Rate summarize(const std::vector<double>& rates) {
  Rate r;
  for (double v : rates) r.mean += v;
  r.mean /= static_cast<double>(rates.size());
  for (double v : rates) r.sd += (v - r.mean) * (v - r.mean);
  r.sd = rates.size() > 1 ? std::sqrt(r.sd / static_cast<double>(rates.size() - 1)) : 0.0;
  return r;
}

// One repetition: prefill kPromptTokens (untimed), then `generate` greedy steps; returns tokens/s.
template <typename Step>
double decode_rate(int64_t vocab, int64_t generate, Step&& step) {
  std::vector<int32_t> prompt(kPromptTokens);
  for (int64_t i = 0; i < kPromptTokens; ++i)
    prompt[static_cast<size_t>(i)] = static_cast<int32_t>((1000 + 7919 * i) % vocab);
  int32_t next = step(prompt);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t t = 0; t < generate; ++t) next = step({next});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(generate) / seconds;
}

}  // namespace

void run_bench_functional(const FunctionalBenchOptions& options) {
  if (options.generate < 1)
    fail("-n must be >= 1 for the functional-simulation test (got {})", options.generate);
  if (options.reps < 1) fail("--reps must be >= 1 (got {})", options.reps);
  const engine::ChipConfig chip = engine::load_chip(options.chip);
  const std::string precision = options.precision.empty() ? "ue-if4" : options.precision;
  const engine::WeightFormat format = compiler::engine_format_from_name(precision);
  const model::LoadedModel loaded = model::load_model(options.model);
  const int64_t capacity = kPromptTokens + options.generate + 1;
  std::vector<double> sim_rates, host_rates;
  for (int rep = 0; rep < options.reps; ++rep) {
    compiler::EngineRunner runner(chip, loaded.config, &loaded.weights,
                                  {.format = format, .kv_capacity = capacity, .max_step_tokens = 64});
    sim_rates.push_back(decode_rate(loaded.config.vocab_size, options.generate,
                                    [&](std::vector<int32_t> ids) { return runner.forward(ids).argmax; }));
    compiler::PolicyExecutor host(chip, loaded.config, loaded.weights, format, capacity);
    host_rates.push_back(
        decode_rate(loaded.config.vocab_size, options.generate,
                    [&](std::vector<int32_t> ids) { return runtime::argmax_first(host.forward(ids)); }));
  }
  const Rate sim = summarize(sim_rates), host = summarize(host_rates);
  const double ratio = host.mean / sim.mean;
  const std::string kernels(engine::simd::mm_kernels().name);
  if (options.json) {
    fmt::print("{}\n", nlohmann::json{{"model", loaded.name},
                                      {"chip", chip.name},
                                      {"precision", precision},
                                      {"kernels", kernels},
                                      {"threads", 1},
                                      {"tokens", options.generate},
                                      {"reps", options.reps},
                                      {"functional_sim_tg_tokens_per_s", sim.mean},
                                      {"functional_sim_tg_sd", sim.sd},
                                      {"policy_host_tg_tokens_per_s", host.mean},
                                      {"policy_host_tg_sd", host.sd},
                                      {"slowdown_vs_host", ratio}}
                           .dump(2));
    return;
  }
  if (options.csv) {
    fmt::print("{}",
               report::csv_row({"test", "tokens", "tokens_per_second", "sd", "slowdown_vs_host_policy"}));
    fmt::print("{}", report::csv_row({"sim_tg", std::to_string(options.generate), fmt::format("{}", sim.mean),
                                      fmt::format("{}", sim.sd), fmt::format("{}", ratio)}));
    fmt::print("{}", report::csv_row({"host_policy_tg", std::to_string(options.generate),
                                      fmt::format("{}", host.mean), fmt::format("{}", host.sd), "1"}));
    return;
  }
  fmt::print("functional simulation: {} on {} ({}), 1 thread, {} kernels, {} reps\n", loaded.name, chip.name,
             precision, kernels, options.reps);
  fmt::print("| {:<16} | {:>18} | {:>24} |\n", "test", "t/s", "slowdown vs host policy");
  fmt::print("| {:<16} | {:>9.2f} ± {:<6.2f} | {:>23.2f}x |\n", fmt::format("sim tg{}", options.generate),
             sim.mean, sim.sd, ratio);
  fmt::print("| {:<16} | {:>9.2f} ± {:<6.2f} | {:>23.2f}x |\n",
             fmt::format("host policy tg{}", options.generate), host.mean, host.sd, 1.0);
  fmt::print("target (issue 8): the simulator at most 1.5x slower than the host running the same numerics\n");
}

bool run_reference_bench(const ReferenceBenchOptions& options) {
  const engine::ChipConfig chip = engine::load_chip(options.chip);
  const bool measured_board = chip.name == engine::kReferenceBoardChip;
  if (options.validate && !measured_board)
    fail("engine bench --validate: the reference measurements are of the {} board, not {}",
         engine::kReferenceBoardChip, chip.name);
  nlohmann::json rows = nlohmann::json::array();
  int checked = 0, outside = 0;
  double worst = 0;
  if (!options.json) {
    fmt::print(
        "chip {} ({} MHz), schedule: reference (apex-compute compiler lowering: URAM-bank tiles, one dot "
        "product "
        "per output row, ops in order without DMA/compute overlap except streamed operands; attention = "
        "scores spilled to DRAM, softmax on <= 64 rows; engine.md §8), timing-only\n",
        chip.name, chip.clock_mhz);
    fmt::print("| {:<32} | {:<16} | {:>14} | {:>14} | {:>8} |\n", "kernel", "shape",
               measured_board ? "measured" : "-", "simulated", "error");
    fmt::print("|{:-<34}|{:-<18}|{:-<16}|{:-<16}|{:-<10}|\n", "", "", "", "", "");
  }
  for (const engine::ReferenceKernel& kernel : engine::reference_kernels()) {
    if (!options.kernel_filter.empty() && kernel.name.find(options.kernel_filter) == std::string::npos)
      continue;
    const engine::ReferenceResult r = engine::run_reference_kernel(chip, kernel);
    const bool gflops = kernel.metric == engine::ReferenceMetric::gflops;
    ++checked;
    if (measured_board) {
      worst = std::max(worst, std::abs(r.error));
      if (std::abs(r.error) > engine::kReferenceTolerance) ++outside;
    }
    nlohmann::json row = {{"kernel", kernel.name},         {"group", kernel.group},
                          {"shape", kernel.shape},         {"metric", gflops ? "gflops" : "cycles"},
                          {"simulated", r.simulated},      {"cycles", r.cycles},
                          {"seconds", r.seconds},          {"flops", kernel.flops},
                          {"instructions", r.instructions}};
    if (measured_board) {
      row["measured"] = kernel.measured;
      row["error"] = r.error;
    }
    rows.push_back(row);
    if (options.json) continue;
    auto value = [&](double v) {
      return gflops ? fmt::format("{:.2f} GFLOP/s", v)
                    : fmt::format("{}", static_cast<int64_t>(std::llround(v)));
    };
    fmt::print("| {:<32} | {:<16} | {:>14} | {:>14} | {:>8} |\n", kernel.name, kernel.shape,
               measured_board ? value(kernel.measured) : "-", value(r.simulated),
               measured_board ? fmt::format("{:+.1f} %", 100 * r.error) : "-");
  }
  const bool ok = !options.validate || outside == 0;
  if (options.json) {
    nlohmann::json out = {{"chip", chip.name}, {"schedule", "reference"}, {"kernels", rows}};
    if (measured_board) {
      out["tolerance"] = engine::kReferenceTolerance;
      out["outside_tolerance"] = outside;
      out["worst_abs_error"] = worst;
    }
    fmt::print("{}\n", out.dump(2));
  } else if (measured_board) {
    fmt::print(
        "{} kernels, {} outside ±{:.0f} %, worst |error| {:.1f} % (measured: engine-kernels.md, KU+ "
        "board at 333 MHz)\n",
        checked, outside, 100 * engine::kReferenceTolerance, 100 * worst);
  }
  return ok;
}

}  // namespace xpusim::cli
