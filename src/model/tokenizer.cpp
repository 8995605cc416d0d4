// Tokenizer: added-token splitting, the encode/decode pipelines, streaming decode.
#include "model/tokenizer.h"

#include <algorithm>

#include "core/error.h"
#include "model/unicode.h"

namespace xpusim::model {

Tokenizer::Tokenizer(TokenizerParts parts) : m_parts(std::move(parts)) {
  XPUSIM_ASSERT(m_parts.model != nullptr);
  m_special_by_id.assign(m_parts.vocab.id_to_token.size(), false);
  for (auto& index : m_added_by_first_byte) index.assign(256, {});
  for (const AddedToken& token : m_parts.added_tokens) {
    if (token.special) m_special_by_id[static_cast<size_t>(token.id)] = true;
    if (token.content.empty()) continue;
    const int which = token.normalized ? 1 : 0;
    m_added_by_first_byte[which][static_cast<uint8_t>(token.content[0])].push_back(&token);
    m_has_added[which] = true;
  }
  for (auto& index : m_added_by_first_byte)
    for (auto& list : index)
      std::stable_sort(list.begin(), list.end(), [](const AddedToken* a, const AddedToken* b) {
        return a->content.size() > b->content.size();
      });
  m_chat_family = detect_chat_template(
      m_parts.chat_template, [this](std::string_view token) { return m_parts.vocab.find(token) >= 0; });
}

std::string_view Tokenizer::token_to_text(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return {};
  return m_parts.vocab.id_to_token[static_cast<size_t>(id)];
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < m_special_by_id.size() &&
         m_special_by_id[static_cast<size_t>(id)];
}

std::vector<int32_t> Tokenizer::stop_token_ids() const {
  std::vector<int32_t> ids;
  if (m_parts.eos_id >= 0) ids.push_back(m_parts.eos_id);
  for (std::string_view name : {"<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|im_end|>", "<|endoftext|>",
                                "<end_of_turn>", "<eos>", "</s>"}) {
    const int32_t id = m_parts.vocab.find(name);
    if (id >= 0 && is_special(id) && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

std::string Tokenizer::apply_chat_template(std::span<const ChatMessage> messages, ChatOptions options) const {
  if (options.bos_token.empty() && m_parts.bos_id >= 0)
    options.bos_token = std::string(token_to_text(m_parts.bos_id));
  return render_chat(m_chat_family, messages, options);
}

// Longest added token matching at `pos` (0 if none). Honours single_word.
size_t Tokenizer::match_added_at(std::string_view text, size_t pos, bool normalized_tokens,
                                 const AddedToken** hit) const {
  const auto& candidates = m_added_by_first_byte[normalized_tokens ? 1 : 0][static_cast<uint8_t>(text[pos])];
  for (const AddedToken* token : candidates) {
    if (text.compare(pos, token->content.size(), token->content) != 0) continue;
    if (token->single_word) {
      const size_t end = pos + token->content.size();
      bool inside_word = false;
      if (pos > 0) {
        size_t start = pos - 1;
        while (start > 0 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
        size_t len = 0;
        inside_word = is_rust_alphanumeric(utf8_decode_at(text, start, &len));
      }
      if (end < text.size()) {
        size_t len = 0;
        inside_word = inside_word || is_rust_alphanumeric(utf8_decode_at(text, end, &len));
      }
      if (inside_word) continue;
    }
    *hit = token;
    return token->content.size();
  }
  return 0;
}

// Leftmost-longest matching of added tokens (HF AddedVocabulary), with lstrip/rstrip swallowing whitespace.
namespace {
bool overlaps(const Tokenizer::ByteSpans* spans, size_t begin, size_t end) {
  if (!spans) return false;
  for (const auto& [span_begin, span_end] : *spans) {
    if (begin < span_end && span_begin < end) return true;
  }
  return false;
}
}  // namespace

void Tokenizer::split_on_added(std::string_view text, bool normalized_tokens, bool at_text_start,
                               const ByteSpans* plain, bool no_special, std::vector<Segment>& out) const {
  size_t segment_begin = 0;
  auto whitespace_before = [&](size_t pos, size_t floor) {
    while (pos > floor) {
      size_t start = pos - 1;
      while (start > floor && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
      size_t len = 0;
      if (!is_rust_whitespace(utf8_decode_at(text, start, &len))) break;
      pos = start;
    }
    return pos;
  };
  for (size_t pos = 0; pos < text.size();) {
    const AddedToken* token = nullptr;
    size_t len = match_added_at(text, pos, normalized_tokens, &token);
    if (len > 0 && token->special && (no_special || overlaps(plain, pos, pos + len))) len = 0;
    if (len == 0) {
      pos += utf8_sequence_length(text, pos);
      continue;
    }
    size_t begin = pos, end = pos + len;
    if (token->lstrip) begin = whitespace_before(begin, segment_begin);
    if (token->rstrip) {
      while (end < text.size()) {
        size_t char_len = 0;
        if (!is_rust_whitespace(utf8_decode_at(text, end, &char_len))) break;
        end += char_len;
      }
    }
    if (begin > segment_begin)
      out.push_back({std::string(text.substr(segment_begin, begin - segment_begin)), -1,
                     at_text_start && segment_begin == 0, overlaps(plain, segment_begin, begin)});
    out.push_back({std::string(), token->id, false});
    segment_begin = pos = end;
  }
  if (segment_begin < text.size())
    out.push_back({std::string(text.substr(segment_begin)), -1, at_text_start && segment_begin == 0,
                   overlaps(plain, segment_begin, text.size())});
}

std::vector<int32_t> Tokenizer::encode(std::string_view raw_text, bool add_special_tokens) const {
  return encode(raw_text, add_special_tokens, ByteSpans{});
}

std::vector<int32_t> Tokenizer::encode_chat(std::span<const ChatMessage> messages,
                                            bool parse_special_in_content, ChatOptions options) const {
  if (parse_special_in_content) return encode(apply_chat_template(messages, options), false);
  std::vector<ChatMessage> valid(messages.begin(), messages.end());
  for (ChatMessage& message : valid) {  // repaired first, so that the recorded spans stay byte-exact
    if (!utf8_is_valid(message.content)) message.content = utf8_make_valid(message.content);
  }
  ByteSpans spans;
  options.content_spans = &spans;
  return encode(apply_chat_template(valid, options), false, spans);
}

std::vector<int32_t> Tokenizer::encode(std::string_view raw_text, bool add_special_tokens,
                                       const ByteSpans& plain_spans) const {
  std::string repaired;
  ByteSpans everything;
  const ByteSpans* plain = plain_spans.empty() ? nullptr : &plain_spans;
  if (!utf8_is_valid(raw_text)) {
    repaired = utf8_make_valid(raw_text);
    raw_text = repaired;
    if (plain) {  // offsets moved: keep the whole text plain rather than guess
      everything.emplace_back(0, raw_text.size());
      plain = &everything;
    }
  }
  std::vector<int32_t> ids;
  if (add_special_tokens) ids = m_parts.post_processor.prefix_ids;

  std::vector<Segment> raw_segments;
  if (m_has_added[0]) {
    split_on_added(raw_text, false, true, plain, false, raw_segments);
  } else {
    raw_segments.push_back({std::string(raw_text), -1, true, plain != nullptr});
  }
  std::vector<Segment> segments;
  std::vector<std::string> pieces;
  for (Segment& raw : raw_segments) {
    if (raw.added_id >= 0) {
      ids.push_back(raw.added_id);
      continue;
    }
    std::string normalized =
        m_parts.normalizer.empty() ? std::move(raw.text) : m_parts.normalizer.apply(raw.text);
    segments.clear();
    if (m_has_added[1]) {
      split_on_added(normalized, true, raw.at_text_start, nullptr, raw.touches_plain, segments);
    } else {
      segments.push_back({std::move(normalized), -1, raw.at_text_start});
    }
    for (Segment& segment : segments) {
      if (segment.added_id >= 0) {
        ids.push_back(segment.added_id);
        continue;
      }
      pieces.clear();
      m_parts.pre_tokenizer.apply(std::move(segment.text), segment.at_text_start, pieces);
      for (const std::string& piece : pieces) m_parts.model->encode(piece, ids);
    }
  }
  if (add_special_tokens)
    ids.insert(ids.end(), m_parts.post_processor.suffix_ids.begin(), m_parts.post_processor.suffix_ids.end());
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) continue;  // HF skips ids it does not know
    if (skip_special_tokens && is_special(id)) continue;
    tokens.emplace_back(m_parts.vocab.id_to_token[static_cast<size_t>(id)]);
  }
  return m_parts.decoder.apply(std::move(tokens));
}

std::string StreamDecoder::step(int32_t id) {
  m_ids.push_back(id);
  std::string text = m_tokenizer.decode(m_ids, m_skip_special);
  if (text.size() <= m_prefix.size() || text.ends_with("\xEF\xBF\xBD") || !text.starts_with(m_prefix))
    return {};
  std::string new_text = text.substr(m_prefix.size());
  // Keep a little left context (the ids since the previous emission) so decoders that look at neighbours
  // (byte fallback, leading-space strip) see the same tokens as a full decode.
  const size_t new_prefix_index = m_ids.size() - m_prefix_index;
  m_ids.erase(m_ids.begin(), m_ids.begin() + static_cast<std::ptrdiff_t>(m_prefix_index));
  m_prefix = m_tokenizer.decode(m_ids, m_skip_special);
  m_prefix_index = new_prefix_index;
  return new_text;
}

std::string StreamDecoder::flush() {
  std::string text = m_tokenizer.decode(m_ids, m_skip_special);
  std::string rest = text.starts_with(m_prefix) ? text.substr(m_prefix.size()) : std::string();
  m_ids.clear();
  m_prefix.clear();
  m_prefix_index = 0;
  return rest;
}

}  // namespace xpusim::model
