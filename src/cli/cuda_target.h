// `--chip cuda`: the entry points cmd_run / cmd_bench (and later serve) call to run on an NVIDIA GPU through
// src/cuda. Always compiled; in a build without CUDA (no nvcc at configure time, XPUSIM_HAVE_CUDA unset)
// every entry point fails with a message saying so. Non-goals: option parsing and printing (the commands own
// them).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "model/config.h"
#include "model/loader.h"
#include "model/weights.h"
#include "runtime/generate.h"

namespace xpusim::cli {

constexpr std::string_view kCudaChipName = "cuda";

bool cuda_target_built();  // this binary has the CUDA target
bool is_cuda_chip(std::string_view chip);

struct CudaRunInfo {
  std::string device;  // "NVIDIA H100 80GB HBM3 (sm_90, 79 GiB)"
  size_t device_weight_bytes = 0;
};

// Generation on the GPU through the one generation loop (greedy argmax on the device; other sampling through
// runtime::Sampler); text streams through `on_text` as on the host. xpusim::Error without CUDA or without a
// usable device.
runtime::GenerateResult run_generate_cuda(const model::LoadedModel& loaded, const runtime::TextCodec& codec,
                                          std::vector<int32_t> prompt_ids,
                                          const runtime::GenerateOptions& options,
                                          CudaRunInfo* info = nullptr,
                                          const std::function<void(std::string_view)>& on_text = {});

struct CudaBenchFigures {
  std::string device;
  int64_t pp_tokens = 0, tg_tokens = 0;
  double pp_seconds = 0, tg_seconds = 0;  // medians over the repetitions
  double pp_tokens_per_second = 0, tg_tokens_per_second = 0;
  size_t device_weight_bytes = 0;
};

// pp: one prefill of pp_tokens; tg: tg_tokens greedy decode steps; both from an empty cache, after a
// warm-up, median of `repetitions`. 0 tokens skips that half.
CudaBenchFigures run_bench_cuda(const model::ModelConfig& config, const model::Weights& weights,
                                int64_t pp_tokens, int64_t tg_tokens, int repetitions);

}  // namespace xpusim::cli
