// Speed of the family cost models: one estimate_run (prefill + every decode step) of llama-3.2-1b per chip.
// Targets: well under 100 ms for 128 + 128 tokens on any chip (brief "chipmodels"); the compare target of
// issue 6 (8 chips, prompt 512, 128 generated, < 5 s wall) builds on it. Each iteration builds a fresh model,
// so graph building and the per-op cache are included.
#include <benchmark/benchmark.h>

#include "chips/cost_model.h"
#include "chips/loader.h"
#include "model/presets.h"

namespace {

const char* kChips[] = {"cpu-host",     "cpu-xeon-8480",        "gpu-h100-sxm", "tpu-v5e",
                        "npu-apple-m4", "npu-intel-lunar-lake", "lpu-groq",     "gpu-jetson-orin-nano"};

void estimate_run_llama_1b(benchmark::State& state) {
  static const auto config = xpusim::model::find_preset("llama-3.2-1b")->config;
  const auto chip = xpusim::chips::load_chip(kChips[state.range(0)]);
  const int64_t prompt = state.range(1);
  for (auto _ : state) {
    auto model = xpusim::chips::make_cost_model(chip, config, "");
    benchmark::DoNotOptimize(xpusim::chips::estimate_run(*model, {1, prompt, 128}));
  }
  state.SetLabel(chip.name);
}
BENCHMARK(estimate_run_llama_1b)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5, 6, 7}, {128, 512}})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
