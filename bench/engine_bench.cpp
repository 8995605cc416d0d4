// Engine simulator speed: timing-only simulated cycles per wall second on matmul-dominated programs
// (target >= 1e9) and functional simulated multiply-add throughput (target >= 5 GFLOP/s on 2 cores).
#include <benchmark/benchmark.h>

#include "engine/kernels.h"
#include "engine/simulator.h"

namespace xpusim::engine {
namespace {

void run_kernel(benchmark::State& state, const char* chip_name, bool functional, KernelShape shape,
                WeightFormat fmt) {
  const ChipConfig chip = load_chip(chip_name);
  const Kernel kernel = make_matmul_kernel(chip, shape, {.fmt = fmt});
  int64_t cycles = 0;
  double flops = 0;
  for (auto _ : state) {
    Simulator sim(chip, RunOptions{.functional = functional});
    sim.load_program(0, kernel.program);
    cycles += sim.run().cycles;
    flops += kernel.flops;
  }
  state.counters["simulated_cycles_per_s"] =
      benchmark::Counter(static_cast<double>(cycles), benchmark::Counter::kIsRate);
  state.counters["simulated_flops_per_s"] = benchmark::Counter(flops, benchmark::Counter::kIsRate);
}

void BM_TimingOnlyMatmul1024(benchmark::State& state) {
  run_kernel(state, "ue-kintex7", false, {1024, 1024, 1024}, WeightFormat::bf16);
}
void BM_TimingOnlyMatmulDecode(benchmark::State& state) {
  run_kernel(state, "ue-kintex7", false, {1, 4096, 4096}, WeightFormat::ue_if4);
}
void BM_FunctionalMatmul512(benchmark::State& state) {
  run_kernel(state, "ue-kintex7", true, {512, 512, 512}, WeightFormat::bf16);
}
void BM_FunctionalMatmulIf4(benchmark::State& state) {
  run_kernel(state, "ue-kintex7", true, {256, 1024, 1024}, WeightFormat::ue_if4);
}

BENCHMARK(BM_TimingOnlyMatmul1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TimingOnlyMatmulDecode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FunctionalMatmul512)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FunctionalMatmulIf4)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace xpusim::engine

BENCHMARK_MAIN();
