// Portable level of simd_kernels.h: plain C++ the compiler may auto-vectorize for the baseline ISA. Also the
// level every other one is tested against for agreement.
#include <cstring>

#include "exec/kernels.h"
#include "exec/simd/simd_kernels.h"
#include "numerics/decode.h"
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
    .numerics_dot = numerics_dot,
    .q8_dots = {q8_dot_q4_0, q8_dot_q4_1, q8_dot_q8_0, q8_dot_mxfp4, q8_dot_nvfp4, q8_dot_ue_4bit},
    .q8_dot_rows = {},
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
