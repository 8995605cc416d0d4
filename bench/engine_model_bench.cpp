// Functional-simulation speed on a real model (issue 8, last target): decode tokens/s of SmolLM2-135M
// on the functional engine simulator (compiler::EngineRunner) against the host running the same engine
// numerics (compiler::PolicyExecutor), for ue-if4 and bf16 weights. Skips when the GGUF is absent.
// Figures are printed as counters (tokens_per_s); nothing here asserts time.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "compiler/engine_runner.h"
#include "compiler/policy_executor.h"
#include "engine/chip_config.h"
#include "model/loader.h"
#include "runtime/sampler.h"

namespace xpusim::compiler {
namespace {

constexpr int kPromptTokens = 8;
constexpr int kDecodeTokens = 32;
constexpr int kIterations = 2;  // timed iterations of kDecodeTokens each

const model::LoadedModel* smollm2() {
  static const std::unique_ptr<model::LoadedModel> loaded = []() -> std::unique_ptr<model::LoadedModel> {
    std::filesystem::path gguf;
    if (const char* dir = std::getenv("XPUSIM_MODEL_DIR"))
      gguf = std::filesystem::path(dir) / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf";
    if (gguf.empty() || !std::filesystem::exists(gguf))
      if (const char* home = std::getenv("HOME"))
        gguf =
            std::filesystem::path(home) / ".cache/xpusim/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf";
    if (!std::filesystem::exists(gguf)) return nullptr;
    return std::make_unique<model::LoadedModel>(model::load_model(gguf.string()));
  }();
  return loaded.get();
}

std::vector<int32_t> prompt() {
  std::vector<int32_t> tokens(kPromptTokens);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>(1 + i * 977 % 40000);
  return tokens;
}

// Prefill (untimed, with the one-time weight preparation), then kDecodeTokens greedy decode steps per
// iteration.
template <typename Forward>
void decode_loop(benchmark::State& state, Forward&& forward) {
  int32_t next = forward(prompt());
  int64_t tokens = 0;
  for (auto _ : state) {
    for (int t = 0; t < kDecodeTokens; ++t) next = forward({next});
    tokens += kDecodeTokens;
  }
  state.counters["tokens_per_s"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

void BM_PolicyExecutorDecode(benchmark::State& state, engine::WeightFormat format) {
  const model::LoadedModel* loaded = smollm2();
  if (loaded == nullptr) return state.SkipWithError("SmolLM2-135M GGUF not found");
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const int64_t capacity = kPromptTokens + kDecodeTokens * kIterations + 1;
  PolicyExecutor host(chip, loaded->config, loaded->weights, format, capacity);
  decode_loop(state,
              [&](std::vector<int32_t> tokens) { return runtime::argmax_first(host.forward(tokens)); });
}

void BM_SimulatorDecode(benchmark::State& state, engine::WeightFormat format) {
  const model::LoadedModel* loaded = smollm2();
  if (loaded == nullptr) return state.SkipWithError("SmolLM2-135M GGUF not found");
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const int64_t capacity = kPromptTokens + kDecodeTokens * kIterations + 1;
  EngineRunner runner(chip, loaded->config, &loaded->weights,
                      RunnerOptions{.format = format, .kv_capacity = capacity});
  decode_loop(state, [&](std::vector<int32_t> tokens) { return runner.forward(tokens).argmax; });
}

BENCHMARK_CAPTURE(BM_PolicyExecutorDecode, ue_if4, engine::WeightFormat::ue_if4)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(kIterations);
BENCHMARK_CAPTURE(BM_SimulatorDecode, ue_if4, engine::WeightFormat::ue_if4)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(kIterations);
BENCHMARK_CAPTURE(BM_PolicyExecutorDecode, bf16, engine::WeightFormat::bf16)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(kIterations);
BENCHMARK_CAPTURE(BM_SimulatorDecode, bf16, engine::WeightFormat::bf16)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(kIterations);

}  // namespace
}  // namespace xpusim::compiler

BENCHMARK_MAIN();
