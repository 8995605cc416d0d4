// libFuzzer target: tokenizer.json parsing, then encode/decode of a fixed string with whatever loaded.
// xpusim::Error is the only acceptable failure; anything else (crash, other exception, sanitizer report) is a
// bug. Seeds: tests/data/tokenizers/*/tokenizer.json (use -max_len=65536 to let them through).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "model/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto tokenizer = xpusim::model::Tokenizer::from_hf_json_text(text, "fuzz/tokenizer.json");
    const auto ids = tokenizer->encode("Hello, wörld! 123 <|im_start|> \xF0\x9F\x98\x80\n\n  x\xFF");
    (void)tokenizer->decode(ids);
    (void)tokenizer->decode(ids, true);
    xpusim::model::StreamDecoder stream(*tokenizer);
    for (int32_t id : ids) (void)stream.step(id);
    (void)stream.flush();
  } catch (const xpusim::Error&) {
    // Bad input reported properly.
  }
  return 0;
}
