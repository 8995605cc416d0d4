#include "cuda/cuda_generate.h"

namespace xpusim::cuda {

runtime::GenerateResult generate_cuda(CudaExecutor& executor, const runtime::TextCodec& codec,
                                      std::vector<int32_t> prompt_ids,
                                      const runtime::GenerateOptions& options,
                                      const std::function<void(std::string_view)>& on_text) {
  CudaStepRunner runner(executor);
  return runtime::generate(runner, codec, std::move(prompt_ids), options, on_text);
}

}  // namespace xpusim::cuda
