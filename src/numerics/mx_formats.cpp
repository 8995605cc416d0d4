// OCP Microscaling (MX v1.0) block formats: 32 elements share one E8M0 scale X = 2^(code - 127).
//   mxfp4 / mxfp8      the spec's "floor" rule: X = 2^(floor(log2 amax) - emax_elem), clamped to the
//                      E8M0 range; elements RNE with saturation, so the block max can be clipped.
//   mxfp4-ceil / -ceil the non-clipping rule (fouroversix quantize_to_mxfp4): X = amax / max_elem
//                      rounded up to a power of two; elements = RNE(x / X). Never clips.
// Elements: E2M1 (emax 2, max 6) or E4M3FN (emax 8, max 448). Element rounding is RNE (microxcaling's
// default rounds half away; formats.md §12 decision 5). Zeros are written canonical (+0), -0 is read as 0.
// amax == 0 gives scale code 0 and zero elements. Layout: byte 0 = E8M0, then 16 nibble bytes (low =
// even element) or 32 E4M3 bytes. Decode: element * X; scale 0xFF (NaN) decodes the block as NaN.
#include <cmath>
#include <cstring>

#include "numerics/codecs.h"
#include "numerics/float_bits.h"
#include "numerics/scalar_codecs.h"

namespace xpusim::numerics::codecs {
namespace {

constexpr size_t kBlock = 32;

enum class ElementType : uint8_t { kE2M1, kE4M3 };
enum class ScaleRule : uint8_t { kFloor, kCeil };

constexpr int emax_of(ElementType t) { return t == ElementType::kE2M1 ? 2 : 8; }
constexpr float max_of(ElementType t) { return t == ElementType::kE2M1 ? 6.0f : 448.0f; }
constexpr size_t block_bytes_of(ElementType t) { return t == ElementType::kE2M1 ? 17 : 33; }

uint8_t scale_code(const float* x, ElementType type, ScaleRule rule) {
  float amax = 0.0f;
  for (size_t i = 0; i < kBlock; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  if (amax == 0.0f) return 0;
  if (rule == ScaleRule::kFloor) {
    const int code = std::ilogb(amax) - emax_of(type) + 127;  // ilogb is exact, subnormals included
    return static_cast<uint8_t>(code < 0 ? 0 : code > 254 ? 254 : code);
  }
  // Ceil: the fp32 exponent field of amax / max, plus one if any mantissa bit is set.
  const uint32_t u = bits::f32_bits(amax / max_of(type));
  const uint32_t code = ((u >> 23) & 0xFFu) + ((u & 0x7FFFFFu) != 0 ? 1u : 0u);
  return static_cast<uint8_t>(code > 254 ? 254 : code);  // amax / max < 2^126, so never above 254
}

void encode_mx(const float* src, uint8_t* dst, size_t block_count, ElementType type, ScaleRule rule) {
  const size_t block_bytes = block_bytes_of(type);
  for (size_t b = 0; b < block_count; ++b, src += kBlock, dst += block_bytes) {
    const uint8_t code = scale_code(src, type, rule);
    dst[0] = code;
    const int shift = 127 - static_cast<int>(code);  // x / X, exact (power of two)
    if (type == ElementType::kE2M1) {
      for (size_t i = 0; i < kBlock / 2; ++i) {
        uint8_t nibbles[2];
        for (size_t k = 0; k < 2; ++k) {
          const uint8_t n = encode_e2m1(std::ldexp(src[2 * i + k], shift));
          nibbles[k] = (n & 0x7u) == 0 ? uint8_t{0} : n;  // canonical +0
        }
        dst[1 + i] = static_cast<uint8_t>(nibbles[0] | (nibbles[1] << 4));
      }
    } else {
      for (size_t i = 0; i < kBlock; ++i) {
        const uint8_t e = encode_e4m3(std::ldexp(src[i], shift), Overflow::kSaturate);
        dst[1 + i] = (e & 0x7Fu) == 0 ? uint8_t{0} : e;
      }
    }
  }
}

void decode_mx(const uint8_t* src, float* dst, size_t block_count, ElementType type) {
  const size_t block_bytes = block_bytes_of(type);
  for (size_t b = 0; b < block_count; ++b, src += block_bytes, dst += kBlock) {
    const float scale = numerics::decode_e8m0(src[0]);  // NaN for 0xFF: the whole block decodes as NaN
    if (type == ElementType::kE2M1) {
      for (size_t i = 0; i < kBlock; ++i)
        dst[i] = kE2M1Values[(src[1 + i / 2] >> (4 * (i & 1))) & 0xFu] * scale;
    } else {
      const auto& table = e4m3_decode_table();
      for (size_t i = 0; i < kBlock; ++i) dst[i] = table[src[1 + i]] * scale;
    }
  }
}

}  // namespace

void encode_mxfp4(const float* src, uint8_t* dst, size_t n, float) {
  encode_mx(src, dst, n, ElementType::kE2M1, ScaleRule::kFloor);
}
void encode_mxfp4_ceil(const float* src, uint8_t* dst, size_t n, float) {
  encode_mx(src, dst, n, ElementType::kE2M1, ScaleRule::kCeil);
}
void encode_mxfp8(const float* src, uint8_t* dst, size_t n, float) {
  encode_mx(src, dst, n, ElementType::kE4M3, ScaleRule::kFloor);
}
void encode_mxfp8_ceil(const float* src, uint8_t* dst, size_t n, float) {
  encode_mx(src, dst, n, ElementType::kE4M3, ScaleRule::kCeil);
}
void decode_mxfp4(const uint8_t* src, float* dst, size_t n, float) {
  decode_mx(src, dst, n, ElementType::kE2M1);
}
void decode_mxfp4_ceil(const uint8_t* src, float* dst, size_t n, float) {
  decode_mx(src, dst, n, ElementType::kE2M1);
}
void decode_mxfp8(const uint8_t* src, float* dst, size_t n, float) {
  decode_mx(src, dst, n, ElementType::kE4M3);
}
void decode_mxfp8_ceil(const uint8_t* src, float* dst, size_t n, float) {
  decode_mx(src, dst, n, ElementType::kE4M3);
}

}  // namespace xpusim::numerics::codecs
