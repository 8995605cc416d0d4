// decode_to_f32 and the per-DType block decoder table (one row per DType, checked at compile time).
#include "numerics/decode.h"
#include "core/enum_table.h"

#include <array>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "numerics/float_bits.h"
#include "numerics/ggml_blocks.h"
#include "numerics/scalar_codecs.h"
#include "numerics/storage_decoders.h"

namespace xpusim::numerics {
namespace {

void decode_f32(const uint8_t* src, float* dst, size_t count) { std::memcpy(dst, src, count * 4); }

void decode_f64(const uint8_t* src, float* dst, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    double value;
    std::memcpy(&value, src + 8 * i, 8);
    // An out-of-range double -> float conversion is UB in C++; do IEEE RNE overflow by hand.
    // 0x1.ffffffp127 is the midpoint between FLT_MAX and 2^128: it and everything above round to Inf.
    if (std::fabs(value) >= 0x1.ffffffp127) {
      dst[i] = std::signbit(value) ? -INFINITY : INFINITY;
    } else {
      dst[i] = static_cast<float>(value);  // NaN converts to NaN, in range otherwise
    }
  }
}

void decode_f16(const uint8_t* src, float* dst, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = bits::f16_to_f32(h);
  }
}

void decode_bf16(const uint8_t* src, float* dst, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = bits::bf16_to_f32(h);
  }
}

void decode_e4m3(const uint8_t* src, float* dst, size_t count) {
  const auto& table = e4m3_decode_table();
  for (size_t i = 0; i < count; ++i) dst[i] = table[src[i]];
}

void decode_e5m2(const uint8_t* src, float* dst, size_t count) {
  const auto& table = e5m2_decode_table();
  for (size_t i = 0; i < count; ++i) dst[i] = table[src[i]];
}

struct DecoderRow {
  DType dtype;
  BlockDecoder decoder;  // nullptr: not a real-number type
};

constexpr std::array<DecoderRow, static_cast<size_t>(DType::COUNT)> kBlockDecoders{{
    {DType::F64, decode_f64},
    {DType::F32, decode_f32},
    {DType::F16, decode_f16},
    {DType::BF16, decode_bf16},
    {DType::F8_E4M3, decode_e4m3},
    {DType::F8_E5M2, decode_e5m2},
    {DType::I64, nullptr},
    {DType::I32, nullptr},
    {DType::I16, nullptr},
    {DType::I8, nullptr},
    {DType::U64, nullptr},
    {DType::U32, nullptr},
    {DType::U16, nullptr},
    {DType::U8, nullptr},
    {DType::BOOL, nullptr},
    {DType::Q4_0, ggml::decode_q4_0_blocks},
    {DType::Q4_1, ggml::decode_q4_1_blocks},
    {DType::Q5_0, ggml::decode_q5_0_blocks},
    {DType::Q5_1, ggml::decode_q5_1_blocks},
    {DType::Q8_0, ggml::decode_q8_0_blocks},
    {DType::Q4_K, ggml::decode_q4_k_blocks},
    {DType::Q5_K, ggml::decode_q5_k_blocks},
    {DType::Q6_K, ggml::decode_q6_k_blocks},
    {DType::IQ4_NL, ggml::decode_iq4_nl_blocks},
    {DType::IQ4_XS, ggml::decode_iq4_xs_blocks},
    {DType::Q2_K, ggml::decode_q2_k_blocks},
    {DType::Q3_K, ggml::decode_q3_k_blocks},
    {DType::F8_E8M0, decode_e8m0_blocks},
    {DType::F8_E4M3FNUZ, decode_e4m3fnuz_blocks},
    {DType::F8_E5M2FNUZ, decode_e5m2fnuz_blocks},
    {DType::F4, decode_f4_blocks},
    {DType::F6_E2M3, decode_f6_e2m3_blocks},
    {DType::F6_E3M2, decode_f6_e3m2_blocks},
    {DType::C64, nullptr},
    {DType::NUMERICS, nullptr},  // needs its numerics::Format: numerics::decode_row (tensor_codec.h)
}};

static_assert(rows_in_enum_order(kBlockDecoders, [](const auto& row) { return row.dtype; }),
              "kBlockDecoders rows must follow the DType enum order");

}  // namespace

BlockDecoder block_decoder(DType dtype) {
  const size_t index = static_cast<size_t>(dtype);
  if (index >= kBlockDecoders.size() || kBlockDecoders[index].decoder == nullptr) {
    fail(
        "cannot decode dtype {} to f32 without more information (not a real-number type, or a numerics "
        "format that only numerics::decode_row knows)",
        index < kBlockDecoders.size() ? dtype_name(dtype) : std::string_view("?"));
  }
  return kBlockDecoders[index].decoder;
}

void decode_to_f32(DType dtype, const void* src, float* dst, size_t elements) {
  const BlockDecoder decoder = block_decoder(dtype);
  const DTypeInfo& info = dtype_info(dtype);
  if (elements % info.block_elements != 0) {
    fail("cannot decode {} elements of {}: not a multiple of the block size {}", elements, info.name,
         info.block_elements);
  }
  decoder(static_cast<const uint8_t*>(src), dst, elements / info.block_elements);
}

float bf16_to_f32(uint16_t value) { return bits::bf16_to_f32(value); }
uint16_t f32_to_bf16(float value) { return bits::f32_to_bf16(value); }
float f16_to_f32(uint16_t value) { return bits::f16_to_f32(value); }
uint16_t f32_to_f16(float value) { return bits::f32_to_f16(value); }

}  // namespace xpusim::numerics
