// Timing hooks of the CUDA target for `xpusim bench --chip cuda` (llama-bench style, as the host bench):
// pp = one prefill step of pp_tokens tokens from an empty cache; tg = tg_tokens single-token greedy decode
// steps from an empty cache (each step: host graph build + kernels + a 4-byte argmax copy). One untimed
// warm-up of each first; the figures are the median of `repetitions` runs, timed with the host clock around
// synchronised work. Non-goals: printing (the CLI formats), batched decode.
#pragma once

#include <cstdint>
#include <string>

#include "model/config.h"
#include "model/weights.h"

namespace xpusim::cuda {

struct CudaBenchOptions {
  int64_t pp_tokens = 512;  // 0 skips pp
  int64_t tg_tokens = 128;  // 0 skips tg
  int repetitions = 3;
};

struct CudaBenchResult {
  std::string device;  // cuda/cuda_check.h device_description()
  int64_t pp_tokens = 0;
  int64_t tg_tokens = 0;
  double pp_seconds = 0;  // median
  double tg_seconds = 0;  // median, all tg_tokens steps
  size_t weight_bytes = 0;
  double pp_tokens_per_second() const {
    return pp_seconds > 0 ? static_cast<double>(pp_tokens) / pp_seconds : 0;
  }
  double tg_tokens_per_second() const {
    return tg_seconds > 0 ? static_cast<double>(tg_tokens) / tg_seconds : 0;
  }
};

// xpusim::Error when no CUDA device is usable or the model cannot run on the GPU.
CudaBenchResult bench_cuda(const model::ModelConfig& config, const model::Weights& weights,
                           const CudaBenchOptions& options);

}  // namespace xpusim::cuda
