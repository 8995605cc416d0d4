#include "cuda/cuda_bench.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/cuda_executor.h"

namespace xpusim::cuda {
namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

CudaBenchResult bench_cuda(const model::ModelConfig& config, const model::Weights& weights,
                           const CudaBenchOptions& options) {
  if (options.repetitions < 1)
    fail("bench --chip cuda: repetitions must be >= 1 (got {})", options.repetitions);
  CudaExecutor executor(config, weights,
                        CudaOptions{std::max(options.pp_tokens, options.tg_tokens) + 1, true});
  CudaBenchResult result;
  result.device = device_description();
  result.pp_tokens = options.pp_tokens;
  result.tg_tokens = options.tg_tokens;
  result.weight_bytes = executor.weight_bytes();
  // Deterministic token ids spread over the vocabulary.
  std::vector<int32_t> prompt(static_cast<size_t>(options.pp_tokens));
  for (size_t i = 0; i < prompt.size(); ++i)
    prompt[i] = static_cast<int32_t>((i * 7919 + 13) % static_cast<size_t>(config.vocab_size));

  if (options.pp_tokens > 0) {
    std::vector<double> times;
    for (int rep = 0; rep <= options.repetitions; ++rep) {  // rep 0 warms up
      executor.reset();
      const double start = now_seconds();
      executor.forward_greedy(prompt);
      if (rep > 0) times.push_back(now_seconds() - start);
    }
    result.pp_seconds = median(times);
  }
  if (options.tg_tokens > 0) {
    std::vector<double> times;
    for (int rep = 0; rep <= options.repetitions; ++rep) {
      executor.reset();
      int32_t token = 1 % static_cast<int32_t>(config.vocab_size);
      const double start = now_seconds();
      for (int64_t i = 0; i < options.tg_tokens; ++i)
        token = executor.forward_greedy(std::span<const int32_t>(&token, 1));
      if (rep > 0) times.push_back(now_seconds() - start);
    }
    result.tg_seconds = median(times);
  }
  return result;
}

}  // namespace xpusim::cuda
