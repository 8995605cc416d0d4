#include "cli/cuda_target.h"

#include "core/error.h"

#if defined(XPUSIM_HAVE_CUDA)
#include "cuda/cuda_bench.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_executor.h"
#include "cuda/cuda_generate.h"
#endif

namespace xpusim::cli {

bool is_cuda_chip(std::string_view chip) { return chip == kCudaChipName; }

#if defined(XPUSIM_HAVE_CUDA)

bool cuda_target_built() { return true; }

runtime::GenerateResult run_generate_cuda(const model::LoadedModel& loaded, const runtime::TextCodec& codec,
                                          std::vector<int32_t> prompt_ids,
                                          const runtime::GenerateOptions& options, CudaRunInfo* info,
                                          const std::function<void(std::string_view)>& on_text) {
  const int64_t context = static_cast<int64_t>(prompt_ids.size()) + options.max_tokens;
  cuda::CudaExecutor executor(loaded.config, loaded.weights, cuda::CudaOptions{context, true});
  if (info) {
    info->device = cuda::device_description();
    info->device_weight_bytes = executor.weight_bytes();
  }
  return cuda::generate_cuda(executor, codec, std::move(prompt_ids), options, on_text);
}

CudaBenchFigures run_bench_cuda(const model::ModelConfig& config, const model::Weights& weights,
                                int64_t pp_tokens, int64_t tg_tokens, int repetitions) {
  const cuda::CudaBenchResult r =
      cuda::bench_cuda(config, weights, cuda::CudaBenchOptions{pp_tokens, tg_tokens, repetitions});
  return CudaBenchFigures{r.device,
                          r.pp_tokens,
                          r.tg_tokens,
                          r.pp_seconds,
                          r.tg_seconds,
                          r.pp_tokens_per_second(),
                          r.tg_tokens_per_second(),
                          r.weight_bytes};
}

#else

namespace {
[[noreturn]] void no_cuda() {
  fail(
      "--chip cuda: this xpusim was built without the CUDA target (no nvcc at configure time, or "
      "-DXPUSIM_CUDA=OFF); see docs/cuda.md");
}
}  // namespace

bool cuda_target_built() { return false; }

runtime::GenerateResult run_generate_cuda(const model::LoadedModel&, const runtime::TextCodec&,
                                          std::vector<int32_t>, const runtime::GenerateOptions&, CudaRunInfo*,
                                          const std::function<void(std::string_view)>&) {
  no_cuda();
}

CudaBenchFigures run_bench_cuda(const model::ModelConfig&, const model::Weights&, int64_t, int64_t, int) {
  no_cuda();
}

#endif

}  // namespace xpusim::cli
