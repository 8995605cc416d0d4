// Inline bit-level conversions between fp32 and the 16-bit float formats (IEEE fp16, bf16).
// Owns: the exact rounding rules (RNE) shared by decode.cpp, the format codecs and the ggml block codecs.
// Non-goals: 8-bit and narrower element formats (scalar_codecs.h), vector kernels.
// HOWTO add a conversion: write it here as a constexpr-friendly inline function on bit patterns, add an
// exhaustive or golden test in tests/numerics/.
#pragma once

#include <bit>
#include <cstdint>

namespace xpusim::numerics::bits {

inline uint32_t f32_bits(float value) { return std::bit_cast<uint32_t>(value); }
inline float f32_from_bits(uint32_t bits) { return std::bit_cast<float>(bits); }

inline float bf16_to_f32(uint16_t bits) { return f32_from_bits(static_cast<uint32_t>(bits) << 16); }

// RNE on the fp32 pattern (PyTorch c10::BFloat16, ggml_compute_fp32_to_bf16); NaN -> 0x7FC0 | sign.
inline uint16_t f32_to_bf16(float value) {
  const uint32_t u = f32_bits(value);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>(((u >> 16) & 0x8000u) | 0x7FC0u);
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

// Truncation (RTZ) to bf16: the unified engine's host-side conversion. NaN stays a quiet NaN.
inline uint16_t f32_to_bf16_truncate(float value) {
  const uint32_t u = f32_bits(value);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>(((u >> 16) & 0x8000u) | 0x7FC0u);
  return static_cast<uint16_t>(u >> 16);
}

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in fp32.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return f32_from_bits(f32_bits(magnitude) | sign);
  }
  if (exponent == 31) return f32_from_bits(sign | 0x7F800000u | (mantissa << 13));
  return f32_from_bits(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// RNE; overflow (|x| >= 65520) -> Inf; NaN -> 0x7E00 | sign; subnormals kept.
inline uint16_t f32_to_f16(float value) {
  const uint32_t u = f32_bits(value);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t magnitude = u & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u);
  if (magnitude >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);
  if (magnitude >= 0x38800000u) {  // normal in fp16: round the mantissa, a carry bumps the exponent
    const uint32_t rounded = magnitude + 0xFFFu + ((magnitude >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((rounded >> 13) - (112u << 10)));
  }
  if (magnitude <= 0x33000000u) return sign;  // <= 2^-25 (the tie with 2^-24 goes to even 0)
  // Subnormal result: count in units of 2^-24 with RNE.
  const uint32_t exponent = magnitude >> 23;  // 102..112
  const uint32_t mantissa = (magnitude & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126u - exponent;  // 14..24
  uint32_t q = mantissa >> shift;
  const uint32_t rest = mantissa & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  if (rest > half || (rest == half && (q & 1u))) ++q;
  return static_cast<uint16_t>(sign | q);
}

}  // namespace xpusim::numerics::bits
