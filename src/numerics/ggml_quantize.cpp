// llama.cpp reference quantizers quantize_row_q4_0_ref / quantize_row_q8_0_ref, byte-exact for finite
// inputs. Non-finite rule (never UB): NaN elements are read as 0 and +-Inf as +-FLT_MAX before the block
// scale is computed; a scale that overflows fp16 is stored as Inf exactly as llama.cpp stores it.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "numerics/float_bits.h"
#include "numerics/ggml_blocks.h"

namespace xpusim::numerics::ggml {
namespace {

inline float finite_or_clamped(float value) {
  if (std::isnan(value)) return 0.0f;
  return std::clamp(value, -FLT_MAX, FLT_MAX);
}

inline void store_f16(uint8_t* dst, float value) {
  const uint16_t h = bits::f32_to_f16(value);
  std::memcpy(dst, &h, sizeof h);
}

}  // namespace

void encode_q4_0_blocks(const float* src, uint8_t* dst, size_t block_count) {
  float x[kQK];
  for (size_t b = 0; b < block_count; ++b, src += kQK, dst += 18) {
    float amax = 0.0f;
    float max = 0.0f;  // the element of largest magnitude, with its sign; the first one wins ties
    for (size_t j = 0; j < kQK; ++j) {
      x[j] = finite_or_clamped(src[j]);
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_f16(dst, d);
    for (size_t j = 0; j < kQK / 2; ++j) {
      // (int8_t)(x*id + 8.5f) in llama.cpp truncates a value in [0, 16.5]; the clamp only guards the cast.
      const float t0 = std::clamp(x[j] * id + 8.5f, 0.0f, 15.0f);
      const float t1 = std::clamp(x[kQK / 2 + j] * id + 8.5f, 0.0f, 15.0f);
      dst[2 + j] = static_cast<uint8_t>(static_cast<uint8_t>(t0) | (static_cast<uint8_t>(t1) << 4));
    }
  }
}

void encode_q8_0_blocks(const float* src, uint8_t* dst, size_t block_count) {
  float x[kQK];
  for (size_t b = 0; b < block_count; ++b, src += kQK, dst += 34) {
    float amax = 0.0f;
    for (size_t j = 0; j < kQK; ++j) {
      x[j] = finite_or_clamped(src[j]);
      amax = std::max(amax, std::fabs(x[j]));
    }
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_f16(dst, d);
    for (size_t j = 0; j < kQK; ++j) {
      // roundf: ties away from zero, as llama.cpp; |x*id| <= 127 (+ rounding) so the clamp is a guard.
      const float q = std::clamp(std::round(x[j] * id), -127.0f, 127.0f);
      dst[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(q));
    }
  }
}

}  // namespace xpusim::numerics::ggml
