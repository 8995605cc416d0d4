// Decoder steps (HF ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace), token strings -> text.
#include <optional>

#include "model/tokenizer_pipeline.h"

namespace xpusim::model {
namespace {

// ByteLevel: a token whose every character is in the byte map becomes those bytes; any other token keeps
// its own UTF-8 bytes (added tokens). The joined bytes are repaired like Rust's from_utf8_lossy.
std::vector<std::string> decode_byte_level(const std::vector<std::string>& tokens) {
  std::string bytes;
  std::string token_bytes;
  for (const std::string& token : tokens) {
    token_bytes.clear();
    bool mapped = true;
    for (size_t pos = 0; pos < token.size();) {
      size_t len = 0;
      const int byte = byte_from_unicode(utf8_decode_at(token, pos, &len));
      if (byte < 0) {
        mapped = false;
        break;
      }
      token_bytes += static_cast<char>(byte);
      pos += len;
    }
    bytes += mapped ? token_bytes : token;
  }
  return {utf8_make_valid(bytes)};
}

std::optional<uint8_t> byte_token_value(const std::string& token) {  // "<0xAB>"
  if (token.size() != 6 || !token.starts_with("<0x") || token[5] != '>') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(token[3]), lo = hex(token[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi * 16 + lo);
}

// ByteFallback: runs of <0xXX> tokens become their UTF-8 text, or one U+FFFD per byte when invalid.
std::vector<std::string> decode_byte_fallback(const std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  std::string pending;
  size_t pending_count = 0;
  auto flush = [&] {
    if (pending_count == 0) return;
    if (utf8_is_valid(pending)) {
      out.push_back(pending);
    } else {
      for (size_t i = 0; i < pending_count; ++i) out.emplace_back("\xEF\xBF\xBD");
    }
    pending.clear();
    pending_count = 0;
  };
  for (const std::string& token : tokens) {
    if (auto value = byte_token_value(token)) {
      pending += static_cast<char>(*value);
      ++pending_count;
    } else {
      flush();
      out.push_back(token);
    }
  }
  flush();
  return out;
}

std::string strip_chars(const std::string& token, char32_t content, size_t start, size_t stop) {
  std::vector<std::pair<size_t, char32_t>> chars;  // (byte offset, code point)
  for (size_t pos = 0; pos < token.size();) {
    size_t len = 0;
    chars.emplace_back(pos, utf8_decode_at(token, pos, &len));
    pos += len;
  }
  size_t first = 0, last = chars.size();
  while (first < start && first < last && chars[first].second == content) ++first;
  for (size_t n = 0; n < stop && last > first && chars[last - 1].second == content; ++n) --last;
  const size_t begin = first < chars.size() ? chars[first].first : token.size();
  const size_t end = last < chars.size() ? chars[last].first : token.size();
  return token.substr(begin, end - begin);
}

}  // namespace

std::string Decoder::apply(std::vector<std::string> tokens) const {
  if (!present) {
    std::string joined;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) joined += ' ';
      joined += tokens[i];
    }
    return joined;
  }
  for (const DecoderStep& step : steps) {
    switch (step.kind) {
      case DecoderStep::Kind::BYTE_LEVEL:
        tokens = decode_byte_level(tokens);
        break;
      case DecoderStep::Kind::BYTE_FALLBACK:
        tokens = decode_byte_fallback(tokens);
        break;
      case DecoderStep::Kind::REPLACE:
        for (std::string& t : tokens) t = replace_literal(t, step.pattern, step.content);
        break;
      case DecoderStep::Kind::FUSE: {
        std::string fused;
        for (const std::string& t : tokens) fused += t;
        tokens = {fused};
        break;
      }
      case DecoderStep::Kind::STRIP: {
        size_t len = 0;
        const char32_t content = step.content.empty() ? U' ' : utf8_decode_at(step.content, 0, &len);
        for (std::string& t : tokens) t = strip_chars(t, content, step.strip_start, step.strip_stop);
        break;
      }
      case DecoderStep::Kind::METASPACE:
        for (size_t i = 0; i < tokens.size(); ++i) {
          tokens[i] = replace_literal(tokens[i], step.pattern, " ");
          if (i == 0 && step.metaspace_strip_first && tokens[i].starts_with(' ')) tokens[i].erase(0, 1);
        }
        break;
    }
  }
  std::string text;
  for (const std::string& t : tokens) text += t;
  return text;
}

}  // namespace xpusim::model
