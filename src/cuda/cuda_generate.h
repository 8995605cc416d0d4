// The CUDA target in the one generation loop (runtime/generate.h): CudaStepRunner adapts CudaExecutor to
// runtime::StepRunner. Greedy sampling runs on the GPU (argmax, 4 bytes back per step); other sampling copies
// the last logits row back and uses runtime::Sampler, so sampled text matches the host target's for the same
// logits; stop strings and streaming are the loop's. Non-goals: batching several sequences.
#pragma once

#include <cstdint>
#include <vector>

#include "cuda/cuda_executor.h"
#include "runtime/generate.h"
#include "runtime/step_runner.h"

namespace xpusim::cuda {

class CudaStepRunner final : public runtime::StepRunner {
 public:
  explicit CudaStepRunner(CudaExecutor& executor) : m_executor(executor) {}
  const model::ModelConfig& config() const override { return m_executor.config(); }
  int64_t position() const override { return m_executor.position(); }
  runtime::StepOutput forward(std::span<const int32_t> tokens, bool greedy_only) override {
    if (greedy_only) return {{}, m_executor.forward_greedy(tokens)};
    return {m_executor.forward(tokens), -1};
  }

 private:
  CudaExecutor& m_executor;
};

// `executor` must be at position 0. The same loop and result as runtime::generate on the host.
runtime::GenerateResult generate_cuda(CudaExecutor& executor, const runtime::TextCodec& codec,
                                      std::vector<int32_t> prompt_ids,
                                      const runtime::GenerateOptions& options,
                                      const std::function<void(std::string_view)>& on_text = {});

}  // namespace xpusim::cuda
