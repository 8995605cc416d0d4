// Pre-tokenizer steps (HF Split, Digits, ByteLevel, Metaspace, WhitespaceSplit) and the PCRE2 wrapper.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>

#include "core/error.h"
#include "model/tokenizer_pipeline.h"

namespace xpusim::model {

Regex::Regex(const std::string& pattern, const std::string& where) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    fail("{}: regex does not compile at offset {}: {} (pattern: {})", where, error_offset,
         reinterpret_cast<const char*>(message), pattern);
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // optional speed-up; the interpreter is used if JIT fails
  m_code = std::shared_ptr<void>(code, [](void* p) { pcre2_code_free(static_cast<pcre2_code*>(p)); });
}

void Regex::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& matches) const {
  auto* code = static_cast<const pcre2_code*>(m_code.get());
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> data(
      pcre2_match_data_create_from_pattern(code, nullptr), &pcre2_match_data_free);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t offset = 0;
  while (offset < text.size()) {
    const int rc = pcre2_match(code, subject, text.size(), offset, PCRE2_NO_UTF_CHECK, data.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof(message));
      fail("tokenizer regex: matching failed: {}", reinterpret_cast<const char*>(message));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
    const size_t begin = ovector[0], end = ovector[1];
    if (end > begin) {
      matches.emplace_back(begin, end);
      offset = end;
    } else {  // empty match: step over one character so the scan always advances
      offset = begin + utf8_sequence_length(text, begin);
    }
  }
}

void split_by_matches(std::string_view text, const std::vector<std::pair<size_t, size_t>>& matches,
                      SplitBehavior behavior, bool invert, std::vector<std::string>& pieces) {
  struct Span {
    size_t begin, end;
    bool is_match;
  };
  std::vector<Span> spans;
  size_t previous = 0;
  for (const auto& [begin, end] : matches) {
    if (begin > previous) spans.push_back({previous, begin, invert});
    spans.push_back({begin, end, !invert});
    previous = end;
  }
  if (previous < text.size()) spans.push_back({previous, text.size(), invert});

  std::vector<Span> merged;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::REMOVED:
      for (const Span& s : spans)
        if (!s.is_match) merged.push_back(s);
      break;
    case SplitBehavior::ISOLATED:
      for (const Span& s : spans) merged.push_back(s);
      break;
    case SplitBehavior::MERGED_WITH_PREVIOUS:
      for (const Span& s : spans) {
        if (s.is_match && !previous_match && !merged.empty()) {
          merged.back().end = s.end;
        } else {
          merged.push_back(s);
        }
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::MERGED_WITH_NEXT:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !merged.empty()) {
          merged.back().begin = it->begin;
        } else {
          merged.push_back(*it);
        }
        previous_match = it->is_match;
      }
      std::reverse(merged.begin(), merged.end());
      break;
    case SplitBehavior::CONTIGUOUS:
      for (const Span& s : spans) {
        if (s.is_match == previous_match && !merged.empty()) {
          merged.back().end = s.end;
        } else {
          merged.push_back(s);
        }
        previous_match = s.is_match;
      }
      break;
  }
  for (const Span& s : merged)
    if (s.end > s.begin) pieces.emplace_back(text.substr(s.begin, s.end - s.begin));
}

namespace {

// Matches every character satisfying `predicate`, one match per character.
template <typename Predicate>
void find_chars(std::string_view text, Predicate predicate, std::vector<std::pair<size_t, size_t>>& matches) {
  for (size_t pos = 0; pos < text.size();) {
    size_t len = 0;
    const char32_t cp = utf8_decode_at(text, pos, &len);
    if (predicate(cp)) matches.emplace_back(pos, pos + len);
    pos += len;
  }
}

void find_literal(std::string_view text, std::string_view literal,
                  std::vector<std::pair<size_t, size_t>>& matches) {
  if (literal.empty()) return;
  for (size_t pos = text.find(literal); pos != std::string_view::npos;
       pos = text.find(literal, pos + literal.size()))
    matches.emplace_back(pos, pos + literal.size());
}

std::string byte_level_map(std::string_view piece) {
  const auto& table = byte_to_unicode_table();
  std::string out;
  out.reserve(piece.size() * 2);
  for (char ch : piece) utf8_append(out, table[static_cast<uint8_t>(ch)]);
  return out;
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  for (size_t hit = text.find(from); hit != std::string_view::npos && !from.empty();
       hit = text.find(from, pos)) {
    out.append(text.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(text.substr(pos));
  return out;
}

void apply_step(const PreTokenizerStep& step, std::string& piece, bool at_text_start,
                std::vector<std::string>& out) {
  std::vector<std::pair<size_t, size_t>> matches;
  switch (step.kind) {
    case PreTokenizerStep::Kind::SPLIT:
      if (step.regex) {
        step.regex->find_all(piece, matches);
      } else {
        find_literal(piece, step.literal, matches);
      }
      split_by_matches(piece, matches, step.behavior, step.invert, out);
      return;
    case PreTokenizerStep::Kind::DIGITS:
      find_chars(piece, is_rust_numeric, matches);
      split_by_matches(piece, matches,
                       step.individual_digits ? SplitBehavior::ISOLATED : SplitBehavior::CONTIGUOUS, false,
                       out);
      return;
    case PreTokenizerStep::Kind::WHITESPACE_SPLIT:
      find_chars(piece, is_rust_whitespace, matches);
      split_by_matches(piece, matches, SplitBehavior::REMOVED, false, out);
      return;
    case PreTokenizerStep::Kind::BYTE_LEVEL:
      out.push_back(byte_level_map(piece));
      return;
    case PreTokenizerStep::Kind::PREFIX_SPACE:
      out.push_back(piece.starts_with(' ') ? std::move(piece) : " " + piece);
      return;
    case PreTokenizerStep::Kind::METASPACE: {
      std::string text = replace_all(piece, " ", step.replacement);
      const bool prepend = step.prepend == PreTokenizerStep::Prepend::ALWAYS ||
                           (step.prepend == PreTokenizerStep::Prepend::FIRST && at_text_start);
      if (prepend && !text.starts_with(step.replacement)) text = step.replacement + text;
      if (!step.split) {
        out.push_back(std::move(text));
        return;
      }
      find_literal(text, step.replacement, matches);
      split_by_matches(text, matches, SplitBehavior::MERGED_WITH_NEXT, false, out);
      return;
    }
  }
}

}  // namespace

void PreTokenizer::apply(std::string segment, bool at_text_start, std::vector<std::string>& pieces) const {
  std::vector<std::string> current, next;
  current.push_back(std::move(segment));
  for (const PreTokenizerStep& step : steps) {
    next.clear();
    for (size_t i = 0; i < current.size(); ++i) apply_step(step, current[i], at_text_start && i == 0, next);
    current.swap(next);
  }
  for (std::string& piece : current)
    if (!piece.empty()) pieces.push_back(std::move(piece));
}

}  // namespace xpusim::model
