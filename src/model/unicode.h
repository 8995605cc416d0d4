// Unicode helpers for the tokenizers: UTF-8 walking, lossy UTF-8 repair with the exact replacement rule of
// Rust's String::from_utf8_lossy (what HF `tokenizers` uses when decoding), GPT-2's byte<->unicode map,
// character classes, and NFC/NFD/NFKC/NFKD normalisation (ICU).
// Non-goals: full text segmentation, case folding. HOWTO add a normalisation form: one enum value in
// UnicodeForm and one case in normalize_unicode().
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace xpusim::model {

// Length in bytes of the (possibly invalid) UTF-8 sequence starting at text[pos]: 1..4, never past the end.
// Invalid or truncated sequences count as length 1, so walking with it always makes progress.
size_t utf8_sequence_length(std::string_view text, size_t pos);

// Decodes the code point at text[pos]; invalid bytes give U+FFFD with length 1.
char32_t utf8_decode_at(std::string_view text, size_t pos, size_t* length);

void utf8_append(std::string& out, char32_t code_point);

bool utf8_is_valid(std::string_view text);

// Replaces each maximal invalid subsequence by U+FFFD (Unicode "substitution of maximal subparts",
// identical to Rust's from_utf8_lossy and Python's errors="replace").
std::string utf8_make_valid(std::string_view bytes);

// Number of trailing bytes of `text` that form an incomplete (but so far valid) UTF-8 sequence.
size_t utf8_incomplete_tail(std::string_view text);

// GPT-2 bytes_to_unicode: byte -> code point, and the inverse (-1 for code points outside the map).
const std::array<char32_t, 256>& byte_to_unicode_table();
int byte_from_unicode(char32_t code_point);

// Character classes with Rust's definitions (HF `tokenizers` is written in Rust).
bool is_rust_whitespace(char32_t c);  // char::is_whitespace (Unicode White_Space)
bool is_rust_numeric(char32_t c);     // char::is_numeric (Nd, Nl, No)
bool is_rust_alphanumeric(char32_t c);
bool is_python_space(char32_t c);  // str.isspace / str.strip() (Jinja's trim)

enum class UnicodeForm { NFC, NFD, NFKC, NFKD };
std::string normalize_unicode(std::string_view valid_utf8, UnicodeForm form);

}  // namespace xpusim::model
