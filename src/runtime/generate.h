// The generation loop: prefill the prompt in one step, then sample and decode one token per step through the
// KV cache until an end-of-sequence id, a stop string, the token budget or the model's context ends it. Text
// is streamed through a callback as soon as it is final: text that could still become a stop string is held
// back. Non-goals: batching and scheduling several sequences (serving issues).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "exec/executor.h"
#include "runtime/sampler.h"
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

// `on_text` receives each final piece of text in order (may be empty). The executor must be at position 0.
GenerateResult generate(exec::Executor& executor, const TextCodec& codec, std::vector<int32_t> prompt_ids,
                        const GenerateOptions& options,
                        const std::function<void(std::string_view)>& on_text = {});

// Length of the longest suffix of `text` that is a proper prefix of some stop string: a streamer holds that
// much back until the next token shows whether the stop string completes.
size_t stop_string_holdback(std::string_view text, const std::vector<std::string>& stops);

// Peak resident memory of this process (VmHWM), in bytes; 0 if unknown.
size_t peak_memory_bytes();

}  // namespace xpusim::runtime
