#include "runtime/generate.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "core/error.h"

namespace xpusim::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

double GenerateResult::prompt_tokens_per_second() const {
  return prompt_seconds > 0 ? static_cast<double>(prompt_ids.size()) / prompt_seconds : 0.0;
}

double GenerateResult::decode_tokens_per_second() const {
  return decode_seconds > 0 ? static_cast<double>(decode_steps) / decode_seconds : 0.0;
}

GenerateResult generate(StepRunner& runner, const TextCodec& codec, std::vector<int32_t> prompt_ids,
                        const GenerateOptions& options, const std::function<void(std::string_view)>& on_text,
                        const std::function<void(int64_t)>& on_token) {
  const model::ModelConfig& config = runner.config();
  if (prompt_ids.empty()) fail("the prompt is empty (no tokens to start from)");
  if (options.max_tokens < 0) fail("--max-tokens must be >= 0 (got {})", options.max_tokens);
  options.sampling.validate();
  if (static_cast<int64_t>(prompt_ids.size()) > config.max_positions) {
    fail("the prompt has {} tokens, more than the model's context of {}", prompt_ids.size(),
         config.max_positions);
  }
  XPUSIM_ASSERT(runner.position() == 0);

  GenerateResult result;
  result.prompt_ids = std::move(prompt_ids);
  const bool values = runner.produces_values();
  const bool greedy = options.sampling.greedy();
  Sampler sampler(options.sampling);
  SequenceOutput output(codec, values ? options.stop_ids : std::vector<int32_t>{},
                        values ? options.stop_strings : std::vector<std::string>{});
  std::vector<int32_t> history = result.prompt_ids;
  auto emit = [&](const std::string& piece) {
    if (!piece.empty() && on_text) on_text(piece);
  };
  auto choose = [&](StepOutput& step) -> int32_t {
    if (!values) return 0;  // timing only: no logits to sample from
    if (greedy && step.greedy_id >= 0) return step.greedy_id;
    return sampler.sample(step.logits, history);
  };

  auto start = Clock::now();
  StepOutput step = runner.forward(result.prompt_ids, greedy);
  result.prompt_seconds = seconds_since(start);
  result.stop_reason = "max_tokens";
  for (int64_t index = 0; index < options.max_tokens; ++index) {
    const int32_t id = choose(step);
    history.push_back(id);
    if (values) emit(output.push(id));
    if (output.finished() == SequenceOutput::Finish::eos) {
      result.stop_reason = "eos";
      break;
    }
    result.output_ids.push_back(id);  // the id that completes a stop string counts as generated
    if (output.finished() == SequenceOutput::Finish::stop_string) {
      result.stop_reason = "stop_string";
      break;
    }
    if (on_token) on_token(index);
    if (index + 1 == options.max_tokens) break;
    if (runner.position() >= config.max_positions) {
      result.stop_reason = "context";
      break;
    }
    auto decode_start = Clock::now();
    step = runner.forward(std::span<const int32_t>(&id, 1), greedy);
    result.decode_seconds += seconds_since(decode_start);
    ++result.decode_steps;
  }
  if (values) emit(output.flush());
  result.text = output.text();
  return result;
}

GenerateResult generate(exec::Executor& executor, const TextCodec& codec, std::vector<int32_t> prompt_ids,
                        const GenerateOptions& options,
                        const std::function<void(std::string_view)>& on_text) {
  HostStepRunner runner(executor);
  return generate(runner, codec, std::move(prompt_ids), options, on_text);
}

size_t peak_memory_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      size_t kib = 0;
      status >> kib;
      return kib * 1024;
    }
    status.ignore(4096, '\n');
  }
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) return static_cast<size_t>(usage.ru_maxrss) * 1024;
  return 0;
}

}  // namespace xpusim::runtime
