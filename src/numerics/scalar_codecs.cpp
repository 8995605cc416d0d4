// Element codecs: integer arithmetic on the fp32 bit pattern so every rounding is exact and no
// out-of-range float->int conversion can happen.
#include "numerics/scalar_codecs.h"

#include <cmath>

#include "numerics/float_bits.h"

namespace xpusim::numerics {

uint32_t encode_minifloat(float value, const MiniFloat& format, Overflow overflow) {
  const uint32_t u = bits::f32_bits(value);
  const uint32_t sign = (u >> 31) << (format.exponent_bits + format.mantissa_bits);
  const uint32_t magnitude = u & 0x7FFFFFFFu;
  const uint32_t saturated = sign | format.max_finite_code;
  const uint32_t overflowed = overflow == Overflow::kSaturate ? saturated
                              : format.inf_code != 0          ? sign | format.inf_code
                              : format.nan_code != 0          ? sign | format.nan_code
                                                              : saturated;
  if (magnitude > 0x7F800000u) return format.nan_code != 0 ? sign | format.nan_code : 0u;
  if (magnitude == 0x7F800000u) return overflowed;

  // value = mantissa24 * 2^(exponent32 - 150), with exponent32 = 1 for fp32 subnormals.
  const int exponent32 = static_cast<int>(magnitude >> 23);
  const uint32_t mantissa24 = (magnitude & 0x7FFFFFu) | (exponent32 != 0 ? 0x800000u : 0u);
  const int target_exponent = (exponent32 != 0 ? exponent32 : 1) - 127 + format.bias;  // biased
  int shift = 23 - format.mantissa_bits;
  if (target_exponent < 1) shift += 1 - target_exponent;  // subnormal in the target format
  if (shift >= 25) return sign;                           // below half the smallest subnormal
  uint32_t q = mantissa24 >> shift;
  const uint32_t rest = mantissa24 & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  // Normal: (e - 1) << M plus q (which carries the implicit bit) = e << M | fraction; a rounding carry
  // moves into the exponent field, and from the largest subnormal into the smallest normal.
  uint32_t code =
      target_exponent >= 1 ? (static_cast<uint32_t>(target_exponent - 1) << format.mantissa_bits) + q : q;
  if (rest > half || (rest == half && (q & 1u))) ++code;
  if (code > format.max_finite_code) return overflowed;
  return sign | code;
}

float decode_minifloat(uint32_t code, const MiniFloat& format) {
  const int width = format.exponent_bits + format.mantissa_bits;
  const bool negative = ((code >> width) & 1u) != 0;
  const uint32_t magnitude = code & ((1u << width) - 1u);
  float result;
  if (format.inf_code != 0 && magnitude == format.inf_code) {
    result = INFINITY;
  } else if (format.nan_code != 0 && magnitude > format.max_finite_code) {
    result = NAN;
  } else {
    const uint32_t exponent = magnitude >> format.mantissa_bits;
    const uint32_t fraction = magnitude & ((1u << format.mantissa_bits) - 1u);
    const uint32_t significand = exponent == 0 ? fraction : (fraction | (1u << format.mantissa_bits));
    const int scale = (exponent == 0 ? 1 : static_cast<int>(exponent)) - format.bias - format.mantissa_bits;
    result = std::ldexp(static_cast<float>(significand), scale);
  }
  return negative ? -result : result;
}

namespace {
template <const MiniFloat& kFormat>
std::array<float, 256> make_decode_table() {
  std::array<float, 256> table{};
  for (uint32_t code = 0; code < 256; ++code) table[code] = decode_minifloat(code, kFormat);
  return table;
}
}  // namespace

const std::array<float, 256>& e4m3_decode_table() {
  static const std::array<float, 256> table = make_decode_table<kE4M3>();
  return table;
}

const std::array<float, 256>& e5m2_decode_table() {
  static const std::array<float, 256> table = make_decode_table<kE5M2>();
  return table;
}

// Matches ml_dtypes float8_e8m0fnu: the fp32 magnitude pattern is rounded to a whole exponent with ties
// up ((u + 2^22) >> 23); fp32 subnormals up to 2^-127 give code 0, larger ones code 1. Zero, negative
// values, NaN, +Inf and results past 2^127 have no code and give 0xFF (NaN).
uint8_t encode_e8m0(float value) {
  const uint32_t u = bits::f32_bits(value);
  if (u == 0 || u >= 0x7F800000u) return 0xFF;  // +0, negatives (sign bit set), +Inf, NaN
  // fp32 subnormals: ml_dtypes gives code 0 up to and including 2^-127 (0x00400000) and 1 above it.
  if (u < 0x800000u) return u > 0x400000u ? uint8_t{1} : uint8_t{0};
  const uint32_t code = (u + 0x400000u) >> 23;
  return code >= 0xFF ? uint8_t{0xFF} : static_cast<uint8_t>(code);
}

float decode_e8m0(uint8_t code) {
  if (code == 0xFF) return NAN;
  return std::ldexp(1.0f, static_cast<int>(code) - 127);
}

uint32_t encode_bf19_rne(float value) {
  const uint32_t u = bits::f32_bits(value);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return ((u & 0x80000000u) | 0x7FC00000u) >> 13;
  // Finite values at or above the last tie round into the exponent field and become Inf, as IEEE does.
  return (u + 0xFFFu + ((u >> 13) & 1u)) >> 13;
}

uint32_t encode_bf19_truncate(float value) {
  const uint32_t u = bits::f32_bits(value);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return ((u & 0x80000000u) | 0x7FC00000u) >> 13;
  return u >> 13;
}

float decode_bf19(uint32_t code) { return bits::f32_from_bits((code & 0x7FFFFu) << 13); }

int32_t round_clamp_int(float value, int32_t lo, int32_t hi) {
  if (std::isnan(value)) return 0;
  if (value <= static_cast<float>(lo)) return lo;
  if (value >= static_cast<float>(hi)) return hi;
  // In range now, so the cast is defined; nearbyint rounds half to even in the default FP mode.
  return static_cast<int32_t>(std::nearbyint(value));
}

}  // namespace xpusim::numerics
