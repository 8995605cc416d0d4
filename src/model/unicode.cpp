// UTF-8 walking and repair, GPT-2 byte map, character classes, ICU normalisation.
#include "model/unicode.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <vector>

#include "core/error.h"

namespace xpusim::model {
namespace {

uint8_t byte_at(std::string_view text, size_t pos) { return static_cast<uint8_t>(text[pos]); }
bool is_continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

// Length of the longest valid prefix of a sequence (Unicode Table 3-7), 0 if the lead byte is invalid.
// `complete` tells whether the whole sequence is present and valid.
size_t valid_prefix_length(std::string_view text, size_t pos, bool* complete) {
  const uint8_t lead = byte_at(text, pos);
  *complete = false;
  if (lead < 0x80) {
    *complete = true;
    return 1;
  }
  size_t need = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  size_t len = 1;
  while (len < need && pos + len < text.size()) {
    const uint8_t b = byte_at(text, pos + len);
    const bool ok = len == 1 ? (b >= lo && b <= hi) : is_continuation(b);
    if (!ok) return len;
    ++len;
  }
  *complete = len == need;
  return len;
}

}  // namespace

size_t utf8_sequence_length(std::string_view text, size_t pos) {
  bool complete = false;
  const size_t len = valid_prefix_length(text, pos, &complete);
  return complete ? len : 1;
}

char32_t utf8_decode_at(std::string_view text, size_t pos, size_t* length) {
  bool complete = false;
  const size_t len = valid_prefix_length(text, pos, &complete);
  if (!complete) {
    *length = 1;
    return 0xFFFD;
  }
  *length = len;
  const uint8_t lead = byte_at(text, pos);
  if (len == 1) return lead;
  char32_t cp = lead & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) cp = (cp << 6) | (byte_at(text, pos + i) & 0x3F);
  return cp;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool utf8_is_valid(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    bool complete = false;
    const size_t len = valid_prefix_length(text, pos, &complete);
    if (!complete) return false;
    pos += len;
  }
  return true;
}

std::string utf8_make_valid(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t pos = 0; pos < bytes.size();) {
    bool complete = false;
    const size_t len = valid_prefix_length(bytes, pos, &complete);
    if (complete) {
      out.append(bytes.substr(pos, len));
      pos += len;
    } else {
      out += "\xEF\xBF\xBD";  // one U+FFFD per maximal invalid subpart
      pos += len == 0 ? 1 : len;
    }
  }
  return out;
}

size_t utf8_incomplete_tail(std::string_view text) {
  // Look back at most 3 bytes for a lead byte whose sequence is a valid but unfinished prefix.
  for (size_t back = 1; back <= 3 && back <= text.size(); ++back) {
    const size_t pos = text.size() - back;
    if (is_continuation(byte_at(text, pos))) continue;
    bool complete = false;
    const size_t len = valid_prefix_length(text, pos, &complete);
    return (!complete && len == back) ? back : 0;
  }
  return 0;
}

const std::array<char32_t, 256>& byte_to_unicode_table() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[static_cast<size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
    }
    return t;
  }();
  return table;
}

int byte_from_unicode(char32_t cp) {
  static const std::vector<int> inverse = [] {
    std::vector<int> inv(512, -1);
    const auto& table = byte_to_unicode_table();
    for (int b = 0; b < 256; ++b) inv[table[static_cast<size_t>(b)]] = b;
    return inv;
  }();
  return cp < inverse.size() ? inverse[cp] : -1;
}

bool is_rust_whitespace(char32_t c) {
  return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_WHITE_SPACE);
}

bool is_rust_numeric(char32_t c) {
  const int8_t type = u_charType(static_cast<UChar32>(c));
  return type == U_DECIMAL_DIGIT_NUMBER || type == U_LETTER_NUMBER || type == U_OTHER_NUMBER;
}

bool is_rust_alphanumeric(char32_t c) {
  return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_ALPHABETIC) || is_rust_numeric(c);
}

bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

std::string normalize_unicode(std::string_view text, UnicodeForm form) {
  bool ascii = true;
  for (char ch : text) ascii = ascii && static_cast<uint8_t>(ch) < 0x80;
  if (ascii) return std::string(text);  // every form is the identity on ASCII
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* normalizer = nullptr;
  switch (form) {
    case UnicodeForm::NFC:
      normalizer = unorm2_getNFCInstance(&status);
      break;
    case UnicodeForm::NFD:
      normalizer = unorm2_getNFDInstance(&status);
      break;
    case UnicodeForm::NFKC:
      normalizer = unorm2_getNFKCInstance(&status);
      break;
    case UnicodeForm::NFKD:
      normalizer = unorm2_getNFKDInstance(&status);
      break;
  }
  XPUSIM_ASSERT(U_SUCCESS(status));
  std::u16string utf16(text.size() + 1, u'\0');
  int32_t utf16_len = 0;
  u_strFromUTF8(utf16.data(), static_cast<int32_t>(utf16.size()), &utf16_len, text.data(),
                static_cast<int32_t>(text.size()), &status);
  if (U_FAILURE(status)) fail("unicode normalisation: input is not valid UTF-8");
  // Decomposition can grow the text (NFKD of some characters up to 18x); ask ICU for the size first.
  int32_t out_len = unorm2_normalize(normalizer, utf16.data(), utf16_len, nullptr, 0, &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) status = U_ZERO_ERROR;
  std::u16string normalized(static_cast<size_t>(out_len) + 1, u'\0');
  out_len = unorm2_normalize(normalizer, utf16.data(), utf16_len, normalized.data(),
                             static_cast<int32_t>(normalized.size()), &status);
  XPUSIM_ASSERT(U_SUCCESS(status));
  std::string out(static_cast<size_t>(out_len) * 3 + 1, '\0');
  int32_t utf8_len = 0;
  u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &utf8_len, normalized.data(), out_len, &status);
  XPUSIM_ASSERT(U_SUCCESS(status));
  out.resize(static_cast<size_t>(utf8_len));
  return out;
}

}  // namespace xpusim::model
