// TextCodec: text <-> token ids for the generation loop. Wraps the model's real tokenizer (tokenizer.json or
// GGUF metadata) when it has one; a synthetic preset has none, so prompts fall back to one token per UTF-8
// byte (id = byte value) and output ids render as printable ASCII or U+FFFD. The fallback is labelled
// wherever it is used. Non-goals: tokenization itself (model/tokenizer.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/loader.h"
#include "model/tokenizer.h"

namespace xpusim::runtime {

class TextCodec {
 public:
  // Builds the model's tokenizer if it has one (xpusim::Error if that tokenizer is broken).
  static TextCodec for_model(const model::LoadedModel& model);
  explicit TextCodec(std::unique_ptr<model::Tokenizer> tokenizer, int64_t vocab_size);

  bool has_tokenizer() const { return m_tokenizer != nullptr; }
  std::string describe() const;  // "tokenizer from <source>" or "byte fallback (no tokenizer)"
  // Plain prompt, with the tokenizer's special tokens (BOS where the family adds one).
  std::vector<int32_t> encode_prompt(std::string_view text) const;
  // One user message through the model's chat template (xpusim::Error if the model has none).
  std::vector<int32_t> encode_chat(std::string_view user_text) const;
  // Ids that end generation: the config's EOS ids plus the tokenizer's stop tokens (EOS, end-of-turn).
  std::vector<int32_t> stop_ids(const model::ModelConfig& config) const;

  // Incremental decoding: text of `id` once complete (UTF-8 safe); flush() returns what is still pending.
  class Stream {
   public:
    explicit Stream(const TextCodec& codec);
    std::string step(int32_t id);
    std::string flush();

   private:
    const TextCodec& m_codec;
    std::optional<model::StreamDecoder> m_decoder;
  };
  Stream stream() const { return Stream(*this); }

 private:
  static std::string fallback_piece(int32_t id);

  std::unique_ptr<model::Tokenizer> m_tokenizer;
  int64_t m_vocab_size = 0;
};

}  // namespace xpusim::runtime
