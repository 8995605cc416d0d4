// Element formats of the format table: one value per code, no scale. 4-bit formats (int4, fp4) pack
// two codes per byte (element 2i in the low nibble), so their "block" is 2 elements / 1 byte.
#include <cstring>

#include "numerics/codecs.h"
#include "numerics/float_bits.h"
#include "numerics/scalar_codecs.h"

namespace xpusim::numerics::codecs {
namespace {

template <typename Code, typename EncodeOne>
void encode_each(const float* src, uint8_t* dst, size_t count, EncodeOne encode_one) {
  for (size_t i = 0; i < count; ++i) {
    const Code code = static_cast<Code>(encode_one(src[i]));
    std::memcpy(dst + i * sizeof(Code), &code, sizeof(Code));  // little-endian host
  }
}

template <typename Code, typename DecodeOne>
void decode_each(const uint8_t* src, float* dst, size_t count, DecodeOne decode_one) {
  for (size_t i = 0; i < count; ++i) {
    Code code;
    std::memcpy(&code, src + i * sizeof(Code), sizeof(Code));
    dst[i] = decode_one(code);
  }
}

void decode_byte_table(const std::array<float, 256>& table, const uint8_t* src, float* dst, size_t count) {
  for (size_t i = 0; i < count; ++i) dst[i] = table[src[i]];
}

inline uint8_t int4_nibble(float value) { return static_cast<uint8_t>(round_clamp_int(value, -8, 7) & 0xF); }
inline float int4_value(uint8_t nibble) { return static_cast<float>(static_cast<int>(nibble ^ 8u) - 8); }

}  // namespace

void encode_fp32(const float* src, uint8_t* dst, size_t count, float) { std::memcpy(dst, src, 4 * count); }
void decode_fp32(const uint8_t* src, float* dst, size_t count, float) { std::memcpy(dst, src, 4 * count); }

void encode_bf16(const float* src, uint8_t* dst, size_t count, float) {
  encode_each<uint16_t>(src, dst, count, bits::f32_to_bf16);
}
// Whole chunks go through fixed-size local arrays so the compiler vectorizes them (the executor decodes bf16
// matrices with this); the constant memcpy sizes matter (a variable size became a slow `rep movs`).
void decode_bf16(const uint8_t* src, float* dst, size_t count, float) {
  constexpr size_t kChunk = 64;
  size_t i = 0;
  for (; i + kChunk <= count; i += kChunk) {
    uint16_t in[kChunk];
    float out[kChunk];
    std::memcpy(in, src + 2 * i, sizeof in);
    for (size_t j = 0; j < kChunk; ++j) out[j] = bits::bf16_to_f32(in[j]);
    std::memcpy(dst + i, out, sizeof out);
  }
  decode_each<uint16_t>(src + 2 * i, dst + i, count - i, bits::bf16_to_f32);
}

void encode_fp16(const float* src, uint8_t* dst, size_t count, float) {
  encode_each<uint16_t>(src, dst, count, bits::f32_to_f16);
}
void decode_fp16(const uint8_t* src, float* dst, size_t count, float) {
  decode_each<uint16_t>(src, dst, count, bits::f16_to_f32);
}

// bf19 container: the fp32 pattern with the low 13 bits zero.
void encode_bf19(const float* src, uint8_t* dst, size_t count, float) {
  encode_each<uint32_t>(src, dst, count, [](float v) { return encode_bf19_rne(v) << 13; });
}
void encode_bf19_trunc(const float* src, uint8_t* dst, size_t count, float) {
  encode_each<uint32_t>(src, dst, count, [](float v) { return encode_bf19_truncate(v) << 13; });
}
void decode_bf19(const uint8_t* src, float* dst, size_t count, float) {
  decode_each<uint32_t>(src, dst, count, [](uint32_t c) { return numerics::decode_bf19(c >> 13); });
}
void decode_bf19_trunc(const uint8_t* src, float* dst, size_t count, float amax) {
  decode_bf19(src, dst, count, amax);
}

void encode_fp8_e4m3(const float* src, uint8_t* dst, size_t count, float) {
  for (size_t i = 0; i < count; ++i) dst[i] = encode_e4m3(src[i], Overflow::kIeee);
}
void encode_fp8_e4m3_sat(const float* src, uint8_t* dst, size_t count, float) {
  for (size_t i = 0; i < count; ++i) dst[i] = encode_e4m3(src[i], Overflow::kSaturate);
}
void decode_fp8_e4m3(const uint8_t* src, float* dst, size_t count, float) {
  decode_byte_table(e4m3_decode_table(), src, dst, count);
}
void decode_fp8_e4m3_sat(const uint8_t* src, float* dst, size_t count, float) {
  decode_byte_table(e4m3_decode_table(), src, dst, count);
}

void encode_fp8_e5m2(const float* src, uint8_t* dst, size_t count, float) {
  for (size_t i = 0; i < count; ++i) dst[i] = encode_e5m2(src[i], Overflow::kIeee);
}
void encode_fp8_e5m2_sat(const float* src, uint8_t* dst, size_t count, float) {
  for (size_t i = 0; i < count; ++i) dst[i] = encode_e5m2(src[i], Overflow::kSaturate);
}
void decode_fp8_e5m2(const uint8_t* src, float* dst, size_t count, float) {
  decode_byte_table(e5m2_decode_table(), src, dst, count);
}
void decode_fp8_e5m2_sat(const uint8_t* src, float* dst, size_t count, float) {
  decode_byte_table(e5m2_decode_table(), src, dst, count);
}

void encode_e8m0(const float* src, uint8_t* dst, size_t count, float) {
  for (size_t i = 0; i < count; ++i) dst[i] = numerics::encode_e8m0(src[i]);
}
void decode_e8m0(const uint8_t* src, float* dst, size_t count, float) {
  for (size_t i = 0; i < count; ++i) dst[i] = numerics::decode_e8m0(src[i]);
}

void encode_int8(const float* src, uint8_t* dst, size_t count, float) {
  for (size_t i = 0; i < count; ++i) dst[i] = static_cast<uint8_t>(round_clamp_int(src[i], -128, 127) & 0xFF);
}
void decode_int8(const uint8_t* src, float* dst, size_t count, float) {
  for (size_t i = 0; i < count; ++i) dst[i] = static_cast<float>(static_cast<int8_t>(src[i]));
}

void encode_int4(const float* src, uint8_t* dst, size_t block_count, float) {
  for (size_t i = 0; i < block_count; ++i) {
    dst[i] = static_cast<uint8_t>(int4_nibble(src[2 * i]) | (int4_nibble(src[2 * i + 1]) << 4));
  }
}
void decode_int4(const uint8_t* src, float* dst, size_t block_count, float) {
  for (size_t i = 0; i < block_count; ++i) {
    dst[2 * i] = int4_value(src[i] & 0xF);
    dst[2 * i + 1] = int4_value(src[i] >> 4);
  }
}

void encode_fp4(const float* src, uint8_t* dst, size_t block_count, float) {
  for (size_t i = 0; i < block_count; ++i) {
    dst[i] = static_cast<uint8_t>(encode_e2m1(src[2 * i]) | (encode_e2m1(src[2 * i + 1]) << 4));
  }
}
void decode_fp4(const uint8_t* src, float* dst, size_t block_count, float) {
  for (size_t i = 0; i < block_count; ++i) {
    dst[2 * i] = kE2M1Values[src[i] & 0xF];
    dst[2 * i + 1] = kE2M1Values[src[i] >> 4];
  }
}

}  // namespace xpusim::numerics::codecs
