// Normalizer steps (HF NFC/NFD/NFKC/NFKD, Replace, Prepend, Strip).
#include "model/tokenizer_pipeline.h"

namespace xpusim::model {

std::string replace_literal(const std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  std::string out;
  size_t pos = 0;
  for (size_t hit = text.find(from); hit != std::string::npos; hit = text.find(from, pos)) {
    out.append(text, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(text, pos);
  return out;
}

namespace {

std::string replace_regex(const std::string& text, const Regex& regex, const std::string& to) {
  std::vector<std::pair<size_t, size_t>> matches;
  regex.find_all(text, matches);
  std::string out;
  size_t pos = 0;
  for (const auto& [begin, end] : matches) {
    out.append(text, pos, begin - pos);
    out.append(to);
    pos = end;
  }
  out.append(text, pos);
  return out;
}

std::string strip_whitespace(const std::string& text, bool left, bool right) {
  size_t begin = 0, end = text.size();
  while (left && begin < end) {
    size_t len = 0;
    if (!is_rust_whitespace(utf8_decode_at(text, begin, &len))) break;
    begin += len;
  }
  while (right && end > begin) {
    size_t start = end - 1;  // back up to the lead byte of the last character
    while (start > begin && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
    size_t len = 0;
    if (!is_rust_whitespace(utf8_decode_at(text, start, &len))) break;
    end = start;
  }
  return text.substr(begin, end - begin);
}

}  // namespace

std::string Normalizer::apply(std::string text) const {
  for (const NormalizerStep& step : steps) {
    switch (step.kind) {
      case NormalizerStep::Kind::UNICODE:
        text = normalize_unicode(text, step.form);
        break;
      case NormalizerStep::Kind::REPLACE:
        text = step.regex ? replace_regex(text, *step.regex, step.content)
                          : replace_literal(text, step.pattern, step.content);
        break;
      case NormalizerStep::Kind::PREPEND:
        if (!text.empty()) text = step.content + text;  // HF leaves empty strings empty
        break;
      case NormalizerStep::Kind::STRIP:
        text = strip_whitespace(text, step.strip_left, step.strip_right);
        break;
    }
  }
  return text;
}

}  // namespace xpusim::model
