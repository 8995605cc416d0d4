#include "engine/block_formats.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "numerics/float_bits.h"

namespace xpusim::engine {
namespace {

namespace fb = numerics::bits;
using WF = WeightFormat;

constexpr BlockFormatInfo kBlockFormats[] = {
    {WF::bf16, 1, 16, 0, 0, false},  {WF::ue_int4, 64, 4, 2, 0, true},  {WF::ue_fp4, 64, 4, 2, 0, true},
    {WF::ue_if4, 64, 4, 2, 0, true}, {WF::ue_int8, 64, 8, 2, 0, true},  {WF::ue_fp8, 64, 8, 2, 0, true},
    {WF::ue_if8, 64, 8, 2, 0, true}, {WF::ue_tq4, 64, 4, 2, 32, false}, {WF::mxfp4, 32, 4, 1, 0, false},
    {WF::nvfp4, 16, 4, 1, 0, false}, {WF::if4, 16, 4, 1, 0, false},
};
static_assert(std::size(kBlockFormats) == static_cast<size_t>(WF::COUNT));

constexpr float kE2m1[16] = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                             -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

float int4_value(uint8_t nibble) {
  return static_cast<float>(static_cast<int>(nibble & 0xF) - ((nibble & 8) ? 16 : 0));
}

uint8_t code_at(const uint8_t* codes, size_t i, int bits) {
  if (bits == 8) return codes[i];
  const uint8_t byte = codes[i / 2];
  return (i & 1) ? static_cast<uint8_t>(byte >> 4) : static_cast<uint8_t>(byte & 0xF);
}

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

}  // namespace

const BlockFormatInfo& block_format_info(WeightFormat format) {
  return kBlockFormats[static_cast<size_t>(format)];
}

bool is_valid_format(int64_t value) { return value >= 0 && value < static_cast<int64_t>(WF::COUNT); }

size_t packed_bytes(WeightFormat format, size_t rows, size_t cols) {
  return rows * cols * static_cast<size_t>(block_format_info(format).code_bits) / 8;
}

size_t scale_bytes(WeightFormat format, size_t rows, size_t cols) {
  const BlockFormatInfo& info = block_format_info(format);
  if (info.scale_bytes == 0) return 0;
  return static_cast<size_t>(info.codebook_bytes) +
         rows * (cols / static_cast<size_t>(info.block)) * static_cast<size_t>(info.scale_bytes);
}

float e2m1_value(uint8_t code) { return kE2m1[code & 0xF]; }

float e4m3_value(uint8_t code) {
  const int sign = (code & 0x80) ? -1 : 1;
  const int exponent = (code >> 3) & 0xF;
  const int mantissa = code & 7;
  if (exponent == 15 && mantissa == 7) return std::numeric_limits<float>::quiet_NaN();
  const float magnitude = exponent == 0
                              ? std::ldexp(static_cast<float>(mantissa), -9)
                              : std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
  return static_cast<float>(sign) * magnitude;
}

float e8m0_value(uint8_t code) {
  if (code == 0xFF) return std::numeric_limits<float>::quiet_NaN();
  return std::ldexp(1.0f, static_cast<int>(code) - 127);
}

void decode_row(WeightFormat format, const uint8_t* codes, const uint8_t* scales, const uint8_t* codebook,
                size_t cols, float* out) {
  const BlockFormatInfo& info = block_format_info(format);
  if (format == WF::bf16) {
    for (size_t i = 0; i < cols; ++i) out[i] = fb::bf16_to_f32(load_u16(codes + 2 * i));
    return;
  }
  const size_t block = static_cast<size_t>(info.block);
  for (size_t b0 = 0; b0 < cols; b0 += block) {
    const size_t block_index = b0 / block;
    switch (format) {
      case WF::ue_int4:
      case WF::ue_fp4:
      case WF::ue_if4:
      case WF::ue_int8:
      case WF::ue_fp8:
      case WF::ue_if8: {
        // Sign of the bf16 scale selects INT (negative) or FP (positive); the datapath uses |scale|.
        const uint16_t scale_bits = load_u16(scales + 2 * block_index);
        const bool integer = (scale_bits & 0x8000u) != 0;
        const float magnitude = fb::bf16_to_f32(static_cast<uint16_t>(scale_bits & 0x7FFFu));
        if (info.code_bits == 4) {  // 16 possible products per block: a table (same values, faster)
          float table[16];
          for (uint8_t code = 0; code < 16; ++code)
            table[code] = (integer ? int4_value(code) : kE2m1[code]) * magnitude;
          for (size_t i = b0; i < b0 + block; i += 2) {
            const uint8_t byte = codes[i / 2];
            out[i] = table[byte & 0xF];
            out[i + 1] = table[byte >> 4];
          }
          break;
        }
        for (size_t i = b0; i < b0 + block; ++i) {
          const uint8_t code = code_at(codes, i, info.code_bits);
          float value;
          if (info.code_bits == 4)
            value = integer ? int4_value(code) : kE2m1[code];
          else
            value = integer ? static_cast<float>(static_cast<int8_t>(code)) : e4m3_value(code);
          out[i] = value * magnitude;
        }
        break;
      }
      case WF::ue_tq4: {
        // A negative scale routes the nibble into the INT4 path: every lookup reads entry 0 (formats §10.4).
        const uint16_t scale_bits = load_u16(scales + 2 * block_index);
        const bool negative = (scale_bits & 0x8000u) != 0;
        const float magnitude = fb::bf16_to_f32(static_cast<uint16_t>(scale_bits & 0x7FFFu));
        for (size_t i = b0; i < b0 + block; ++i) {
          const uint8_t index = negative ? 0 : code_at(codes, i, 4);
          out[i] = fb::bf16_to_f32(load_u16(codebook + 2 * index)) * magnitude;
        }
        break;
      }
      case WF::mxfp4: {
        const float scale = e8m0_value(scales[block_index]);
        for (size_t i = b0; i < b0 + block; ++i) out[i] = kE2m1[code_at(codes, i, 4)] * scale;
        break;
      }
      case WF::nvfp4: {
        const float scale = e4m3_value(static_cast<uint8_t>(scales[block_index] & 0x7F));
        for (size_t i = b0; i < b0 + block; ++i) out[i] = kE2m1[code_at(codes, i, 4)] * scale;
        break;
      }
      case WF::if4: {
        // Paper IF4 (formats.md §9): scale bit 7 selects INT (value q·6/7·s, computed in fp32 in that order).
        const uint8_t scale_byte = scales[block_index];
        const float scale = e4m3_value(static_cast<uint8_t>(scale_byte & 0x7F));
        const bool integer = (scale_byte & 0x80) != 0;
        for (size_t i = b0; i < b0 + block; ++i) {
          const uint8_t code = code_at(codes, i, 4);
          out[i] = integer ? int4_value(code) * scale * (6.0f / 7.0f) : kE2m1[code] * scale;
        }
        break;
      }
      case WF::bf16:
      case WF::COUNT:
        XPUSIM_ASSERT(false);
    }
  }
}

namespace {

// FP4 candidates ordered as quant_lib's table; first index wins ties (ties toward -inf, zero -> 0x8).
constexpr float kFp4Ordered[16] = {-6, -4, -3, -2, -1.5f, -1, -0.5f, -0.0f, 0.0f, 0.5f, 1, 1.5f, 2, 3, 4, 6};
constexpr uint8_t kFp4OrderedCode[16] = {0xF, 0xE, 0xD, 0xC, 0xB, 0xA, 0x9, 0x8,
                                         0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7};

float bf16_round(float v) { return fb::bf16_to_f32(fb::f32_to_bf16(v)); }

float round_half_even(float v) { return std::nearbyint(v); }  // default FE_TONEAREST

void set_code(uint8_t* codes, size_t i, int bits, uint8_t code) {
  if (bits == 8) {
    codes[i] = code;
  } else if (i & 1) {
    codes[i / 2] = static_cast<uint8_t>((codes[i / 2] & 0x0F) | (code << 4));
  } else {
    codes[i / 2] = static_cast<uint8_t>((codes[i / 2] & 0xF0) | (code & 0x0F));
  }
}

void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

// Positive finite E4M3FN values 0x00..0x7E in increasing order (code == index).
const std::array<float, 127>& e4m3_positive() {
  static const std::array<float, 127> table = [] {
    std::array<float, 127> t{};
    for (int c = 0; c < 127; ++c) t[static_cast<size_t>(c)] = e4m3_value(static_cast<uint8_t>(c));
    return t;
  }();
  return table;
}

// Nearest E4M3FN code; exact ties go to the smaller magnitude (the lower byte code), saturating at 448.
uint8_t e4m3_snap(float v) {
  const auto& table = e4m3_positive();
  const float magnitude = std::fabs(v);
  const auto it = std::lower_bound(table.begin(), table.end(), magnitude);
  size_t index;
  if (it == table.end()) {
    index = table.size() - 1;
  } else if (it == table.begin()) {
    index = 0;
  } else {
    const size_t hi = static_cast<size_t>(it - table.begin());
    index = (magnitude - table[hi - 1] <= table[hi] - magnitude) ? hi - 1 : hi;
  }
  const uint8_t code = static_cast<uint8_t>(index);
  return (v < 0 && code != 0) ? static_cast<uint8_t>(code | 0x80) : code;
}

// max(|x|) like a chain of std::fmax from 0 (NaN elements are skipped), without the libm call.
float abs_max(const float* x, int count) {
  float amax = 0;
  for (int i = 0; i < count; ++i) {
    const float a = std::fabs(x[i]);
    amax = a > amax ? a : amax;
  }
  return amax;
}

// std::nearbyint under the default round-to-nearest-even mode; below 2^22 by the add/subtract of 1.5·2^23
// (exact there, and inlined), which differs only in the sign of a zero result — invisible to the callers,
// which only use q as an integer code and in x - q·s.
float round_half_even_fast(float v) {
  return std::fabs(v) < 0x1p22f ? (v + 0x1.8p23f) - 0x1.8p23f : round_half_even(v);
}

void quantize_block4(WeightFormat format, const float* x, uint8_t* codes, size_t base, uint8_t* scale_out) {
  const float amax = std::fmax(abs_max(x, 64), 1e-8f);
  const float s_int = bf16_round(amax / 7.0f);
  const float s_fp = bf16_round(amax / 6.0f);
  uint8_t int_codes[64], fp_codes[64];
  float q[64], v[64];
  int32_t best_distance[64], best[64];  // best: index into kFp4Ordered
  for (int i = 0; i < 64; ++i) {
    q[i] = x[i] / s_int;
    v[i] = x[i] / s_fp;
  }
  for (int i = 0; i < 64; ++i) q[i] = std::clamp(round_half_even_fast(q[i]), -8.0f, 7.0f);
  // Nearest FP4 value, the first in table order on ties: the same comparisons as a per-element scan,
  // branch-free over elements so the compiler vectorizes it. Distances are |.| (sign bit clear), so their
  // order is the order of their bit patterns; a NaN distance only occurs when v is NaN, and then every
  // distance is the same NaN, so no comparison succeeds either way.
  for (int i = 0; i < 64; ++i) {
    best[i] = 0;
    best_distance[i] = std::bit_cast<int32_t>(std::fabs(v[i] - kFp4Ordered[0]));
  }
  for (int32_t t = 1; t < 16; ++t)
    for (int i = 0; i < 64; ++i) {
      const int32_t distance = std::bit_cast<int32_t>(std::fabs(v[i] - kFp4Ordered[t]));
      const bool closer = distance < best_distance[i];
      best[i] = closer ? t : best[i];
      best_distance[i] = closer ? distance : best_distance[i];
    }
  float err_int = 0, err_fp = 0;
  for (int i = 0; i < 64; ++i) {
    int_codes[i] = static_cast<uint8_t>(static_cast<int>(q[i]) & 0xF);
    const float d_int = x[i] - q[i] * s_int;
    err_int += d_int * d_int;
    const auto index = static_cast<size_t>(best[i]);
    fp_codes[i] = kFp4OrderedCode[index];
    const float d_fp = x[i] - kFp4Ordered[index] * s_fp;
    err_fp += d_fp * d_fp;
  }
  const bool use_int = format == WF::ue_int4 || (format == WF::ue_if4 && err_int <= err_fp);
  for (int i = 0; i < 64; ++i)
    set_code(codes, base + static_cast<size_t>(i), 4, use_int ? int_codes[i] : fp_codes[i]);
  store_u16(scale_out,
            use_int ? static_cast<uint16_t>(fb::f32_to_bf16(s_int) | 0x8000u) : fb::f32_to_bf16(s_fp));
}

void quantize_block8(WeightFormat format, const float* x, uint8_t* codes, size_t base, uint8_t* scale_out) {
  float amax = 0;
  for (int i = 0; i < 64; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  const float s_int = bf16_round(std::fmax(bf16_round(amax / 127.0f), 1e-8f));
  const float s_fp = bf16_round(std::fmax(bf16_round(amax / 448.0f), 1e-8f));
  uint8_t int_codes[64], fp_codes[64];
  float err_int = 0, err_fp = 0;
  for (int i = 0; i < 64; ++i) {
    const float q = std::clamp(round_half_even(bf16_round(x[i] / s_int)), -128.0f, 127.0f);
    int_codes[i] = static_cast<uint8_t>(static_cast<int8_t>(q));
    const float d_int = x[i] - q * s_int;
    err_int += d_int * d_int;
    const uint8_t code = e4m3_snap(bf16_round(x[i] / s_fp));
    fp_codes[i] = code;
    const float d_fp = x[i] - e4m3_value(code) * s_fp;
    err_fp += d_fp * d_fp;
  }
  const bool use_int = format == WF::ue_int8 || (format == WF::ue_if8 && err_int <= err_fp);
  for (int i = 0; i < 64; ++i)
    set_code(codes, base + static_cast<size_t>(i), 8, use_int ? int_codes[i] : fp_codes[i]);
  store_u16(scale_out,
            use_int ? static_cast<uint16_t>(fb::f32_to_bf16(s_int) | 0x8000u) : fb::f32_to_bf16(s_fp));
}

}  // namespace

void quantize_row(WeightFormat format, const uint16_t* row, size_t cols, uint8_t* codes, uint8_t* scales) {
  const BlockFormatInfo& info = block_format_info(format);
  XPUSIM_ASSERT(info.quantizable && cols % 64 == 0);
  float x[64];
  for (size_t b0 = 0; b0 < cols; b0 += 64) {
    for (size_t i = 0; i < 64; ++i) x[i] = fb::bf16_to_f32(row[b0 + i]);
    uint8_t* scale_out = scales + 2 * (b0 / 64);
    if (info.code_bits == 4)
      quantize_block4(format, x, codes, b0, scale_out);
    else
      quantize_block8(format, x, codes, b0, scale_out);
  }
}

}  // namespace xpusim::engine
