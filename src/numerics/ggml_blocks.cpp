// ggml block decoders: straight ports of ggml-quants.c dequantize_row_* (same fp32 operation order, so
// results are bit-identical; the build does not contract a*b+c into FMA: -std=c++20 implies
// -ffp-contract=off on GCC, and clang's default "on" only fuses within one expression, which ggml's
// code also allows).
#include "numerics/ggml_blocks.h"

#include <cstring>

#include "numerics/float_bits.h"

namespace xpusim::numerics::ggml {
namespace {

inline float load_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof h);
  return bits::f16_to_f32(h);
}

// get_scale_min_k4 from ggml-quants.c: 6-bit scale and min of sub-block j packed in 12 bytes.
inline void scale_min_k4(int j, const uint8_t* q, uint8_t& scale, uint8_t& min) {
  if (j < 4) {
    scale = q[j] & 63;
    min = q[j + 4] & 63;
  } else {
    scale = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

}  // namespace

void decode_q4_0_blocks(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 18, dst += kQK) {
    const float d = load_f16(src);
    const uint8_t* qs = src + 2;
    for (size_t j = 0; j < kQK / 2; ++j) {
      dst[j] = static_cast<float>((qs[j] & 0x0F) - 8) * d;
      dst[j + kQK / 2] = static_cast<float>((qs[j] >> 4) - 8) * d;
    }
  }
}

void decode_q4_1_blocks(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 20, dst += kQK) {
    const float d = load_f16(src);
    const float m = load_f16(src + 2);
    const uint8_t* qs = src + 4;
    for (size_t j = 0; j < kQK / 2; ++j) {
      dst[j] = static_cast<float>(qs[j] & 0x0F) * d + m;
      dst[j + kQK / 2] = static_cast<float>(qs[j] >> 4) * d + m;
    }
  }
}

void decode_q5_0_blocks(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 22, dst += kQK) {
    const float d = load_f16(src);
    uint32_t qh;
    std::memcpy(&qh, src + 2, sizeof qh);
    const uint8_t* qs = src + 6;
    for (uint32_t j = 0; j < kQK / 2; ++j) {
      const uint32_t high0 = ((qh >> j) << 4) & 0x10u;
      const uint32_t high1 = (qh >> (j + 12)) & 0x10u;
      const int32_t x0 = static_cast<int32_t>((qs[j] & 0x0Fu) | high0) - 16;
      const int32_t x1 = static_cast<int32_t>((qs[j] >> 4) | high1) - 16;
      dst[j] = static_cast<float>(x0) * d;
      dst[j + kQK / 2] = static_cast<float>(x1) * d;
    }
  }
}

void decode_q5_1_blocks(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 24, dst += kQK) {
    const float d = load_f16(src);
    const float m = load_f16(src + 2);
    uint32_t qh;
    std::memcpy(&qh, src + 4, sizeof qh);
    const uint8_t* qs = src + 8;
    for (uint32_t j = 0; j < kQK / 2; ++j) {
      const uint32_t high0 = ((qh >> j) << 4) & 0x10u;
      const uint32_t high1 = (qh >> (j + 12)) & 0x10u;
      dst[j] = static_cast<float>((qs[j] & 0x0Fu) | high0) * d + m;
      dst[j + kQK / 2] = static_cast<float>((qs[j] >> 4) | high1) * d + m;
    }
  }
}

void decode_q8_0_blocks(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 34, dst += kQK) {
    const float d = load_f16(src);
    const int8_t* qs = reinterpret_cast<const int8_t*>(src + 2);
    for (size_t j = 0; j < kQK; ++j) dst[j] = static_cast<float>(qs[j]) * d;
  }
}

// Q4_K: d @0, dmin @2, scales[12] @4, qs[128] @16.
void decode_q4_k_blocks(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 144) {
    const float d = load_f16(src);
    const float min = load_f16(src + 2);
    const uint8_t* scales = src + 4;
    const uint8_t* q = src + 16;
    for (int j = 0; j < 8; j += 2, q += 32) {
      uint8_t sc, m;
      scale_min_k4(j, scales, sc, m);
      const float d1 = d * sc;
      const float m1 = min * m;
      scale_min_k4(j + 1, scales, sc, m);
      const float d2 = d * sc;
      const float m2 = min * m;
      for (int l = 0; l < 32; ++l) dst[l] = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) dst[32 + l] = d2 * static_cast<float>(q[l] >> 4) - m2;
      dst += 64;
    }
  }
}

// Q5_K: d @0, dmin @2, scales[12] @4, qh[32] @16, qs[128] @48.
void decode_q5_k_blocks(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 176) {
    const float d = load_f16(src);
    const float min = load_f16(src + 2);
    const uint8_t* scales = src + 4;
    const uint8_t* qh = src + 16;
    const uint8_t* ql = src + 48;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < 8; j += 2, ql += 32) {
      uint8_t sc, m;
      scale_min_k4(j, scales, sc, m);
      const float d1 = d * sc;
      const float m1 = min * m;
      scale_min_k4(j + 1, scales, sc, m);
      const float d2 = d * sc;
      const float m2 = min * m;
      for (int l = 0; l < 32; ++l) {
        dst[l] = d1 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
      }
      for (int l = 0; l < 32; ++l) {
        dst[32 + l] = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
      }
      dst += 64;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

// Q6_K: ql[128] @0, qh[64] @128, int8 scales[16] @192, d @208.
void decode_q6_k_blocks(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 210) {
    const float d = load_f16(src + 208);
    const uint8_t* ql = src;
    const uint8_t* qh = src + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(src + 192);
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, dst += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        dst[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        dst[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        dst[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        dst[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

// Q2_K: scales[16] @0, qs[64] @16, d @80, dmin @82 (dequantize_row_q2_K).
void decode_q2_k_blocks(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 84) {
    const float d = load_f16(src + 80);
    const float min = load_f16(src + 82);
    const uint8_t* scales = src;
    const uint8_t* q = src + 16;
    for (int n = 0; n < 2; ++n, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, scales += 2, dst += 32) {
        for (int half = 0; half < 2; ++half) {
          const float dl = d * static_cast<float>(scales[half] & 0xF);
          const float ml = min * static_cast<float>(scales[half] >> 4);
          for (int l = 16 * half; l < 16 * half + 16; ++l)
            dst[l] = dl * static_cast<float>((q[l] >> shift) & 3) - ml;
        }
      }
    }
  }
}

// Q3_K: hmask[32] @0, qs[64] @32, scales[12] @96, d @108 (dequantize_row_q3_K).
void decode_q3_k_blocks(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 110) {
    const float d = load_f16(src + 108);
    const uint8_t* hmask = src;
    const uint8_t* q = src + 32;
    int8_t scales[16];
    unpack_q3_k_scales(src + 96, scales);
    int is = 0;
    uint8_t m = 1;
    for (int n = 0; n < 2; ++n, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1), dst += 32) {
        for (int half = 0; half < 2; ++half) {
          const float dl = d * static_cast<float>(scales[is++] - 32);
          for (int l = 16 * half; l < 16 * half + 16; ++l) {
            const int code = ((q[l] >> shift) & 3) - ((hmask[l] & m) ? 0 : 4);
            dst[l] = dl * static_cast<float>(code);
          }
        }
      }
    }
  }
}

// IQ4_NL: d @0, qs[16] @2 (dequantize_row_iq4_nl).
void decode_iq4_nl_blocks(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 18, dst += kQK) {
    const float d = load_f16(src);
    const uint8_t* qs = src + 2;
    for (size_t j = 0; j < kQK / 2; ++j) {
      dst[j] = d * static_cast<float>(kIq4NlValues[qs[j] & 0xF]);
      dst[j + kQK / 2] = d * static_cast<float>(kIq4NlValues[qs[j] >> 4]);
    }
  }
}

// IQ4_XS: d @0, scales_h @2, scales_l[4] @4, qs[128] @8 (dequantize_row_iq4_xs).
void decode_iq4_xs_blocks(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 136) {
    const float d = load_f16(src);
    uint16_t scales_h;
    std::memcpy(&scales_h, src + 2, 2);
    const uint8_t* scales_l = src + 4;
    const uint8_t* qs = src + 8;
    for (int ib = 0; ib < 8; ++ib, qs += 16, dst += kQK) {
      const int ls = ((scales_l[ib / 2] >> 4 * (ib % 2)) & 0xF) | (((scales_h >> 2 * ib) & 3) << 4);
      const float dl = d * static_cast<float>(ls - 32);
      for (size_t j = 0; j < kQK / 2; ++j) {
        dst[j] = dl * static_cast<float>(kIq4NlValues[qs[j] & 0xF]);
        dst[j + kQK / 2] = dl * static_cast<float>(kIq4NlValues[qs[j] >> 4]);
      }
    }
  }
}

}  // namespace xpusim::numerics::ggml
