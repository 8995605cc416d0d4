// Portable level of simd_kernels.h: plain C++ the compiler may auto-vectorize for the baseline ISA. Also the
// level every other one is tested against for agreement.
#include <cstring>

#include "exec/kernels.h"
#include "exec/simd/simd_kernels.h"
#include "numerics/decode.h"

namespace xpusim::exec::simd {
namespace {

constexpr int64_t kQK = 32;

float half_at(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, sizeof bits);
  return numerics::f16_to_f32(bits);
}

// Quantized dots: per block sum(q * x) times the scale (+ min * sum(x) for q4_1).
float dot_q4_0(const uint8_t* row, const float* x, int64_t blocks) {
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

float dot_q4_1(const uint8_t* row, const float* x, int64_t blocks) {
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

float dot_q8_0(const uint8_t* row, const float* x, int64_t blocks) {
  float total = 0.0f;
  for (int64_t b = 0; b < blocks; ++b, row += 34, x += kQK) {
    float acc = 0.0f;
    for (int j = 0; j < kQK; ++j) acc += static_cast<float>(static_cast<int8_t>(row[2 + j])) * x[j];
    total += acc * half_at(row);
  }
  return total;
}

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
    .dot_ue_4bit = nullptr,
    .dot_mxfp4 = nullptr,
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
