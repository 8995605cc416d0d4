// The fast LINEAR kernel (exec/fast_linear.h) against the reference run_linear_reference, for every stored
// dtype with a fast path (F32, F16, BF16, Q4_0, Q4_1, Q8_0) and every numerics format kept packed, on the
// GEMV (n < kGemmMinTokens) and GEMM paths, at every SIMD level this CPU has, with both activation modes,
// with row counts that leave a partial 64-row panel and depths that leave partial vectors. Tolerance
// (fast_linear.h): |fast - ref| <= 1e-5 * sum_k |x_k w_k| + 1e-6 (reassociation), plus, where the GEMV
// rounds activations to int8 blocks, sum_k |w_k| * amax(x block of k) / 254. With exact activations packed
// numerics weights equal the same values stored as fp32 bit for bit on both paths.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "exec/fast_linear.h"
#include "exec/kernels.h"
#include "numerics/decode.h"
#include "numerics/tensor_codec.h"

namespace xpusim::exec {
namespace {

constexpr int64_t kOut = 70, kIn = 160;

std::vector<float> random_values(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

void put_half(std::vector<std::byte>& bytes, size_t at, float value) {
  const uint16_t h = numerics::f32_to_f16(value);
  std::memcpy(bytes.data() + at, &h, 2);
}

// A weight of `dtype` [kOut, kIn] with random content (valid f16 scales for the ggml block types).
model::Weights make_weight(DType dtype) {
  model::Weights weights;
  const std::vector<float> values = random_values(kOut * kIn, 7);
  std::mt19937_64 rng(11);
  std::vector<std::byte> bytes;
  const size_t n = values.size();
  switch (dtype) {
    case DType::F32:
      bytes.resize(n * 4);
      std::memcpy(bytes.data(), values.data(), bytes.size());
      break;
    case DType::BF16:
    case DType::F16:
      bytes.resize(n * 2);
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h =
            dtype == DType::BF16 ? numerics::f32_to_bf16(values[i]) : numerics::f32_to_f16(values[i]);
        std::memcpy(bytes.data() + 2 * i, &h, 2);
      }
      break;
    default: {  // Q4_0 (18 B), Q4_1 (20 B), Q8_0 (34 B) per 32 values: random payload, scales ~0.05
      const DTypeInfo& info = dtype_info(dtype);
      const size_t blocks = n / 32;
      bytes.resize(blocks * info.block_bytes);
      for (auto& b : bytes) b = static_cast<std::byte>(rng() & 0xFF);
      for (size_t b = 0; b < blocks; ++b) {
        put_half(bytes, b * info.block_bytes, 0.01f + 0.001f * static_cast<float>(b % 37));
        if (dtype == DType::Q4_1)
          put_half(bytes, b * info.block_bytes + 2, -0.1f + 0.01f * static_cast<float>(b % 13));
      }
    }
  }
  weights.add_owned("w", dtype, {kOut, kIn}, std::move(bytes));
  return weights;
}

// The most int8 block rounding can move sum_k x_k w_k (weights w of one row).
double activation_rounding_bound(const float* x, const float* w, int64_t in) {
  double bound = 0.0;
  for (int64_t b = 0; b < in / simd::kQ8Block; ++b) {
    double amax = 0.0, weight_sum = 0.0;
    for (int64_t k = b * simd::kQ8Block; k < (b + 1) * simd::kQ8Block; ++k) {
      amax = std::max(amax, static_cast<double>(std::fabs(x[k])));
      weight_sum += std::fabs(w[k]);
    }
    bound += weight_sum * amax / 254.0 * 1.001;
  }
  return bound;
}

// Fast vs reference on one weight, for each activation mode.
void expect_close(const model::TensorView& weight, const simd::SimdKernels& kernels, int threads,
                  const std::string& label) {
  for (Activations activations : {Activations::kInt8Blocks, Activations::kFp32}) {
    SCOPED_TRACE(activations == Activations::kFp32 ? "fp32 activations" : "int8 activations");
    const int64_t in = weight.row_elements();
    ThreadPool pool(threads);
    std::vector<float> decoded(static_cast<size_t>(in));
    for (int64_t n : {1, 3, 4, 13}) {
      const std::vector<float> x = random_values(static_cast<size_t>(n * in), 3 + n);
      const std::vector<float> bias = random_values(kOut, 5);
      std::vector<float> fast(static_cast<size_t>(n * kOut)), ref(fast.size());
      linear_fast(weight, bias.data(), x.data(), n, fast.data(), pool, kernels, activations);
      linear_rows(weight, bias.data(), x.data(), n, ref.data(), 0, kOut);
      for (int64_t r = 0; r < kOut; ++r) {
        const float* w = weight_row(weight, r, decoded.data());
        for (int64_t t = 0; t < n; ++t) {
          const float* xt = x.data() + t * in;
          double magnitude = std::fabs(bias[static_cast<size_t>(r)]);
          for (int64_t k = 0; k < in; ++k) magnitude += std::fabs(xt[k] * w[k]);
          const bool rounded = activations == Activations::kInt8Blocks && n < kGemmMinTokens;
          const double bound =
              1e-5 * magnitude + 1e-6 + (rounded ? activation_rounding_bound(xt, w, in) : 0.0);
          const size_t i = static_cast<size_t>(t * kOut + r);
          ASSERT_NEAR(fast[i], ref[i], bound)
              << label << " level " << kernels.name << " n=" << n << " row " << r << " token " << t;
        }
      }
    }
  }
}

std::vector<const simd::SimdKernels*> levels() {
  std::vector<const simd::SimdKernels*> out;
  for (const char* name : {"generic", "avx2", "avx512"}) {
    if (const simd::SimdKernels* k = simd::simd_kernels_named(name)) out.push_back(k);
  }
  return out;
}

TEST(FastLinear, StoredDtypesAgreeWithReferenceAtEveryLevel) {
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q8_0}) {
    const model::Weights weights = make_weight(dtype);
    for (const simd::SimdKernels* kernels : levels()) {
      expect_close(weights.get("w"), *kernels, 2, std::string(dtype_info(dtype).name));
    }
  }
}

// K-quant weights [kOut, 512]: random code bytes, fp16 scales ~0.01 (at each type's offsets).
model::Weights make_k_quant_weight(DType dtype) {
  constexpr int64_t kCols = 512;
  const DTypeInfo& info = dtype_info(dtype);
  const size_t blocks = static_cast<size_t>(kOut * kCols / 256);
  std::vector<std::byte> bytes(blocks * info.block_bytes);
  std::mt19937_64 rng(13);
  for (auto& b : bytes) b = static_cast<std::byte>(rng() & 0xFF);
  const size_t d_at = dtype == DType::Q6_K ? 208 : dtype == DType::Q3_K ? 108 : dtype == DType::Q2_K ? 80 : 0;
  for (size_t b = 0; b < blocks; ++b) {
    put_half(bytes, b * info.block_bytes + d_at, 0.01f + 0.001f * static_cast<float>(b % 7));
    if (dtype == DType::Q4_K || dtype == DType::Q5_K || dtype == DType::Q2_K)
      put_half(bytes, b * info.block_bytes + d_at + 2, 0.005f);
  }
  model::Weights weights;
  weights.add_owned("w", dtype, {kOut, kCols}, std::move(bytes));
  return weights;
}

// The integer prefill GEMM (kinds with a multi-token kernel) against the reference within the activation
// rounding, and equal bit for bit to the GEMV of each token alone (prefill and decode agree).
TEST(FastLinear, KQuantPrefillEqualsPerTokenDecode) {
  for (DType dtype : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const model::Weights weights = make_k_quant_weight(dtype);
    const model::TensorView& weight = weights.get("w");
    const int64_t in = weight.row_elements();
    for (const simd::SimdKernels* kernels : levels()) {
      SCOPED_TRACE(std::string(dtype_info(dtype).name) + " " + std::string(kernels->name));
      ThreadPool pool(2);
      constexpr int64_t kTokens = 13;  // three groups of 4 and one of 1
      const std::vector<float> x = random_values(static_cast<size_t>(kTokens * in), 21);
      const std::vector<float> bias = random_values(kOut, 5);
      std::vector<float> gemm(static_cast<size_t>(kTokens * kOut)), ref(gemm.size()), one(kOut);
      linear_fast(weight, bias.data(), x.data(), kTokens, gemm.data(), pool, *kernels,
                  Activations::kInt8Blocks);
      linear_rows(weight, bias.data(), x.data(), kTokens, ref.data(), 0, kOut);
      std::vector<float> decoded(static_cast<size_t>(in));
      for (int64_t t = 0; t < kTokens; ++t) {
        const float* xt = x.data() + t * in;
        linear_fast(weight, bias.data(), xt, 1, one.data(), pool, *kernels, Activations::kInt8Blocks);
        for (int64_t r = 0; r < kOut; ++r) {
          const size_t i = static_cast<size_t>(t * kOut + r);
          const float* w = weight_row(weight, r, decoded.data());
          double magnitude = std::fabs(bias[static_cast<size_t>(r)]);
          for (int64_t k = 0; k < in; ++k) magnitude += std::fabs(xt[k] * w[k]);
          ASSERT_NEAR(gemm[i], ref[i], 1e-5 * magnitude + 1e-6 + activation_rounding_bound(xt, w, in))
              << "row " << r << " token " << t;
          if (simd::q8_dot_tokens(*kernels, simd::q8_target(dtype).kind)) {
            ASSERT_EQ(gemm[i], one[static_cast<size_t>(r)]) << "row " << r << " token " << t;
          }
        }
      }
    }
  }
}

TEST(FastLinear, EveryNumericsFormatAgreesAndPackedEqualsDequantizedBitForBit) {
  // 160 columns: an odd number of 32-blocks (the fused dots' tail); 192: whole 64-blocks (ue-* fused path).
  for (int64_t in : {160, 192}) {
    const std::vector<float> signed_values = random_values(static_cast<size_t>(kOut * in), 9);
    for (const numerics::FormatRow& row : numerics::format_rows()) {
      std::vector<float> values = signed_values;
      if (!row.signed_values) {  // e8m0 holds positive values only
        for (float& x : values) x = std::fabs(x);
      }
      numerics::EncodedTensor encoded =
          numerics::encode_tensor(row.format, values, kOut, static_cast<size_t>(in), 1);
      std::vector<float> dequantized(values.size());
      numerics::decode_tensor(encoded, dequantized, 1);
      model::Weights weights;
      std::vector<std::byte> f32_bytes(dequantized.size() * 4);
      std::memcpy(f32_bytes.data(), dequantized.data(), f32_bytes.size());
      weights.add_owned("deq", DType::F32, {kOut, in}, std::move(f32_bytes));
      weights.add_encoded("packed", {kOut, in}, std::move(encoded));
      const simd::SimdKernels& kernels = simd::simd_kernels();
      expect_close(weights.get("packed"), kernels, 2, std::string(row.name));
      ThreadPool pool(2);
      for (int64_t n : {1, 9}) {
        const std::vector<float> x = random_values(static_cast<size_t>(n * in), 21);
        std::vector<float> a(static_cast<size_t>(n * kOut)), b(a.size());
        linear_fast(weights.get("packed"), nullptr, x.data(), n, a.data(), pool, kernels, Activations::kFp32);
        linear_fast(weights.get("deq"), nullptr, x.data(), n, b.data(), pool, kernels, Activations::kFp32);
        EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)))
            << row.name << " in=" << in << " n=" << n;
      }
    }
  }
}

// Levels with exact_dots: each fused row dot equals decoding the row (fast_decode / numerics) and dotting it
// with dot_f32, bit for bit (what lets packed q4_0 / q8_0 / bf16 weights match their fp32 dequantization).
TEST(FastLinear, ExactLevelsFusedDotsEqualDecodeThenDot) {
  for (const simd::SimdKernels* kernels : levels()) {
    if (!kernels->exact_dots) continue;
    for (DType dtype : {DType::Q4_0, DType::Q4_1, DType::Q8_0, DType::BF16, DType::F16}) {
      const model::Weights weights = make_weight(dtype);
      const model::TensorView& w = weights.get("w");
      const std::vector<float> x = random_values(kIn, 8);
      std::vector<float> decoded(static_cast<size_t>(kIn));
      const DTypeInfo& info = dtype_info(dtype);
      const size_t row_bytes = static_cast<size_t>(kIn / info.block_elements) * info.block_bytes;
      for (int64_t r = 0; r < kOut; ++r) {
        const auto* row = reinterpret_cast<const uint8_t*>(w.data) + static_cast<size_t>(r) * row_bytes;
        float fused;
        if (dtype == DType::BF16 || dtype == DType::F16) {
          const auto* halves = reinterpret_cast<const uint16_t*>(row);
          fused = (dtype == DType::BF16 ? kernels->dot_bf16 : kernels->dot_f16)(halves, x.data(), kIn);
        } else {
          fused = simd::fused_dot(*kernels, dtype)(row, x.data(), kIn / 32, 0.0f);
        }
        const float unfused = kernels->dot_f32(x.data(), weight_row(w, r, decoded.data()), kIn);
        ASSERT_EQ(fused, unfused) << dtype_info(dtype).name << " row " << r;
      }
    }
  }
}

// The AVX2 Q4_0 / Q8_0 fused dots are exact like the exact levels' (codes x d are exact in fp32, summed in
// dot_f32's order): the LM head's fp32-activation path gives the decoded path's logits.
TEST(FastLinear, Avx2Q4_0AndQ8_0FusedDotsEqualDecodeThenDot) {
  const simd::SimdKernels* kernels = simd::simd_kernels_named("avx2");
  if (kernels == nullptr) GTEST_SKIP() << "no AVX2 on this CPU";
  for (DType dtype : {DType::Q4_0, DType::Q8_0}) {
    const simd::FusedDot dot = simd::fused_dot(*kernels, dtype);
    ASSERT_NE(dot, nullptr) << dtype_info(dtype).name;
    const model::Weights weights = make_weight(dtype);
    const model::TensorView& w = weights.get("w");
    const std::vector<float> x = random_values(kIn, 9);
    std::vector<float> decoded(static_cast<size_t>(kIn));
    const size_t row_bytes = static_cast<size_t>(kIn / 32) * dtype_info(dtype).block_bytes;
    for (int64_t r = 0; r < kOut; ++r) {
      const auto* row = reinterpret_cast<const uint8_t*>(w.data) + static_cast<size_t>(r) * row_bytes;
      ASSERT_EQ(dot(row, x.data(), kIn / 32, 0.0f),
                kernels->dot_f32(x.data(), weight_row(w, r, decoded.data()), kIn))
          << kernels->name << " " << dtype_info(dtype).name << " row " << r;
    }
  }
}

// Depths that are not a multiple of the 16-wide transpose tiles or of the vector width.
TEST(FastLinear, OddDepthAgreesWithReference) {
  constexpr int64_t in = 100, out = 67;
  const std::vector<float> values = random_values(in * out, 12);
  std::vector<std::byte> bytes(values.size() * 4);
  std::memcpy(bytes.data(), values.data(), bytes.size());
  model::Weights weights;
  weights.add_owned("w", DType::F32, {out, in}, std::move(bytes));
  ThreadPool pool(2);
  for (const simd::SimdKernels* kernels : levels()) {
    for (int64_t n : {1, 11}) {
      const std::vector<float> x = random_values(static_cast<size_t>(n * in), 13);
      std::vector<float> fast(static_cast<size_t>(n * out)), ref(fast.size());
      linear_fast(weights.get("w"), nullptr, x.data(), n, fast.data(), pool, *kernels);
      linear_rows(weights.get("w"), nullptr, x.data(), n, ref.data(), 0, out);
      for (size_t i = 0; i < fast.size(); ++i) {
        ASSERT_NEAR(fast[i], ref[i], 1e-4) << kernels->name << " n=" << n << " i=" << i;
      }
    }
  }
}

TEST(FastLinear, OneThreadAndTwoThreadsGiveTheSameBits) {
  const model::Weights weights = make_weight(DType::Q4_1);
  ThreadPool one(1), two(2);
  for (int64_t n : {1, 7}) {
    const std::vector<float> x = random_values(static_cast<size_t>(n * kIn), 4);
    std::vector<float> a(static_cast<size_t>(n * kOut)), b(a.size());
    linear_fast(weights.get("w"), nullptr, x.data(), n, a.data(), one, simd::simd_kernels());
    linear_fast(weights.get("w"), nullptr, x.data(), n, b.data(), two, simd::simd_kernels());
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << "n=" << n;
  }
}

}  // namespace
}  // namespace xpusim::exec
