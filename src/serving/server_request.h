// The HTTP request -> generation request path of the OpenAI-compatible server, without any socket: a JSON
// body (completions or chat completions) becomes prompt tokens and sampling parameters, or a BadRequest with
// the message the client gets in its HTTP 400. Separate from server.cpp so that it can be fuzzed and tested
// alone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/loader.h"
#include "model/tokenizer.h"
#include "runtime/sampler.h"
#include "runtime/text_codec.h"

namespace xpusim::serving {

// A parameter problem the client must fix: HTTP 400.
struct BadRequest {
  std::string message;
};

struct RequestLimits {
  std::string model_name;           // a request naming another model is refused
  int64_t max_tokens_limit = 4096;  // largest max_tokens accepted
  int64_t max_n = 8;
  int64_t max_prompt_tokens = 2048;       // longer prompts are refused before any work
  int64_t max_messages = 1024;            // chat messages per request
  bool parse_special_in_content = false;  // HF's parsing of "<|im_end|>" etc. typed by the user
};

struct GenerationRequest {
  std::vector<int32_t> prompt;
  int64_t max_tokens = 16;
  int64_t n = 1;
  runtime::SamplingParams sampling;
  std::vector<std::string> stops;
  bool stream = false;
  bool include_usage = false;
};

// What the request path needs of the model. chat_tokenizer may be null (no chat endpoint then).
struct RequestContext {
  const runtime::TextCodec* codec = nullptr;
  const model::Tokenizer* chat_tokenizer = nullptr;
  int64_t vocab_size = 0;
  RequestLimits limits;
};

// Throws BadRequest for anything the client must fix; never anything else for any input.
GenerationRequest parse_generation_request(std::string_view body, bool chat, const RequestContext& context);

}  // namespace xpusim::serving
