// Activation quantization for the integer dots (simd_kernels.h: Q8Activations) and the table of which weight
// kinds have them. Portable C++: the same int8 activations at every SIMD level, so levels differ only in the
// fp32 order of the per-block sums.
#include <cmath>

#include "exec/simd/simd_kernels.h"

namespace xpusim::exec::simd {

int64_t q8_position(int64_t b, int64_t j, int64_t blocks, Q8Order order) {
  switch (order) {
    case Q8Order::kNibbleQuads:
      if ((b / 4) * 4 + 4 <= blocks) return 128 * (b / 4) + (j / 16) * 64 + 16 * (b % 4) + j % 16;
      return 32 * b + j;
    case Q8Order::kEvenThenOddQuads:
      if ((b / 4) * 4 + 4 <= blocks) return 128 * (b / 4) + (j % 2) * 64 + 16 * (b % 4) + j / 2;
      return 32 * b + (j % 2) * 16 + j / 2;
    case Q8Order::kElements:
      break;
  }
  return 32 * b + j;
}

bool quantize_q8(const float* x, int64_t n, Q8Order order, Q8Activations& out) {
  out.blocks = n / kQ8Block;
  out.q.resize(static_cast<size_t>(out.blocks * kQ8Block));
  out.scale.resize(static_cast<size_t>(out.blocks));
  out.sum.resize(static_cast<size_t>(out.blocks));
  for (int64_t b = 0; b < out.blocks; ++b) {
    const float* block = x + b * kQ8Block;
    float amax = 0.0f;
    for (int64_t j = 0; j < kQ8Block; ++j) {
      if (!std::isfinite(block[j])) return false;  // NaN / Inf must propagate: the caller uses fp32
      amax = std::fmax(amax, std::fabs(block[j]));
    }
    const float d = amax / 127.0f;
    const float inverse = d >= 0x1p-126f ? 1.0f / d : 0.0f;  // a subnormal d would overflow 1 / d: zeros
    int sum = 0;
    for (int64_t j = 0; j < kQ8Block; ++j) {
      // |block[j] * inverse| <= 127 up to one rounding, so the cast cannot overflow.
      const int value = static_cast<int>(std::nearbyint(block[j] * inverse));
      out.q[static_cast<size_t>(q8_position(b, j, out.blocks, order))] = static_cast<int8_t>(value);
      sum += value;
    }
    out.scale[static_cast<size_t>(b)] = d;
    out.sum[static_cast<size_t>(b)] = d * static_cast<float>(sum);
  }
  return true;
}

Q8Target q8_target(DType dtype) {
  switch (dtype) {
    case DType::Q4_0:
      return {Q8Kind::kQ4_0, Q8Order::kNibbleQuads};
    case DType::Q4_1:
      return {Q8Kind::kQ4_1, Q8Order::kNibbleQuads};
    case DType::Q8_0:
      return {Q8Kind::kQ8_0, Q8Order::kElements};
    case DType::Q5_0:
      return {Q8Kind::kQ5_0, Q8Order::kElements};
    case DType::Q5_1:
      return {Q8Kind::kQ5_1, Q8Order::kElements};
    case DType::IQ4_NL:
      return {Q8Kind::kIq4Nl, Q8Order::kElements};
    case DType::IQ4_XS:
      return {Q8Kind::kIq4Xs, Q8Order::kElements, 1.0f, 256};
    case DType::Q4_K:
      return {Q8Kind::kQ4_K, Q8Order::kElements, 1.0f, 256};
    case DType::Q5_K:
      return {Q8Kind::kQ5_K, Q8Order::kElements, 1.0f, 256};
    case DType::Q6_K:
      return {Q8Kind::kQ6_K, Q8Order::kElements, 1.0f, 256};
    case DType::Q2_K:
      return {Q8Kind::kQ2_K, Q8Order::kElements, 1.0f, 256};
    case DType::Q3_K:
      return {Q8Kind::kQ3_K, Q8Order::kElements, 1.0f, 256};
    default:
      return {};
  }
}

Q8Target q8_target(numerics::Format format) {
  switch (format) {
    case numerics::Format::Q4_0:
      return {Q8Kind::kQ4_0, Q8Order::kNibbleQuads};
    case numerics::Format::Q8_0:
      return {Q8Kind::kQ8_0, Q8Order::kElements};
    case numerics::Format::MXFP4:
    case numerics::Format::MXFP4_CEIL:
      return {Q8Kind::kMxfp4, Q8Order::kEvenThenOddQuads};
    case numerics::Format::NVFP4:
      return {Q8Kind::kNvfp4, Q8Order::kEvenThenOddQuads, 2688.0f};  // 6 * 448 (nv_formats.cpp)
    case numerics::Format::UE_INT4:
    case numerics::Format::UE_FP4:
    case numerics::Format::UE_IF4:
      return {Q8Kind::kUe4bit, Q8Order::kEvenThenOddQuads, 1.0f, 64};
    case numerics::Format::NVFP4_4O6:
      return {Q8Kind::kNvfp4, Q8Order::kEvenThenOddQuads, 1536.0f};  // 6 * 256
    default:
      return {};
  }
}

Q8Dot q8_dot(const SimdKernels& kernels, Q8Kind kind) {
  return kind == Q8Kind::kNone ? nullptr : kernels.q8_dots[static_cast<int>(kind)];
}

Q8DotRows q8_dot_rows(const SimdKernels& kernels, Q8Kind kind) {
  return kind == Q8Kind::kNone ? nullptr : kernels.q8_dot_rows[static_cast<int>(kind)];
}

Q8DotTokens q8_dot_tokens(const SimdKernels& kernels, Q8Kind kind) {
  return kind == Q8Kind::kNone ? nullptr : kernels.q8_dot_tokens[static_cast<int>(kind)];
}

}  // namespace xpusim::exec::simd
