// NVIDIA-style FP4 block formats with an E4M3 block scale and an fp32 per-tensor amax A:
//   nvfp4      16 E2M1 + UE4M3 scale, "static_6" recipe (TransformerEngine / ModelOpt / fouroversix)
//   nvfp4-4o6  Four Over Six (arXiv 2512.02010): per block the lower-SSE of scale-to-6 and scale-to-4
//   if4        IF4 (arXiv 2603.28765): per block the lower-SSE of E2M1 and INT4 (+-7, x6/7); scale sign bit
// Byte-exact with fouroversix 1.0.5 quantize/pytorch/reference.py (same fp32 operation order), including
// its 0x8 (-0) nibbles for negative values that round to zero. One deliberate difference: E2M1 rounding
// saturates at 6 where the reference's "2*round(x/2)" would produce 8 (only reachable when a block
// scale is an E4M3 subnormal that rounded down by more than 1/6).
// Block layout: byte 0 = E4M3 scale (IF4: +0x80 when INT), bytes 1..8 = 16 nibbles, low = even element.
// Decode: value = element * (s * (A / C)) (A / C first, so A = FLT_MAX cannot overflow) with C = 2688 (6*448)
// or 1536 (6*256, Four Over Six); INT4 elements are further scaled by 6/7.
#include <cmath>

#include "numerics/codecs.h"
#include "numerics/scalar_codecs.h"

namespace xpusim::numerics::codecs {
namespace {

constexpr size_t kBlock = 16;
constexpr size_t kBlockBytes = 9;
constexpr float kSixBy448 = 2688.0f;
constexpr float kSixBy256 = 1536.0f;
constexpr float kSevenSixths = static_cast<float>(7.0 / 6.0);  // torch: python float -> fp32 opmath
constexpr float kSixSevenths = static_cast<float>(6.0 / 7.0);

float block_amax(const float* x) {
  float amax = 0.0f;
  for (size_t i = 0; i < kBlock; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  return amax;
}

// fouroversix fake_quantize_to_e2m1 (round half even on the E2M1 grid), saturating at 6.
inline float e2m1_round(float v) { return kE2M1Values[encode_e2m1(std::fabs(v))]; }

// Nibble as fouroversix packs it: sign of v (0x8 for negative values rounding to 0, +0 for v == 0).
inline uint8_t e2m1_nibble(float v) {
  const uint8_t magnitude = encode_e2m1(std::fabs(v));
  return static_cast<uint8_t>(v < 0.0f ? magnitude | 0x8u : magnitude);
}

inline float int4_round(float v) { return std::nearbyint(std::fmin(std::fmax(v, -7.0f), 7.0f)); }

struct ScaledBlock {
  uint8_t scale_code;
  float scale;           // decoded E4M3 scale
  float scaled[kBlock];  // x * (1 / (decode_scale * s)), 0 when s == 0
};

// quantize_to_nvfp4: s_hp = (block_amax / 6) * (C / A) * expansion; s = E4M3(s_hp).
ScaledBlock scale_block(const float* x, float tensor_amax, float constant, float expansion) {
  ScaledBlock out{};
  if (tensor_amax > 0.0f) {
    const float encode_scale = constant / tensor_amax;
    float scale_hp = block_amax(x) / 6.0f * encode_scale;
    if (expansion != 1.0f) scale_hp = scale_hp * expansion;
    out.scale_code = encode_e4m3(scale_hp, Overflow::kIeee);  // torch .to(float8_e4m3fn); s_hp <= 448
    out.scale = e4m3_decode_table()[out.scale_code];
    if (out.scale != 0.0f) {
      const float decode_scale = 1.0f / encode_scale;
      const float multiplier = 1.0f / (decode_scale * out.scale);
      for (size_t i = 0; i < kBlock; ++i) out.scaled[i] = x[i] * multiplier;
    }
  }
  return out;
}

float e2m1_block_sse(const float* x, const ScaledBlock& b, float tensor_amax, float constant) {
  float sse = 0.0f;
  for (size_t i = 0; i < kBlock; ++i) {
    const float q = std::copysign(e2m1_round(b.scaled[i]), b.scaled[i]);
    const float error = q * b.scale * tensor_amax / constant - x[i];
    sse += error * error;
  }
  return sse;
}

void store_e2m1(const ScaledBlock& b, uint8_t* dst) {
  dst[0] = b.scale_code;
  for (size_t i = 0; i < kBlock / 2; ++i) {
    dst[1 + i] = static_cast<uint8_t>(e2m1_nibble(b.scaled[2 * i]) | (e2m1_nibble(b.scaled[2 * i + 1]) << 4));
  }
}

void decode_fp4_blocks(const uint8_t* src, float* dst, size_t block_count, float tensor_amax, float constant,
                       bool if4) {
  for (size_t b = 0; b < block_count; ++b, src += kBlockBytes, dst += kBlock) {
    const bool is_int = if4 && (src[0] & 0x80u) != 0;
    const float scale = e4m3_decode_table()[if4 ? (src[0] & 0x7Fu) : src[0]];
    // A 16-entry table of this block's values, then one lookup per nibble (the hot loop of a matvec).
    float table[16];
    if (is_int) {
      const float factor = scale * (tensor_amax / constant) * kSixSevenths;
      for (uint32_t n = 0; n < 16; ++n) table[n] = static_cast<float>(static_cast<int>(n ^ 8u) - 8) * factor;
    } else {
      const float factor = scale * (tensor_amax / constant);
      for (uint32_t n = 0; n < 16; ++n) table[n] = kE2M1Values[n] * factor;
    }
    for (size_t i = 0; i < kBlock / 2; ++i) {
      dst[2 * i] = table[src[1 + i] & 0xFu];
      dst[2 * i + 1] = table[src[1 + i] >> 4];
    }
  }
}

}  // namespace

void encode_nvfp4(const float* src, uint8_t* dst, size_t block_count, float tensor_amax) {
  for (size_t b = 0; b < block_count; ++b, src += kBlock, dst += kBlockBytes) {
    store_e2m1(scale_block(src, tensor_amax, kSixBy448, 1.0f), dst);
  }
}

void decode_nvfp4(const uint8_t* src, float* dst, size_t block_count, float tensor_amax) {
  decode_fp4_blocks(src, dst, block_count, tensor_amax, kSixBy448, false);
}

void encode_nvfp4_4o6(const float* src, uint8_t* dst, size_t block_count, float tensor_amax) {
  for (size_t b = 0; b < block_count; ++b, src += kBlock, dst += kBlockBytes) {
    const ScaledBlock six = scale_block(src, tensor_amax, kSixBy256, 1.0f);
    const ScaledBlock four = scale_block(src, tensor_amax, kSixBy256, 1.5f);
    const float sse_six = e2m1_block_sse(src, six, tensor_amax, kSixBy256);
    const float sse_four = e2m1_block_sse(src, four, tensor_amax, kSixBy256);
    store_e2m1(sse_four < sse_six ? four : six, dst);  // a tie keeps 6
  }
}

void decode_nvfp4_4o6(const uint8_t* src, float* dst, size_t block_count, float tensor_amax) {
  decode_fp4_blocks(src, dst, block_count, tensor_amax, kSixBy256, false);
}

void encode_if4(const float* src, uint8_t* dst, size_t block_count, float tensor_amax) {
  for (size_t b = 0; b < block_count; ++b, src += kBlock, dst += kBlockBytes) {
    const ScaledBlock block = scale_block(src, tensor_amax, kSixBy448, 1.0f);
    const float sse_fp = e2m1_block_sse(src, block, tensor_amax, kSixBy448);
    float sse_int = 0.0f;
    float q_int[kBlock];
    for (size_t i = 0; i < kBlock; ++i) {
      q_int[i] = int4_round(block.scaled[i] * kSevenSixths);
      const float error = q_int[i] * block.scale * tensor_amax * kSixSevenths / kSixBy448 - src[i];
      sse_int += error * error;
    }
    if (!(sse_int < sse_fp)) {  // ties keep FP
      store_e2m1(block, dst);
      continue;
    }
    dst[0] = static_cast<uint8_t>(block.scale_code | 0x80u);
    for (size_t i = 0; i < kBlock / 2; ++i) {
      const auto low = static_cast<uint8_t>(static_cast<int>(q_int[2 * i]) & 0xF);
      const auto high = static_cast<uint8_t>(static_cast<int>(q_int[2 * i + 1]) & 0xF);
      dst[1 + i] = static_cast<uint8_t>(low | (high << 4));
    }
  }
}

void decode_if4(const uint8_t* src, float* dst, size_t block_count, float tensor_amax) {
  decode_fp4_blocks(src, dst, block_count, tensor_amax, kSixBy448, true);
}

}  // namespace xpusim::numerics::codecs
