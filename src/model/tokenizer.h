// Tokenizer: text <-> token ids, byte-identical to Hugging Face `tokenizers` for the families we run
// (GPT-2, Llama 3, Qwen3, SmolLM2: byte-level BPE; Gemma 3, Mixtral: SentencePiece-style BPE with byte
// fallback), loaded from tokenizer.json (+ tokenizer_config.json) or from GGUF metadata.
// Pipeline (as HF): split on added tokens -> normalizer -> pre-tokenizer -> BPE per piece -> post-processor.
// Also: incremental decoding for streaming (StreamDecoder) and the chat template family.
// Non-goals: offsets, pair inputs, padding/truncation, Unigram/WordPiece models.
// HOWTO add a family: usually nothing (its tokenizer.json is data); a new HF component is one step kind in
// tokenizer_pipeline.h; a new GGUF pre-tokenizer name is one row in tokenizer_gguf.cpp. Add its goldens in
// tools/make_tokenizer_goldens.py.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/chat_template.h"
#include "model/tokenizer_data.h"
#include "model/tokenizer_model.h"
#include "model/tokenizer_pipeline.h"

namespace xpusim::model {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;      // skipped by decode(skip_special_tokens=true)
  bool lstrip = false;       // swallows whitespace on its left
  bool rstrip = false;       // swallows whitespace on its right
  bool normalized = false;   // matched in the normalized text instead of the raw text
  bool single_word = false;  // only matched when not inside a word
};

// Everything a loader fills; Tokenizer finishes the indexes.
struct TokenizerParts {
  std::string source;                 // file, for messages
  Vocab vocab;                        // every token, model and added, by id
  std::unique_ptr<TokenModel> model;  // holds its own (shared) model vocabulary
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  Decoder decoder;
  PostProcessor post_processor;
  std::vector<AddedToken> added_tokens;
  int32_t bos_id = -1, eos_id = -1;
  std::string chat_template;  // Jinja text, if known
};

class Tokenizer {
 public:
  // Reads tokenizer.json and, when present next to it, tokenizer_config.json / chat_template.jinja.
  static std::unique_ptr<Tokenizer> from_hf_json(const std::filesystem::path& tokenizer_json);
  // Same from in-memory text; `source` names it in messages (fuzzing, tests).
  static std::unique_ptr<Tokenizer> from_hf_json_text(std::string_view tokenizer_json,
                                                      const std::string& source,
                                                      std::string_view tokenizer_config_json = {});
  static std::unique_ptr<Tokenizer> from_gguf_data(const GgufTokenizerData& data);

  explicit Tokenizer(TokenizerParts parts);

  // [begin, end) byte ranges of a text.
  using ByteSpans = std::vector<std::pair<size_t, size_t>>;
  // Invalid UTF-8 in `text` is first replaced by U+FFFD (HF only accepts valid strings).
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Same, but special added tokens are not recognised inside `plain_spans` (their text is tokenized as
  // ordinary text, as HF's split_special_tokens=True does), so that text cannot forge control tokens.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens,
                              const ByteSpans& plain_spans) const;
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  int32_t vocab_size() const { return static_cast<int32_t>(m_parts.vocab.id_to_token.size()); }
  std::string_view token_to_text(int32_t id) const;  // the vocab string ("" for unknown ids)
  int32_t token_to_id(std::string_view token) const { return m_parts.vocab.find(token); }
  int32_t bos_id() const { return m_parts.bos_id; }
  int32_t eos_id() const { return m_parts.eos_id; }
  bool is_special(int32_t id) const;
  // EOS plus the family's end-of-turn tokens (<|eot_id|>, <|im_end|>, <end_of_turn>, ...) present here.
  std::vector<int32_t> stop_token_ids() const;
  const std::vector<AddedToken>& added_tokens() const { return m_parts.added_tokens; }
  const std::string& source() const { return m_parts.source; }

  ChatTemplateFamily chat_template_family() const { return m_chat_family; }
  const std::string& chat_template_text() const { return m_parts.chat_template; }
  // Renders with this tokenizer's family and BOS text; encode the result with add_special_tokens=false.
  std::string apply_chat_template(std::span<const ChatMessage> messages, ChatOptions options = {}) const;
  // Renders and encodes a conversation. Special-token text inside message content stays plain text unless
  // parse_special_in_content (HF's default, which lets a user forge roles such as "<|im_end|>").
  std::vector<int32_t> encode_chat(std::span<const ChatMessage> messages, bool parse_special_in_content,
                                   ChatOptions options = {}) const;

 private:
  struct Segment {
    std::string text;  // normalized or raw text when added_id < 0
    int32_t added_id = -1;
    bool at_text_start = false;
    bool touches_plain = false;  // overlaps a plain span: no special tokens in its normalized pass
  };
  // `plain` (may be null): byte ranges of `text` where special tokens are not matched.
  void split_on_added(std::string_view text, bool normalized_tokens, bool at_text_start,
                      const ByteSpans* plain, bool no_special, std::vector<Segment>& out) const;
  size_t match_added_at(std::string_view text, size_t pos, bool normalized_tokens,
                        const AddedToken** hit) const;

  TokenizerParts m_parts;
  std::vector<bool> m_special_by_id;
  std::vector<std::vector<const AddedToken*>> m_added_by_first_byte[2];  // [normalized][byte], longest first
  bool m_has_added[2] = {false, false};
  ChatTemplateFamily m_chat_family = ChatTemplateFamily::NONE;
};

// Streaming decode (HF DecodeStream): feed ids one at a time, get text only once it is complete UTF-8 and
// stable; what is returned over the stream concatenates to decode(all ids).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false)
      : m_tokenizer(tokenizer), m_skip_special(skip_special_tokens) {}
  std::string step(int32_t id);  // "" while the text is incomplete
  std::string flush();           // whatever is pending, even if incomplete (with U+FFFD)

 private:
  const Tokenizer& m_tokenizer;
  bool m_skip_special;
  std::vector<int32_t> m_ids;
  std::string m_prefix;
  size_t m_prefix_index = 0;
};

}  // namespace xpusim::model
