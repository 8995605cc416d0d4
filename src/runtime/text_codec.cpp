#include "runtime/text_codec.h"

#include <algorithm>

#include "core/error.h"

namespace xpusim::runtime {

TextCodec TextCodec::for_model(const model::LoadedModel& loaded) {
  std::unique_ptr<model::Tokenizer> tokenizer;
  if (loaded.gguf_tokenizer) {
    tokenizer = model::Tokenizer::from_gguf_data(*loaded.gguf_tokenizer);
  } else if (!loaded.tokenizer_json.empty()) {
    tokenizer = model::Tokenizer::from_hf_json(loaded.tokenizer_json);
  }
  return TextCodec(std::move(tokenizer), loaded.config.vocab_size);
}

TextCodec::TextCodec(std::unique_ptr<model::Tokenizer> tokenizer, int64_t vocab_size)
    : m_tokenizer(std::move(tokenizer)), m_vocab_size(vocab_size) {}

std::string TextCodec::describe() const {
  return m_tokenizer ? "tokenizer from " + m_tokenizer->source()
                     : "byte fallback (no tokenizer: one token per byte; output ids shown as ASCII)";
}

std::vector<int32_t> TextCodec::encode_prompt(std::string_view text) const {
  if (m_tokenizer) return m_tokenizer->encode(text, /*add_special_tokens=*/true);
  std::vector<int32_t> ids;
  for (unsigned char byte : text)
    ids.push_back(static_cast<int32_t>(byte) % static_cast<int32_t>(m_vocab_size));
  return ids;
}

std::vector<int32_t> TextCodec::encode_chat(std::string_view user_text) const {
  if (!m_tokenizer) return encode_prompt(user_text);
  if (m_tokenizer->chat_template_family() == model::ChatTemplateFamily::NONE) {
    fail("--chat: the tokenizer of this model ({}) has no chat template; use --prompt",
         m_tokenizer->source());
  }
  std::vector<model::ChatMessage> messages = {{"user", std::string(user_text)}};
  std::string rendered = m_tokenizer->apply_chat_template(messages);
  return m_tokenizer->encode(rendered, /*add_special_tokens=*/false);
}

std::vector<int32_t> TextCodec::stop_ids(const model::ModelConfig& config) const {
  std::vector<int32_t> ids;
  for (int64_t id : config.eos_token_ids) ids.push_back(static_cast<int32_t>(id));
  if (m_tokenizer) {
    for (int32_t id : m_tokenizer->stop_token_ids()) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::string TextCodec::fallback_piece(int32_t id) {
  if ((id >= 32 && id < 127) || id == '\n') return std::string(1, static_cast<char>(id));
  return "\xEF\xBF\xBD";  // U+FFFD
}

TextCodec::Stream::Stream(const TextCodec& codec) : m_codec(codec) {
  if (codec.m_tokenizer) m_decoder.emplace(*codec.m_tokenizer);
}

std::string TextCodec::Stream::step(int32_t id) {
  return m_decoder ? m_decoder->step(id) : fallback_piece(id);
}

std::string TextCodec::Stream::flush() { return m_decoder ? m_decoder->flush() : std::string(); }

}  // namespace xpusim::runtime
