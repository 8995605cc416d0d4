// libFuzzer target: the HTTP request -> generation request path of `xpusim serve` (serving/server_request.h):
// JSON body, chat messages through the chat template, sampling parameters, stop strings, token-id prompts.
// The first byte picks the endpoint (chat or completions), the rest is the body. BadRequest (HTTP 400) is the
// only acceptable failure; anything else escaping (crash, other exception, sanitizer report) is a bug.
// Seeds: fuzz/corpus/http_request/.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "model/tokenizer.h"
#include "runtime/text_codec.h"
#include "serving/server_request.h"

namespace {

struct Fixture {
  std::unique_ptr<xpusim::model::Tokenizer> chat_tokenizer;
  std::unique_ptr<xpusim::runtime::TextCodec> codec;
  xpusim::serving::RequestContext context;

  Fixture() {
    const std::string path = std::string(XPUSIM_SOURCE_DIR) + "/tests/data/tokenizers/smollm2/tokenizer.json";
    chat_tokenizer = xpusim::model::Tokenizer::from_hf_json(path);
    const int64_t vocab = chat_tokenizer->vocab_size();
    codec = std::make_unique<xpusim::runtime::TextCodec>(xpusim::model::Tokenizer::from_hf_json(path), vocab);
    context.codec = codec.get();
    context.chat_tokenizer = chat_tokenizer.get();
    context.vocab_size = vocab;
    context.limits.model_name = "smollm2-135m";
    context.limits.max_prompt_tokens = 2048;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  if (size == 0) return 0;
  const bool chat = (data[0] & 1) != 0;
  fixture.context.limits.parse_special_in_content = (data[0] & 2) != 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    const auto request = xpusim::serving::parse_generation_request(body, chat, fixture.context);
    if (request.prompt.empty() || request.n < 1 || request.max_tokens < 1) __builtin_trap();
    for (int32_t id : request.prompt) {
      if (id < 0 || id >= fixture.context.vocab_size) __builtin_trap();
    }
  } catch (const xpusim::serving::BadRequest&) {
    // HTTP 400 with a message: the expected failure.
  }
  return 0;
}
