// Engine compiler quality and speed on llama-3.2-1b / ue-ku5p (issue 5 targets), printed as counters:
//   decode ue-if4: fraction of the DRAM-bandwidth bound ((weight + KV bytes per token) / DRAM bandwidth over
//   the simulated step time; target >= 0.85), prefill of 512 tokens: fraction of the compute peak (target >=
//   0.90), compile time of one decode step (target < 10 s), timing-only 128-token prompt + 128 decoded tokens
//   (wall, target < 10 s). Nothing here asserts; the figures go to docs/validation.md.
#include <benchmark/benchmark.h>

#include <chrono>

#include "chips/loader.h"
#include "compiler/cost_model.h"
#include "compiler/lower_step.h"
#include "compiler/memory_plan.h"
#include "engine/chip_config.h"
#include "model/presets.h"

namespace xpusim::compiler {
namespace {

model::ModelConfig llama_1b() { return model::find_preset("llama-3.2-1b").value().config; }

void BM_Llama1bDecodeIf4(benchmark::State& state) {
  const chips::ChipSpec chip = chips::load_chip("ue-ku5p");
  const engine::ChipConfig engine_chip = engine::load_chip("ue-ku5p");
  const model::ModelConfig config = llama_1b();
  const int64_t context = state.range(0);
  double fraction = 0, seconds = 0, bytes = 0;
  for (auto _ : state) {
    auto cost_model = make_engine_cost_model(chip, config, "ue-if4");
    const chips::StepCost step = cost_model->step(chips::StepShape{{{1, context}}});
    const double kv = static_cast<double>(config.kv_bytes_per_token(2) * (context + 1));
    const double bound = (cost_model->plan().weight_bytes + kv) / (engine_chip.dram_aggregate_gbps * 1e9);
    fraction = bound / step.seconds;
    seconds = step.seconds;
    bytes = step.bytes_per_level[1];
  }
  state.counters["fraction_of_dram_bound"] = fraction;
  state.counters["step_ms"] = seconds * 1e3;
  state.counters["dram_MB_per_token"] = bytes / 1e6;
}
BENCHMARK(BM_Llama1bDecodeIf4)->Arg(128)->Arg(1024)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_Llama1bPrefill512(benchmark::State& state) {
  const chips::ChipSpec chip = chips::load_chip("ue-ku5p");
  const engine::ChipConfig engine_chip = engine::load_chip("ue-ku5p");
  double utilization = 0, seconds = 0;
  for (auto _ : state) {
    auto cost_model = make_engine_cost_model(chip, llama_1b(), "ue-if4");
    const chips::StepCost step = cost_model->step(chips::StepShape{{{512, 0}}});
    utilization = step.flops / step.seconds / engine_chip.peak_flops();
    seconds = step.seconds;
  }
  state.counters["fraction_of_compute_peak"] = utilization;
  state.counters["step_s"] = seconds;
}
BENCHMARK(BM_Llama1bPrefill512)->Unit(benchmark::kSecond)->Iterations(1);

void BM_Llama1bCompileDecodeStep(benchmark::State& state) {
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const model::ModelConfig config = llama_1b();
  size_t instructions = 0;
  for (auto _ : state) {
    const DramPlan plan = plan_dram(config, engine::WeightFormat::ue_if4, {1, 1, 256}, chip);
    instructions = compile_step(plan, chip, StepRequest{{{1, 128}}}).program.size();
  }
  state.counters["instructions"] = static_cast<double>(instructions);
}
BENCHMARK(BM_Llama1bCompileDecodeStep)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_Llama1bTimingOnly128Plus128(benchmark::State& state) {
  const chips::ChipSpec chip = chips::load_chip("ue-ku5p");
  double simulated = 0;
  for (auto _ : state) {
    auto cost_model = make_engine_cost_model(chip, llama_1b(), "ue-if4");
    simulated = cost_model->step(chips::StepShape{{{128, 0}}}).seconds;
    for (int64_t k = 0; k < 127; ++k) simulated += cost_model->step(chips::StepShape{{{1, 128 + k}}}).seconds;
  }
  state.counters["simulated_s"] = simulated;
}
BENCHMARK(BM_Llama1bTimingOnly128Plus128)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
}  // namespace xpusim::compiler

BENCHMARK_MAIN();
