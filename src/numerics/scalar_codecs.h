// Element (scalar) codecs on bit patterns: FP8 E4M3FN / E5M2, FP4 E2M1, E8M0, bf19 (1-8-10), INT8, INT4.
// Owns: the exact rounding (RNE unless named otherwise), saturation and NaN/Inf rules of every element
// format; block formats (block_codecs*.cpp) build on these. Spec: shared/reference/formats.md §1-6.
// Non-goals: scales and blocks (block formats), whole-tensor loops (format_table.h).
// Rules for non-finite inputs (never UB; no float->int cast of an unchecked value):
//   E4M3: NaN -> 0x7F|sign. Non-saturating (ml_dtypes float8_e4m3fn): overflow and +-Inf -> NaN.
//         Saturating: overflow and +-Inf -> +-448 (0x7E|sign).
//   E5M2: NaN -> 0x7E|sign. Non-saturating (ml_dtypes float8_e5m2): overflow -> +-Inf (0x7C).
//         Saturating: overflow and +-Inf -> +-57344 (0x7B|sign).
//   E2M1: no NaN/Inf codes: NaN -> 0x0, +-Inf saturate to +-6. Always saturating.
//   E8M0: see encode_e8m0.  INT8/INT4: RNE, clamp to the range, NaN -> 0, +-Inf clamp.
// HOWTO add an element format: write encode_/decode_ functions here (use MiniFloat for small floats), a
// row in format_table.cpp, and goldens in tools/make_format_goldens.py.
#pragma once

#include <array>
#include <cstdint>

namespace xpusim::numerics {

// A small IEEE-like binary float: sign bit, `exponent_bits`, `mantissa_bits`, subnormals.
struct MiniFloat {
  int exponent_bits;
  int mantissa_bits;
  int bias;
  uint32_t max_finite_code;  // magnitude code of the largest finite value
  uint32_t inf_code;         // magnitude code of Inf, 0 if none
  uint32_t nan_code;         // magnitude code of the canonical NaN, 0 if none
};

inline constexpr MiniFloat kE4M3{4, 3, 7, 0x7E, 0, 0x7F};
inline constexpr MiniFloat kE5M2{5, 2, 15, 0x7B, 0x7C, 0x7E};
inline constexpr MiniFloat kE2M1{2, 1, 1, 0x7, 0, 0};

enum class Overflow : uint8_t { kSaturate, kIeee };  // kIeee: Inf if the format has it, else NaN

// RNE encode of `value`; the result has the sign in bit (exponent_bits + mantissa_bits).
uint32_t encode_minifloat(float value, const MiniFloat& format, Overflow overflow);
float decode_minifloat(uint32_t code, const MiniFloat& format);

inline uint8_t encode_e4m3(float value, Overflow overflow) {
  return static_cast<uint8_t>(encode_minifloat(value, kE4M3, overflow));
}
inline uint8_t encode_e5m2(float value, Overflow overflow) {
  return static_cast<uint8_t>(encode_minifloat(value, kE5M2, overflow));
}
// E2M1 nibble, RNE, saturating; -0 kept as 0x8 (callers canonicalise where their format says so).
inline uint8_t encode_e2m1(float value) {
  return static_cast<uint8_t>(encode_minifloat(value, kE2M1, Overflow::kSaturate));
}

const std::array<float, 256>& e4m3_decode_table();
const std::array<float, 256>& e5m2_decode_table();
inline constexpr std::array<float, 16> kE2M1Values{0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                                                   -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

// E8M0 (2^(code-127), 0xFF = NaN), as ml_dtypes float8_e8m0fnu: a mantissa >= 1.5 rounds the exponent
// up (ties up); positive values at or below 2^-127 give code 0; zero, negative values, NaN, +Inf and
// values that round past 2^127 give 0xFF (NaN).
uint8_t encode_e8m0(float value);
float decode_e8m0(uint8_t code);

// bf19 (1-8-10) in a 32-bit container: the fp32 pattern with the low 13 bits zero. Code = pattern >> 13.
uint32_t encode_bf19_rne(float value);       // RNE; NaN -> quiet NaN with sign; overflow -> Inf
uint32_t encode_bf19_truncate(float value);  // RTZ; NaN -> quiet NaN with sign
float decode_bf19(uint32_t code);

// Integers: RNE to the nearest integer, clamped to [lo, hi]; NaN -> 0.
int32_t round_clamp_int(float value, int32_t lo, int32_t hi);

}  // namespace xpusim::numerics
