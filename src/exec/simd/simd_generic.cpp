// Portable level of simd_kernels.h: plain C++ the compiler may auto-vectorize for the baseline ISA. Also the
// level every other one is tested against for agreement.
#include <cstring>

#include "exec/kernels.h"
#include "exec/simd/simd_kernels.h"
#include "numerics/decode.h"
#include "numerics/ggml_blocks.h"
#include "numerics/scalar_codecs.h"

namespace xpusim::exec::simd {
namespace {

constexpr int64_t kQK = 32;

float half_at(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, sizeof bits);
  return numerics::f16_to_f32(bits);
}

// Quantized dots: per block sum(q * x) times the scale (+ min * sum(x) for q4_1).
float dot_q4_0(const uint8_t* row, const float* x, int64_t blocks, float) {
  float total = 0.0f;
  for (int64_t b = 0; b < blocks; ++b, row += 18, x += kQK) {
    float acc = 0.0f;
    for (int j = 0; j < 16; ++j) {
      acc += static_cast<float>((row[2 + j] & 0x0F) - 8) * x[j];
      acc += static_cast<float>((row[2 + j] >> 4) - 8) * x[j + 16];
    }
    total += acc * half_at(row);
  }
  return total;
}

float dot_q4_1(const uint8_t* row, const float* x, int64_t blocks, float) {
  float total = 0.0f;
  for (int64_t b = 0; b < blocks; ++b, row += 20, x += kQK) {
    float acc = 0.0f, x_sum = 0.0f;
    for (int j = 0; j < 16; ++j) {
      acc += static_cast<float>(row[4 + j] & 0x0F) * x[j] + static_cast<float>(row[4 + j] >> 4) * x[j + 16];
      x_sum += x[j] + x[j + 16];
    }
    total += acc * half_at(row) + x_sum * half_at(row + 2);
  }
  return total;
}

float dot_q8_0(const uint8_t* row, const float* x, int64_t blocks, float) {
  float total = 0.0f;
  for (int64_t b = 0; b < blocks; ++b, row += 34, x += kQK) {
    float acc = 0.0f;
    for (int j = 0; j < kQK; ++j) acc += static_cast<float>(static_cast<int8_t>(row[2 + j])) * x[j];
    total += acc * half_at(row);
  }
  return total;
}

// Integer dots (the definition the SIMD levels are tested against): per 32-block an exact int32 sum of weight
// code x activation code, times the fp32 scales; offset terms ("-8", q4_1's min) from x.sum. The activation
// of element j is looked up through q8_position, so any Q8Order works here.
int8_t q_at(const Q8Activations& x, int64_t b, int64_t j, Q8Order order) {
  return x.q[static_cast<size_t>(q8_position(b, j, x.blocks, order))];
}

// Nibble of element j of a ggml 4-bit block (j < 16: low nibble of byte j, else high nibble of byte j - 16).
int ggml_nibble(const uint8_t* bytes, int64_t j) { return j < 16 ? (bytes[j] & 0x0F) : (bytes[j - 16] >> 4); }
// Nibble of element j of an interleaved block (element 2i in the low nibble of byte i).
int interleaved_nibble(const uint8_t* bytes, int64_t j) { return (bytes[j / 2] >> (4 * (j % 2))) & 0x0F; }

float q8_dot_q4_0(const uint8_t* row, const Q8Activations& x, float) {
  float total = 0.0f;
  for (int64_t b = 0; b < x.blocks; ++b, row += 18) {
    int sum = 0;
    for (int64_t j = 0; j < kQK; ++j)
      sum += (ggml_nibble(row + 2, j) - 8) * q_at(x, b, j, Q8Order::kNibbleQuads);
    total += half_at(row) * x.scale[static_cast<size_t>(b)] * static_cast<float>(sum);
  }
  return total;
}

float q8_dot_q4_1(const uint8_t* row, const Q8Activations& x, float) {
  float total = 0.0f;
  for (int64_t b = 0; b < x.blocks; ++b, row += 20) {
    int sum = 0;
    for (int64_t j = 0; j < kQK; ++j) sum += ggml_nibble(row + 4, j) * q_at(x, b, j, Q8Order::kNibbleQuads);
    total += half_at(row) * x.scale[static_cast<size_t>(b)] * static_cast<float>(sum) +
             half_at(row + 2) * x.sum[static_cast<size_t>(b)];
  }
  return total;
}

float q8_dot_q8_0(const uint8_t* row, const Q8Activations& x, float) {
  float total = 0.0f;
  for (int64_t b = 0; b < x.blocks; ++b, row += 34) {
    int sum = 0;
    for (int64_t j = 0; j < kQK; ++j)
      sum += static_cast<int8_t>(row[2 + j]) * q_at(x, b, j, Q8Order::kElements);
    total += half_at(row) * x.scale[static_cast<size_t>(b)] * static_cast<float>(sum);
  }
  return total;
}

// E2M1 values times 2: integers, so the 4-bit float formats dot exactly in int32 too.
constexpr int kE2M1Doubled[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

float q8_dot_mxfp4(const uint8_t* row, const Q8Activations& x, float) {
  float total = 0.0f;
  for (int64_t b = 0; b < x.blocks; ++b, row += 17) {
    int sum = 0;
    for (int64_t j = 0; j < kQK; ++j)
      sum += kE2M1Doubled[interleaved_nibble(row + 1, j)] * q_at(x, b, j, Q8Order::kEvenThenOddQuads);
    total += 0.5f * numerics::decode_e8m0(row[0]) * x.scale[static_cast<size_t>(b)] * static_cast<float>(sum);
  }
  return total;
}

// nvfp4 / nvfp4-4o6: two 16-blocks (E4M3 scale byte + 8 nibble bytes) per activation block.
float q8_dot_nvfp4(const uint8_t* row, const Q8Activations& x, float tensor_factor) {
  const auto& e4m3 = numerics::e4m3_decode_table();
  float total = 0.0f;
  for (int64_t b = 0; b < x.blocks; ++b) {
    float block_total = 0.0f;
    for (int64_t half = 0; half < 2; ++half, row += 9) {
      int sum = 0;
      for (int64_t j = 0; j < 16; ++j)
        sum += kE2M1Doubled[interleaved_nibble(row + 1, j)] *
               q_at(x, b, 16 * half + j, Q8Order::kEvenThenOddQuads);
      block_total += e4m3[row[0]] * static_cast<float>(sum);
    }
    total += 0.5f * tensor_factor * x.scale[static_cast<size_t>(b)] * block_total;
  }
  return total;
}

// ue-int4 / ue-fp4 / ue-if4: 64-value blocks (bf16 scale, 32 interleaved nibble bytes) = two activation
// blocks; levels (n ^ 8) - 8 (scale sign set) or 2 E2M1 times |scale| (/ 2).
float q8_dot_ue_4bit(const uint8_t* row, const Q8Activations& x, float) {
  float total = 0.0f;
  for (int64_t b = 0; b + 1 < x.blocks; b += 2, row += 34) {
    uint16_t scale_bits;
    std::memcpy(&scale_bits, row, 2);
    const bool is_int = (scale_bits & 0x8000u) != 0;
    const float magnitude = numerics::bf16_to_f32(static_cast<uint16_t>(scale_bits & 0x7FFFu));
    float block_total = 0.0f;
    for (int64_t half = 0; half < 2; ++half) {
      int sum = 0;
      for (int64_t j = 0; j < kQK; ++j) {
        const int n = interleaved_nibble(row + 2 + 16 * half, j);
        const int level = is_int ? static_cast<int>(static_cast<unsigned>(n) ^ 8u) - 8 : kE2M1Doubled[n];
        sum += level * q_at(x, b + half, j, Q8Order::kEvenThenOddQuads);
      }
      block_total += x.scale[static_cast<size_t>(b + half)] * static_cast<float>(sum);
    }
    total += (is_int ? magnitude : 0.5f * magnitude) * block_total;
  }
  return total;
}

// GGUF K-quants (layouts: kquant_common.h). The definition reads scales and codes element by element with
// ggml's own get_scale_min_k4 rule, not the word shuffle the SIMD levels use, so the two are checked against
// each other.
constexpr int64_t kSuperBlock = 256;

void scale_min_k4(int j, const uint8_t* packed, int& scale, int& min) {
  if (j < 4) {
    scale = packed[j] & 63;
    min = packed[j + 4] & 63;
  } else {
    scale = (packed[j + 4] & 0xF) | ((packed[j - 4] >> 6) << 4);
    min = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
  }
}

// Code (0..31 / 0..15) of element l of 32-value sub-block j of a Q4_K / Q5_K super-block.
int k4_code(const uint8_t* nibbles, int64_t j, int64_t l) {
  return (nibbles[32 * (j / 2) + l] >> (4 * (j % 2))) & 0xF;
}
int k5_code(const uint8_t* block, int64_t j, int64_t l) {
  return k4_code(block + 48, j, l) | (((block[16 + l] >> j) & 1) << 4);
}
// Code (0..63) of element e (< 256) of a Q6_K super-block.
int k6_code(const uint8_t* block, int64_t e) {
  const int64_t half = e / 128, quarter = (e % 128) / 32, l = e % 32;
  const int low = (block[64 * half + 32 * (quarter % 2) + l] >> (4 * (quarter / 2))) & 0xF;
  const int high = (block[128 + 32 * half + l] >> (2 * quarter)) & 3;
  return low | (high << 4);
}

// Q4_K / Q5_K: per sub-block d sc d_x sum(code q) - dmin m (d_x sum q).
template <int64_t kBytes, int (*kCode)(const uint8_t*, int64_t, int64_t)>
float q8_dot_k_min(const uint8_t* row, const Q8Activations& x, float) {
  float total = 0.0f;
  for (int64_t s = 0; s < x.blocks / 8; ++s, row += kBytes) {
    const float d = half_at(row), dmin = half_at(row + 2);
    for (int64_t j = 0; j < 8; ++j) {
      int scale = 0, min = 0;
      scale_min_k4(static_cast<int>(j), row + 4, scale, min);
      const int64_t b = 8 * s + j;
      int sum = 0;
      for (int64_t l = 0; l < kQK; ++l) sum += kCode(row, j, l) * q_at(x, b, l, Q8Order::kElements);
      total += d * static_cast<float>(scale) * x.scale[static_cast<size_t>(b)] * static_cast<float>(sum) -
               dmin * static_cast<float>(min) * x.sum[static_cast<size_t>(b)];
    }
  }
  return total;
}
int q4_k_code(const uint8_t* block, int64_t j, int64_t l) { return k4_code(block + 16, j, l); }

// Q6_K: per activation block d d_x (sc_a sum_a + sc_b sum_b) over its two 16-value halves, sums of
// (code - 32) q.
float q8_dot_q6_k(const uint8_t* row, const Q8Activations& x, float) {
  float total = 0.0f;
  for (int64_t s = 0; s < x.blocks / 8; ++s, row += 210) {
    const float d = half_at(row + 208);
    const auto* scales = reinterpret_cast<const int8_t*>(row + 192);
    for (int64_t j = 0; j < 8; ++j) {
      const int64_t b = 8 * s + j;
      int weighted = 0;
      for (int64_t half = 0; half < 2; ++half) {
        int sum = 0;
        for (int64_t l = 16 * half; l < 16 * half + 16; ++l)
          sum += (k6_code(row, 32 * j + l) - 32) * q_at(x, b, l, Q8Order::kElements);
        weighted += scales[2 * j + half] * sum;
      }
      total += d * x.scale[static_cast<size_t>(b)] * static_cast<float>(weighted);
    }
  }
  return total;
}

// Q2_K / Q3_K (numerics/ggml_blocks.h): the 2 low bits of element e of a super-block from qs.
int k23_low_bits(const uint8_t* qs, int64_t e) {
  return (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}

// Q2_K: per activation block d d_x (sc_a sum_a + sc_b sum_b) - dmin d_x (m_a qsum_a + m_b qsum_b) over its
// two 16-value halves, sums of code q and of q.
float q8_dot_q2_k(const uint8_t* row, const Q8Activations& x, float) {
  float total = 0.0f;
  for (int64_t s = 0; s < x.blocks / 8; ++s, row += 84) {
    const float d = half_at(row + 80), dmin = half_at(row + 82);
    for (int64_t j = 0; j < 8; ++j) {
      const int64_t b = 8 * s + j;
      int weighted = 0, mins = 0;
      for (int64_t half = 0; half < 2; ++half) {
        const uint8_t packed = row[2 * j + half];
        int sum = 0, q_sum = 0;
        for (int64_t l = 16 * half; l < 16 * half + 16; ++l) {
          const int q = q_at(x, b, l, Q8Order::kElements);
          sum += k23_low_bits(row + 16, 32 * j + l) * q;
          q_sum += q;
        }
        weighted += (packed & 0xF) * sum;
        mins += (packed >> 4) * q_sum;
      }
      total += d * x.scale[static_cast<size_t>(b)] * static_cast<float>(weighted) -
               dmin * x.scale[static_cast<size_t>(b)] * static_cast<float>(mins);
    }
  }
  return total;
}

// Q3_K: per activation block d d_x ((sc_a - 32) sum_a + (sc_b - 32) sum_b), sums of (low + 4 high - 4) q.
float q8_dot_q3_k(const uint8_t* row, const Q8Activations& x, float) {
  float total = 0.0f;
  for (int64_t s = 0; s < x.blocks / 8; ++s, row += 110) {
    const float d = half_at(row + 108);
    int8_t scales[16];
    numerics::ggml::unpack_q3_k_scales(row + 96, scales);
    for (int64_t j = 0; j < 8; ++j) {
      const int64_t b = 8 * s + j;
      int weighted = 0;
      for (int64_t half = 0; half < 2; ++half) {
        int sum = 0;
        for (int64_t l = 16 * half; l < 16 * half + 16; ++l) {
          const int high = (row[l] >> j) & 1;
          sum += (k23_low_bits(row + 32, 32 * j + l) + 4 * high - 4) * q_at(x, b, l, Q8Order::kElements);
        }
        weighted += (scales[2 * j + half] - 32) * sum;
      }
      total += d * x.scale[static_cast<size_t>(b)] * static_cast<float>(weighted);
    }
  }
  return total;
}

// Q5_0 (22 bytes: fp16 d, u32 qh, 16 nibble bytes; value (code - 16) d) and Q5_1 (24 bytes: fp16 d, fp16 m,
// qh, nibbles; value code d + m): code of element j = nibble j (ggml order) | bit j of qh << 4.
template <bool kQ5_1>
float q8_dot_q5(const uint8_t* row, const Q8Activations& x, float) {
  constexpr int64_t kBytes = kQ5_1 ? 24 : 22, kHead = kQ5_1 ? 4 : 2;
  float total = 0.0f;
  for (int64_t b = 0; b < x.blocks; ++b, row += kBytes) {
    uint32_t high_bits;
    std::memcpy(&high_bits, row + kHead, 4);
    int sum = 0;
    for (int64_t j = 0; j < kQK; ++j) {
      const int code = ggml_nibble(row + kHead + 4, j) | static_cast<int>(((high_bits >> j) & 1u) << 4);
      sum += code * q_at(x, b, j, Q8Order::kElements);
    }
    const float d = half_at(row), offset = kQ5_1 ? half_at(row + 2) : -16.0f * d;
    total += d * x.scale[static_cast<size_t>(b)] * static_cast<float>(sum) +
             offset * x.sum[static_cast<size_t>(b)];
  }
  return total;
}

// IQ4_NL (18-byte blocks) / IQ4_XS (8 sub-blocks of 16 nibble bytes per 136 bytes): per 32 values
// d (ls - 32) d_x sum(grid[nibble] q).
int iq4_sum(const uint8_t* nibbles, const Q8Activations& x, int64_t b) {
  int sum = 0;
  for (int64_t j = 0; j < kQK; ++j)
    sum += numerics::ggml::kIq4NlValues[ggml_nibble(nibbles, j)] * q_at(x, b, j, Q8Order::kElements);
  return sum;
}
float q8_dot_iq4_nl(const uint8_t* row, const Q8Activations& x, float) {
  float total = 0.0f;
  for (int64_t b = 0; b < x.blocks; ++b, row += 18)
    total += half_at(row) * x.scale[static_cast<size_t>(b)] * static_cast<float>(iq4_sum(row + 2, x, b));
  return total;
}
float q8_dot_iq4_xs(const uint8_t* row, const Q8Activations& x, float) {
  float total = 0.0f;
  for (int64_t s = 0; s < x.blocks / 8; ++s, row += 136) {
    uint16_t scales_h;
    std::memcpy(&scales_h, row + 2, 2);
    for (int64_t ib = 0; ib < 8; ++ib) {
      const int ls = ((row[4 + ib / 2] >> 4 * (ib % 2)) & 0xF) | (((scales_h >> 2 * ib) & 3) << 4);
      const int64_t b = 8 * s + ib;
      total += half_at(row) * static_cast<float>(ls - 32) * x.scale[static_cast<size_t>(b)] *
               static_cast<float>(iq4_sum(row + 8 + 16 * ib, x, b));
    }
  }
  return total;
}

// fp32 K-quant dots: each super-block decoded by numerics' ggml decoder, then multiplied in element order.
template <int64_t kBytes, void (*kDecode)(const uint8_t*, float*, size_t)>
float dot_k(const uint8_t* row, const float* x, int64_t blocks, float) {
  float values[kSuperBlock];
  float total = 0.0f;
  for (int64_t s = 0; s < blocks; ++s, row += kBytes, x += kSuperBlock) {
    kDecode(row, values, 1);
    for (int64_t i = 0; i < kSuperBlock; ++i) total += values[i] * x[i];
  }
  return total;
}

FusedDot numerics_dot(numerics::Format) { return nullptr; }

float dot_bf16(const uint16_t* row, const float* x, int64_t n) {
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i) acc += numerics::bf16_to_f32(row[i]) * x[i];
  return acc;
}

float dot_f16(const uint16_t* row, const float* x, int64_t n) {
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i) acc += numerics::f16_to_f32(row[i]) * x[i];
  return acc;
}

float fma_burst(int64_t iterations) {
  float acc[kFmaBurstChains];
  for (int c = 0; c < kFmaBurstChains; ++c) acc[c] = static_cast<float>(c);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int c = 0; c < kFmaBurstChains; ++c) acc[c] = acc[c] * 0.999999f + 1e-7f;
  }
  float sum = 0.0f;
  for (float a : acc) sum += a;
  return sum;
}

void widen_bf16(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = static_cast<uint32_t>(src[i]) << 16;
    std::memcpy(dst + i, &bits, sizeof bits);
  }
}

void transpose16(const float* const* src, float* dst, int64_t dst_stride) {
  for (int64_t c = 0; c < 16; ++c) {
    for (int64_t r = 0; r < 16; ++r) dst[c * dst_stride + r] = src[r][c];
  }
}

void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void gemm_panel(const float* x, int64_t ldx, int64_t tokens, const float* panel, int64_t depth, float* y,
                int64_t ldy, int64_t rows, bool accumulate) {
  for (int64_t t = 0; t < tokens; ++t) {
    float acc[kPanelRows];
    for (int64_t r = 0; r < kPanelRows; ++r) acc[r] = accumulate && r < rows ? y[t * ldy + r] : 0.0f;
    for (int64_t k = 0; k < depth; ++k) {
      const float xv = x[t * ldx + k];
      for (int64_t r = 0; r < kPanelRows; ++r) acc[r] += xv * panel[k * kPanelRows + r];
    }
    for (int64_t r = 0; r < rows; ++r) y[t * ldy + r] = acc[r];
  }
}

constexpr SimdKernels kGeneric = {
    .name = "generic",
    .vector_floats = 1,
    .exact_dots = false,
    .dot_f32 = exec::dot_f32,  // the reference kernel (kernels_linear.cpp) is portable already
    .dot_q4_0 = dot_q4_0,
    .dot_q4_1 = dot_q4_1,
    .dot_q8_0 = dot_q8_0,
    .dot_q4_k = dot_k<144, numerics::ggml::decode_q4_k_blocks>,
    .dot_q5_k = dot_k<176, numerics::ggml::decode_q5_k_blocks>,
    .dot_q6_k = dot_k<210, numerics::ggml::decode_q6_k_blocks>,
    .numerics_dot = numerics_dot,
    .q8_dots = {q8_dot_q4_0, q8_dot_q4_1, q8_dot_q8_0, q8_dot_mxfp4, q8_dot_nvfp4, q8_dot_ue_4bit,
                q8_dot_k_min<144, q4_k_code>, q8_dot_k_min<176, k5_code>, q8_dot_q6_k, q8_dot_q5<false>,
                q8_dot_q5<true>, q8_dot_iq4_nl, q8_dot_iq4_xs, q8_dot_q2_k, q8_dot_q3_k},
    .q8_dot_rows = {},
    .q8_dot_tokens = {},
    .quantize_q8 = simd::quantize_q8,
    .dot_bf16 = dot_bf16,
    .dot_f16 = dot_f16,
    .fma_burst = fma_burst,
    .widen_bf16 = widen_bf16,
    .transpose16 = transpose16,
    .attend_keys = nullptr,
    .axpy = axpy,
    .gemm_panel = gemm_panel};

}  // namespace

const SimdKernels* simd_kernels_generic() { return &kGeneric; }

}  // namespace xpusim::exec::simd
