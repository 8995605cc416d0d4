// The generation loop on the CUDA target: prefill the prompt in one step, then one token per step until an
// end-of-sequence id, the token budget or the context ends it. Greedy sampling runs on the GPU (argmax,
// 4 bytes back per step); other sampling copies the last logits row back and uses runtime::Sampler, so
// sampled text matches the host target's for the same logits. Stop strings cut the final text (no
// streaming hold-back: the text is delivered once, at the end). Non-goals: batching several sequences.
#pragma once

#include <cstdint>
#include <vector>

#include "cuda/cuda_executor.h"
#include "runtime/generate.h"

namespace xpusim::cuda {

// `executor` must be at position 0. Fills the same GenerateResult fields as runtime::generate.
runtime::GenerateResult generate_cuda(CudaExecutor& executor, const runtime::TextCodec& codec,
                                      std::vector<int32_t> prompt_ids,
                                      const runtime::GenerateOptions& options);

}  // namespace xpusim::cuda
