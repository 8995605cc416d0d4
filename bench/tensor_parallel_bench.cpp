// Tensor-parallel scaling on ue-alveo-u50-x8 (compiler/tensor_parallel.h, issue 5): for each model and 1, 2,
// 4 and 8 engines, a timing-only EngineRunner prefills a 512-token prompt in one step and decodes 8 tokens at
// context 512. Counters: simulated prefill ms and decode ms/token, DRAM bytes per decode token, the share
// of the chip's 22.92 GB/s aggregate DRAM bandwidth the decode reaches, the share of the engines' compute
// peak the prefill reaches, and the host wall time of both simulations. Nothing here asserts; the figures
// go to docs/compiler.md and docs/validation.md.
#include <benchmark/benchmark.h>

#include <chrono>
#include <vector>

#include "compiler/engine_runner.h"
#include "engine/chip_config.h"
#include "model/presets.h"

namespace xpusim::compiler {
namespace {

const char* const kModels[] = {"llama-3.2-1b", "qwen3-1.7b", "gemma-3-1b"};

void BM_AlveoScaling(benchmark::State& state) {
  const model::ModelConfig config = model::find_preset(kModels[state.range(0)]).value().config;
  const int64_t engines = state.range(1);
  const engine::ChipConfig chip = engine::load_chip("ue-alveo-u50-x8");
  constexpr int64_t kPrompt = 512, kDecode = 8;
  double prefill_s = 0, decode_s = 0, decode_bytes = 0, prefill_flops = 0, peak = 0;
  double prefill_wall = 0, decode_wall = 0;
  for (auto _ : state) {
    using clock = std::chrono::steady_clock;
    auto start = clock::now();
    EngineRunner runner(chip, config, nullptr,
                        {.format = engine::WeightFormat::ue_if4,
                         .kv_capacity = kPrompt + kDecode,
                         .max_step_tokens = kPrompt,
                         .functional = false,
                         .engines = engines});
    const std::vector<int32_t> prompt(kPrompt, 1);
    const StepOutput prefill = runner.forward(prompt);
    prefill_wall = std::chrono::duration<double>(clock::now() - start).count();
    prefill_s = prefill.cost.seconds;
    prefill_flops = prefill.cost.flops;
    peak = runner.chip().peak_flops();
    start = clock::now();
    decode_s = decode_bytes = 0;
    for (int64_t i = 0; i < kDecode; ++i) {
      const int32_t token = 1;
      const StepOutput out = runner.forward(std::span<const int32_t>(&token, 1));
      decode_s += out.cost.seconds;
      decode_bytes += out.cost.bytes_per_level[1];
    }
    decode_wall = std::chrono::duration<double>(clock::now() - start).count();
  }
  state.counters["prefill512_ms"] = prefill_s * 1e3;
  state.counters["decode_ms_per_token"] = decode_s / kDecode * 1e3;
  state.counters["decode_MB_per_token"] = decode_bytes / kDecode / 1e6;
  state.counters["decode_dram_share"] = decode_bytes / decode_s / (chip.dram_aggregate_gbps * 1e9);
  state.counters["prefill_compute_share"] = prefill_flops / prefill_s / peak;
  state.counters["wall_prefill_s"] = prefill_wall;
  state.counters["wall_decode8_s"] = decode_wall;
}
BENCHMARK(BM_AlveoScaling)
    ->ArgsProduct({{0, 1, 2}, {1, 2, 4, 8}})
    ->ArgNames({"model", "engines"})
    ->Unit(benchmark::kSecond)
    ->Iterations(1);

}  // namespace
}  // namespace xpusim::compiler

BENCHMARK_MAIN();
