#include "cuda/cuda_generate.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"

namespace xpusim::cuda {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

runtime::GenerateResult generate_cuda(CudaExecutor& executor, const runtime::TextCodec& codec,
                                      std::vector<int32_t> prompt_ids,
                                      const runtime::GenerateOptions& options) {
  if (executor.position() != 0) fail("generate_cuda: the executor must be at position 0");
  if (prompt_ids.empty()) fail("generate_cuda: the prompt is empty");
  if (options.max_tokens < 0) fail("--max-tokens must be >= 0 (got {})", options.max_tokens);
  options.sampling.validate();
  const int64_t context = executor.config().max_positions;
  if (static_cast<int64_t>(prompt_ids.size()) > context)
    fail("the prompt has {} tokens, more than the model's context of {}", prompt_ids.size(), context);
  runtime::GenerateResult result;
  result.prompt_ids = prompt_ids;
  runtime::Sampler sampler(options.sampling);
  std::vector<int32_t> history = prompt_ids;
  const bool greedy = options.sampling.greedy();

  auto step = [&](std::span<const int32_t> tokens) -> int32_t {
    if (greedy) return executor.forward_greedy(tokens);
    std::vector<float> logits = executor.forward(tokens);
    return sampler.sample(logits, history);
  };

  double start = now_seconds();
  int32_t next = step(prompt_ids);
  result.prompt_seconds = now_seconds() - start;
  result.stop_reason = "max_tokens";
  runtime::TextCodec::Stream stream = codec.stream();
  start = now_seconds();
  while (options.max_tokens > 0) {
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), next) != options.stop_ids.end()) {
      result.stop_reason = "eos";
      break;
    }
    result.output_ids.push_back(next);
    history.push_back(next);
    result.text += stream.step(next);
    if (static_cast<int64_t>(result.output_ids.size()) >= options.max_tokens) break;
    if (executor.position() >= context) {
      result.stop_reason = "context";
      break;
    }
    next = step(std::span<const int32_t>(&next, 1));
    ++result.decode_steps;
  }
  result.decode_seconds = now_seconds() - start;
  result.text += stream.flush();
  for (const std::string& stop : options.stop_strings) {
    const size_t at = stop.empty() ? std::string::npos : result.text.find(stop);
    if (at != std::string::npos) {
      result.text.resize(at);
      result.stop_reason = "stop_string";
    }
  }
  return result;
}

}  // namespace xpusim::cuda
