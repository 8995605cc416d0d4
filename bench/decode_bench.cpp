// Host decode speed of the default model (SmolLM2-135M; the real Q4_1 GGUF if it is in the model cache, else
// synthetic bf16 weights of the same shape; the label says which). One iteration = one single-token decode
// step at a context of 16..272 tokens; items_per_second is decode tokens/s. Target (issue 2): >= 20 tokens/s
// on 2 cores.
#include <benchmark/benchmark.h>

#include "exec/executor.h"
#include "model/loader.h"

namespace {

void decode_step(benchmark::State& state) {
  static const xpusim::model::LoadedModel model = xpusim::model::load_model("smollm2-135m");
  xpusim::exec::Executor executor(model.config, model.weights,
                                  xpusim::exec::ExecOptions{static_cast<int>(state.range(0)), 512});
  const std::vector<int32_t> prompt(16, 42);
  executor.forward(prompt);
  for (auto _ : state) {
    if (executor.position() >= 272) {
      state.PauseTiming();
      executor.reset();
      executor.forward(prompt);
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(executor.forward(std::vector<int32_t>{7}));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(model.synthetic ? "synthetic weights" : "real Q4_1 GGUF");
}
BENCHMARK(decode_step)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
