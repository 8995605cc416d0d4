// The text stages around a tokenizer model, with HF `tokenizers` semantics: normalizer (text -> text),
// pre-tokenizer (text -> pieces), decoder (token strings -> text) and post-processor (ids -> ids with
// BOS/EOS). Each stage is a flat list of steps; an HF "Sequence" is just several steps.
// Non-goals: offsets/alignments, pair inputs, truncation/padding, Unigram/WordPiece pipelines.
// HOWTO add an HF component: one Kind value in the stage's step struct, its parsing in tokenizer_hf_json.cpp,
// and its behaviour in the stage's .cpp (tokenizer_normalizer/pretokenizer/decoder.cpp); a golden case.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/unicode.h"

namespace xpusim::model {

// A compiled PCRE2 pattern (UTF + UCP, JIT when available). Immutable and shareable between threads.
class Regex {
 public:
  // `where` names the file and field for the error message when the pattern does not compile.
  Regex(const std::string& pattern, const std::string& where);
  // Byte ranges [begin, end) of the successive non-empty, non-overlapping matches in valid UTF-8 text.
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& matches) const;

 private:
  std::shared_ptr<void> m_code;  // pcre2_code_8, freed with pcre2_code_free_8
};

// How a split keeps the pieces it matched (HF SplitDelimiterBehavior).
enum class SplitBehavior { REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS };

struct NormalizerStep {
  enum class Kind { UNICODE, REPLACE, PREPEND, STRIP };
  Kind kind = Kind::UNICODE;
  UnicodeForm form = UnicodeForm::NFC;           // UNICODE
  std::string pattern;                           // REPLACE: literal pattern (when `regex` is null)
  std::shared_ptr<const Regex> regex;            // REPLACE with a Regex pattern
  std::string content;                           // REPLACE: replacement; PREPEND: prefix
  bool strip_left = false, strip_right = false;  // STRIP
};

struct Normalizer {
  std::vector<NormalizerStep> steps;
  bool empty() const { return steps.empty(); }
  std::string apply(std::string text) const;
};

struct PreTokenizerStep {
  enum class Kind { SPLIT, DIGITS, BYTE_LEVEL, PREFIX_SPACE, METASPACE, WHITESPACE_SPLIT };
  Kind kind = Kind::SPLIT;
  std::shared_ptr<const Regex> regex;  // SPLIT with a Regex pattern
  std::string literal;                 // SPLIT with a String pattern
  SplitBehavior behavior = SplitBehavior::ISOLATED;
  bool invert = false;
  bool individual_digits = false;  // DIGITS
  std::string replacement;         // METASPACE replacement (usually U+2581)
  enum class Prepend { ALWAYS, FIRST, NEVER } prepend = Prepend::ALWAYS;  // METASPACE
  bool split = true;                                                      // METASPACE
};

struct PreTokenizer {
  std::vector<PreTokenizerStep> steps;
  // Splits one normalized segment into the pieces the model encodes one by one. `at_text_start` is true for
  // the segment that begins the input (Metaspace prepend_scheme "first").
  void apply(std::string segment, bool at_text_start, std::vector<std::string>& pieces) const;
};

struct DecoderStep {
  enum class Kind { BYTE_LEVEL, REPLACE, BYTE_FALLBACK, FUSE, STRIP, METASPACE };
  Kind kind = Kind::BYTE_LEVEL;
  std::string pattern, content;  // REPLACE (literal), STRIP (content is one character), METASPACE (pattern)
  size_t strip_start = 0, strip_stop = 0;  // STRIP: at most this many characters from each end
  bool metaspace_strip_first = true;       // METASPACE: prepend_scheme != never
};

struct Decoder {
  std::vector<DecoderStep> steps;
  bool present = false;  // HF joins tokens with " " when a tokenizer has no decoder at all
  std::string apply(std::vector<std::string> tokens) const;
};

// Ids added around the encoded text when add_special_tokens is true (single-sequence template).
struct PostProcessor {
  std::vector<int32_t> prefix_ids, suffix_ids;
};

// Every occurrence of `from` replaced by `to` (HF Replace with a string pattern, normalizer and decoder).
std::string replace_literal(const std::string& text, const std::string& from, const std::string& to);

// Splits `text` at the given match ranges and applies the behaviour; empty pieces are dropped.
void split_by_matches(std::string_view text, const std::vector<std::pair<size_t, size_t>>& matches,
                      SplitBehavior behavior, bool invert, std::vector<std::string>& pieces);

}  // namespace xpusim::model
