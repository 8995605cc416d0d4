// `xpusim bench --chip ue-*`: functional-simulation speed (issue 8, last target). Decode tokens/s of the
// model on the functional engine simulator (compiler::EngineRunner) against the host running the same engine
// numerics with the same fast kernels (compiler::PolicyExecutor, bit-identical logits), one thread each, and
// their ratio. The prompt is prefilled untimed (it includes the one-time weight quantization).
// Non-goals: the simulated chip's own speed (`xpusim run --chip ue-*` reports that), host kernels (bench
// --chip host).
#pragma once

#include <cstdint>
#include <string>

namespace xpusim::cli {

struct FunctionalBenchOptions {
  std::string model = "smollm2-135m";
  std::string chip = "ue-ku5p";
  std::string precision;  // empty: ue-if4
  int64_t generate = 32;  // timed decode tokens per repetition
  int reps = 2;
  bool json = false, csv = false;
};

void run_bench_functional(const FunctionalBenchOptions& options);

// `xpusim engine bench --schedule reference` (the default): every kernel of the reference engine's
// measurement table (engine/reference_kernels.h) built with the reference compiler's schedule and run
// timing-only on `chip`; prints measured, simulated and the error when the chip is the measured board.
// Returns false when `validate` is set and a kernel is outside the 5 % tolerance (or the chip has no
// measurements).
struct ReferenceBenchOptions {
  std::string chip = "ue-ku5p";
  std::string kernel_filter;
  bool json = false, validate = false;
};
bool run_reference_bench(const ReferenceBenchOptions& options);

}  // namespace xpusim::cli
