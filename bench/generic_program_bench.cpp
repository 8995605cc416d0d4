// Generic (position-independent) engine programs on llama-3.2-1b / ue-ku5p / ue-if4, printed as counters:
//   run 128 + 128: the `xpusim run --timing-only -n 128` path (EngineRunner: prefill of a 128-token prompt,
//   128 decoded tokens) with generic programs (arg 1) or programs specialised to every step (arg 0): wall
//   time, programs compiled, decode ms/token and decode time as a fraction of the DRAM-bandwidth bound
//   ((weights + KV bytes) / DRAM bandwidth, summed over the decode steps; target >= 0.85);
//   decode after a 1024-token prompt, generic (1) vs specialised (0);
//   SmolLM2-135M functional (when its GGUF is cached): host decode tokens/s, generic (1) vs specialised (0);
//   decode program: compile time vs on-disk cache key (incl. the executable digest) / store / load time and
//   file size.
// Nothing here asserts; the figures go to docs/validation.md.
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <vector>

#include <unistd.h>

#include "compiler/engine_runner.h"
#include "compiler/parallel_step.h"
#include "compiler/program_cache.h"
#include "engine/chip_config.h"
#include "model/loader.h"
#include "model/presets.h"

namespace xpusim::compiler {
namespace {

using clock = std::chrono::steady_clock;

double since(clock::time_point start) { return std::chrono::duration<double>(clock::now() - start).count(); }

model::ModelConfig llama_1b() { return model::find_preset("llama-3.2-1b").value().config; }

void BM_Llama1bRun128Plus128(benchmark::State& state) {
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const model::ModelConfig config = llama_1b();
  const bool generic = state.range(0) != 0;
  double wall = 0, decode_s = 0, bound_s = 0, prefill_s = 0;
  int64_t compiled = 0;
  for (auto _ : state) {
    const auto start = clock::now();
    EngineRunner runner(chip, config, nullptr,
                        {.format = engine::WeightFormat::ue_if4,
                         .kv_capacity = 256,
                         .max_step_tokens = 64,
                         .functional = false,
                         .engines = 1,
                         .generic_programs = generic});
    const std::vector<int32_t> prompt(128, 1);
    prefill_s = runner.forward(prompt).cost.seconds;
    const double bandwidth = chip.dram_aggregate_gbps * 1e9;
    for (int k = 0; k < 128; ++k) {
      const int32_t token = 1;
      const int64_t context = runner.position();
      decode_s += runner.forward(std::span<const int32_t>(&token, 1)).cost.seconds;
      bound_s += (static_cast<double>(runner.plan().weight_bytes) +
                  static_cast<double>(config.kv_bytes_per_token(2) * (context + 1))) /
                 bandwidth;
    }
    wall = since(start);
    compiled = runner.program_stats().compiled;
  }
  state.counters["wall_s"] = wall;
  state.counters["generic_programs_compiled"] = static_cast<double>(compiled);
  state.counters["prefill_ms"] = prefill_s * 1e3;
  state.counters["decode_ms_per_token"] = decode_s / 128 * 1e3;
  state.counters["decode_fraction_of_dram_bound"] = bound_s / decode_s;
}
BENCHMARK(BM_Llama1bRun128Plus128)->Arg(0)->Arg(1)->Unit(benchmark::kSecond)->Iterations(1);

// Decode at a long context: 8 steps after a 1024-token prompt.
void BM_Llama1bDecodeAt1024(benchmark::State& state) {
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const model::ModelConfig config = llama_1b();
  double decode_s = 0, bound_s = 0;
  for (auto _ : state) {
    EngineRunner runner(chip, config, nullptr,
                        {.format = engine::WeightFormat::ue_if4,
                         .kv_capacity = 1040,
                         .max_step_tokens = 64,
                         .functional = false,
                         .engines = 1,
                         .generic_programs = state.range(0) != 0});
    runner.forward(std::vector<int32_t>(1024, 1));
    for (int k = 0; k < 8; ++k) {
      const int32_t token = 1;
      const int64_t context = runner.position();
      decode_s += runner.forward(std::span<const int32_t>(&token, 1)).cost.seconds;
      bound_s += (static_cast<double>(runner.plan().weight_bytes) +
                  static_cast<double>(config.kv_bytes_per_token(2) * (context + 1))) /
                 (chip.dram_aggregate_gbps * 1e9);
    }
  }
  state.counters["decode_ms_per_token"] = decode_s / 8 * 1e3;
  state.counters["decode_fraction_of_dram_bound"] = bound_s / decode_s;
}
BENCHMARK(BM_Llama1bDecodeAt1024)->Arg(0)->Arg(1)->Unit(benchmark::kSecond)->Iterations(1);

void BM_SmolLM2FunctionalDecode(benchmark::State& state) {
  const std::optional<model::Preset> preset = model::find_preset("smollm2-135m");
  const auto path = preset ? model::find_cached_checkpoint(*preset) : std::nullopt;
  if (!path) {
    state.SkipWithError("SmolLM2-135M checkpoint not cached");
    return;
  }
  const model::LoadedModel loaded = model::load_model(path->string());
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  double prefill_s = 0, decode_s = 0;
  for (auto _ : state) {
    EngineRunner runner(chip, loaded.config, &loaded.weights,
                        {.format = engine::WeightFormat::ue_if4,
                         .kv_capacity = 64,
                         .max_step_tokens = 64,
                         .generic_programs = state.range(0) != 0});
    auto start = clock::now();
    StepOutput out = runner.forward(std::vector<int32_t>{1, 9690, 314, 253, 3575, 282, 4649, 47});
    prefill_s = since(start);
    start = clock::now();
    for (int k = 0; k < 16; ++k) {
      const int32_t next = out.argmax;
      out = runner.forward(std::span<const int32_t>(&next, 1));
    }
    decode_s = since(start);
  }
  state.counters["prefill_s"] = prefill_s;
  state.counters["decode_tokens_per_s"] = 16 / decode_s;
}
BENCHMARK(BM_SmolLM2FunctionalDecode)->Arg(0)->Arg(1)->Unit(benchmark::kSecond)->Iterations(1);

void BM_Llama1bDecodeProgramCache(benchmark::State& state) {
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const DramPlan plan = plan_dram(llama_1b(), engine::WeightFormat::ue_if4, {64, 1, 320}, chip);
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("xpusim_bench_programs_" + std::to_string(getpid())))
          .string();
  const ProgramCache cache(dir);
  double compile_s = 0, key_s = 0, store_s = 0, load_s = 0, bytes = 0, instructions = 0;
  for (auto _ : state) {
    auto start = clock::now();
    const StepPrograms programs = compile_generic_step_programs(plan, chip, 1);
    compile_s = since(start);
    start = clock::now();
    const uint64_t key = program_key(plan, chip, 1, "generic-1").value();  // first call: executable digest
    key_s = since(start);
    start = clock::now();
    cache.store(key, programs.engines);
    store_s = since(start);
    start = clock::now();
    const auto loaded = cache.load(key);
    load_s = since(start);
    benchmark::DoNotOptimize(loaded);
    bytes = static_cast<double>(std::filesystem::file_size(cache.path_for(key)));
    instructions = static_cast<double>(programs.max_instructions());
  }
  std::filesystem::remove_all(dir);
  state.counters["compile_ms"] = compile_s * 1e3;
  state.counters["key_ms"] = key_s * 1e3;
  state.counters["cache_store_ms"] = store_s * 1e3;
  state.counters["cache_load_ms"] = load_s * 1e3;
  state.counters["file_MB"] = bytes / 1e6;
  state.counters["instructions"] = instructions;
}
BENCHMARK(BM_Llama1bDecodeProgramCache)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace xpusim::compiler

BENCHMARK_MAIN();
