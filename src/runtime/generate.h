// The generation loop, one for every target (host, CUDA, the simulated engine: runtime/step_runner.h):
// prefill the prompt in one step, then sample and decode one token per step through the KV cache until an
// end-of-sequence id, a stop string, the token budget or the model's context ends it. Text is streamed
// through a callback as soon as it is final: text that could still become a stop string is held back
// (runtime/sequence_output.h, shared with the batched serving engine). Non-goals: batching and scheduling
// several sequences (serving/host_engine.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "exec/executor.h"
#include "runtime/sampler.h"
#include "runtime/sequence_output.h"
#include "runtime/step_runner.h"
#include "runtime/text_codec.h"

namespace xpusim::runtime {

struct GenerateOptions {
  int64_t max_tokens = 256;
  SamplingParams sampling;
  std::vector<std::string> stop_strings;
  std::vector<int32_t> stop_ids;  // end-of-sequence ids (not emitted as text)
};

struct GenerateResult {
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> output_ids;  // generated ids, the stop id excluded
  std::string text;                 // generated text, cut before a stop string
  std::string stop_reason;          // "eos", "stop_string", "max_tokens", "context"
  double prompt_seconds = 0;        // the prefill step
  double decode_seconds = 0;        // all single-token decode steps
  int64_t decode_steps = 0;
  double prompt_tokens_per_second() const;
  double decode_tokens_per_second() const;
};

// `on_text` receives each final piece of text in order (may be empty); `on_token` is called after each token
// is accounted (with its 0-based index), for progress. The runner must be at position 0. Times are
// wall-clock.
GenerateResult generate(StepRunner& runner, const TextCodec& codec, std::vector<int32_t> prompt_ids,
                        const GenerateOptions& options,
                        const std::function<void(std::string_view)>& on_text = {},
                        const std::function<void(int64_t)>& on_token = {});

// The host executor through HostStepRunner.
GenerateResult generate(exec::Executor& executor, const TextCodec& codec, std::vector<int32_t> prompt_ids,
                        const GenerateOptions& options,
                        const std::function<void(std::string_view)>& on_text = {});

// Peak resident memory of this process (VmHWM), in bytes; 0 if unknown.
size_t peak_memory_bytes();

}  // namespace xpusim::runtime
