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

// Length of the longest suffix of `text` that is a proper prefix of some stop string: that much must wait.
size_t stop_string_holdback(std::string_view text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& stop : stops) {
    for (size_t len = std::min(stop.size() - 1, text.size()); len > hold; --len) {
      if (text.substr(text.size() - len) == std::string_view(stop).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  return hold;
}

double GenerateResult::prompt_tokens_per_second() const {
  return prompt_seconds > 0 ? static_cast<double>(prompt_ids.size()) / prompt_seconds : 0.0;
}

double GenerateResult::decode_tokens_per_second() const {
  return decode_seconds > 0 ? static_cast<double>(decode_steps) / decode_seconds : 0.0;
}

GenerateResult generate(exec::Executor& executor, const TextCodec& codec, std::vector<int32_t> prompt_ids,
                        const GenerateOptions& options,
                        const std::function<void(std::string_view)>& on_text) {
  const model::ModelConfig& config = executor.config();
  if (prompt_ids.empty()) fail("the prompt is empty (no tokens to start from)");
  if (options.max_tokens < 0) fail("--max-tokens must be >= 0 (got {})", options.max_tokens);
  for (const std::string& stop : options.stop_strings) {
    if (stop.empty()) fail("--stop: a stop string must not be empty");
  }
  if (static_cast<int64_t>(prompt_ids.size()) > config.max_positions) {
    fail("the prompt has {} tokens, more than the model's context of {}", prompt_ids.size(),
         config.max_positions);
  }
  XPUSIM_ASSERT(executor.position() == 0);

  GenerateResult result;
  result.prompt_ids = std::move(prompt_ids);
  Sampler sampler(options.sampling);
  TextCodec::Stream stream = codec.stream();
  std::vector<int32_t> history = result.prompt_ids;
  size_t emitted = 0;  // bytes of result.text already passed to on_text
  auto emit_up_to = [&](size_t end) {
    if (end > emitted && on_text) on_text(std::string_view(result.text).substr(emitted, end - emitted));
    emitted = std::max(emitted, end);
  };

  auto start = Clock::now();
  std::vector<float> logits = executor.forward(result.prompt_ids);
  result.prompt_seconds = seconds_since(start);
  result.stop_reason = "max_tokens";
  double decode_seconds = 0;
  for (int64_t step = 0; step < options.max_tokens; ++step) {
    const int32_t id = sampler.sample(logits, history);
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), id) != options.stop_ids.end()) {
      result.stop_reason = "eos";
      break;
    }
    result.output_ids.push_back(id);
    history.push_back(id);
    result.text += stream.step(id);
    // A stop string cannot start inside emitted text: any tail that could begin one was held back.
    size_t cut = std::string::npos;
    for (const std::string& stop : options.stop_strings) cut = std::min(cut, result.text.find(stop, emitted));
    if (cut != std::string::npos) {
      result.text.resize(cut);
      result.stop_reason = "stop_string";
      break;
    }
    emit_up_to(result.text.size() - stop_string_holdback(result.text, options.stop_strings));
    if (step + 1 == options.max_tokens) break;
    if (executor.position() >= config.max_positions) {
      result.stop_reason = "context";
      break;
    }
    auto decode_start = Clock::now();
    logits = executor.forward(std::vector<int32_t>{id});
    decode_seconds += seconds_since(decode_start);
    ++result.decode_steps;
  }
  if (result.stop_reason != "stop_string") result.text += stream.flush();
  emit_up_to(result.text.size());
  result.decode_seconds = decode_seconds;
  return result;
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
