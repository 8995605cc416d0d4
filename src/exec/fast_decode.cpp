#include "exec/fast_decode.h"

#include <cstring>

namespace xpusim::exec {
namespace {

constexpr size_t kQK = 32;  // elements per Q4_0 / Q4_1 / Q8_0 block

// IEEE half -> float, inlined (the call to numerics::f16_to_f32 was 15% of a Q4_1 decode step). Exact: every
// half is representable as a float; subnormals scale their mantissa by 2^-24.
float load_f16(const uint8_t* p) {
  uint16_t half;
  std::memcpy(&half, p, sizeof half);
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  const uint32_t exponent = (half >> 10) & 0x1Fu, mantissa = half & 0x3FFu;
  uint32_t bits;
  if (exponent == 0) {
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    std::memcpy(&bits, &magnitude, sizeof bits);
    bits |= sign;
  } else if (exponent == 31) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  }
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// Q4_1: f16 d, f16 m, 16 bytes of nibbles; element j = (lo nibble j) * d + m, element j + 16 = (hi nibble j)
// * d + m.
void decode_q4_1_row(const uint8_t* src, float* dst, size_t blocks) {
  for (size_t b = 0; b < blocks; ++b, src += 20, dst += kQK) {
    const float d = load_f16(src), m = load_f16(src + 2);
    uint8_t q[16];
    std::memcpy(q, src + 4, 16);
    float out[kQK];
    for (size_t j = 0; j < 16; ++j) {
      out[j] = static_cast<float>(q[j] & 0x0F) * d + m;
      out[j + 16] = static_cast<float>(q[j] >> 4) * d + m;
    }
    std::memcpy(dst, out, sizeof out);
  }
}

// Q4_0: f16 d, 16 bytes of nibbles; element = (nibble - 8) * d.
void decode_q4_0_row(const uint8_t* src, float* dst, size_t blocks) {
  for (size_t b = 0; b < blocks; ++b, src += 18, dst += kQK) {
    const float d = load_f16(src);
    uint8_t q[16];
    std::memcpy(q, src + 2, 16);
    float out[kQK];
    for (size_t j = 0; j < 16; ++j) {
      out[j] = static_cast<float>((q[j] & 0x0F) - 8) * d;
      out[j + 16] = static_cast<float>((q[j] >> 4) - 8) * d;
    }
    std::memcpy(dst, out, sizeof out);
  }
}

// Q8_0: f16 d, 32 int8; element = q * d.
void decode_q8_0_row(const uint8_t* src, float* dst, size_t blocks) {
  for (size_t b = 0; b < blocks; ++b, src += 34, dst += kQK) {
    const float d = load_f16(src);
    int8_t q[kQK];
    std::memcpy(q, src + 2, kQK);
    float out[kQK];
    for (size_t j = 0; j < kQK; ++j) out[j] = static_cast<float>(q[j]) * d;
    std::memcpy(dst, out, sizeof out);
  }
}

// BF16: the upper half of an fp32.
void decode_bf16_row(const uint8_t* src, float* dst, size_t elements) {
  constexpr size_t kChunk = 64;
  for (size_t i = 0; i < elements; i += kChunk) {
    const size_t n = elements - i < kChunk ? elements - i : kChunk;
    uint16_t in[kChunk];
    uint32_t out[kChunk];
    std::memcpy(in, src + 2 * i, 2 * n);
    for (size_t j = 0; j < kChunk; ++j) out[j] = static_cast<uint32_t>(in[j]) << 16;
    std::memcpy(dst + i, out, 4 * n);
  }
}

}  // namespace

RowDecoder fast_row_decoder(DType dtype) {
  switch (dtype) {
    case DType::Q4_0:
      return decode_q4_0_row;
    case DType::Q4_1:
      return decode_q4_1_row;
    case DType::Q8_0:
      return decode_q8_0_row;
    case DType::BF16:
      return decode_bf16_row;
    default:
      return nullptr;
  }
}

}  // namespace xpusim::exec
