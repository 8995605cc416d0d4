// GGUF K-quant dots (Q4_K, Q5_K, Q6_K; Q2_K, Q3_K integer only) and Q5_0 / Q5_1 / IQ4_NL / IQ4_XS integer
// dots at every SIMD level this CPU has: the fused fp32 dots against the decoded row (bit for bit at levels
// with exact_dots), the integer dots against the generic definition and within the activation rounding bound,
// and both against gguf-py's own dequantization of the golden blocks (tests/data/numerics/ggml_goldens.bin,
// tools/make_ggml_goldens.py: random bytes of every field, gguf- quantized values and real SmolLM2 blocks).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>

#include "../numerics/golden_file.h"
#include "exec/simd/simd_kernels.h"
#include "numerics/decode.h"
#include "numerics/scalar_codecs.h"

namespace xpusim::exec::simd {
namespace {

constexpr DType kKTypes[] = {DType::Q4_K, DType::Q5_K, DType::Q6_K};
constexpr DType kIntegerTypes[] = {DType::Q4_K, DType::Q5_K, DType::Q6_K,   DType::Q5_0,  DType::Q5_1,
                                   DType::Q2_K, DType::Q3_K, DType::IQ4_NL, DType::IQ4_XS};

std::vector<float> normal_values(size_t n, uint64_t seed, float outlier = 0.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  if (outlier != 0.0f && n > 5) v[5] = outlier;
  return v;
}

std::vector<const SimdKernels*> levels() {
  std::vector<const SimdKernels*> out;
  for (const char* name : {"generic", "avx2", "avx512"}) {
    if (const SimdKernels* k = simd_kernels_named(name)) out.push_back(k);
  }
  return out;
}

// A row of `supers` super-blocks: random code / scale bytes, fp16 scales of a realistic size (d, dmin
// positive; some negative to cover signs).
std::vector<uint8_t> random_row(DType dtype, int64_t supers, uint64_t seed) {
  const DTypeInfo& info = dtype_info(dtype);
  const int64_t blocks = supers * 256 / info.block_elements;
  std::vector<uint8_t> row(static_cast<size_t>(blocks) * info.block_bytes);
  std::mt19937_64 rng(seed);
  for (auto& b : row) b = static_cast<uint8_t>(rng());
  for (int64_t s = 0; s < blocks; ++s) {
    uint8_t* block = row.data() + s * info.block_bytes;
    const float sign = s % 3 == 2 ? -1.0f : 1.0f;
    const uint16_t d = numerics::f32_to_f16(sign * (0.001f + 0.0003f * static_cast<float>(s)));
    const uint16_t dmin = numerics::f32_to_f16(0.002f + 0.0001f * static_cast<float>(s));
    if (dtype == DType::Q6_K) {
      std::memcpy(block + 208, &d, 2);
    } else if (dtype == DType::Q3_K) {
      std::memcpy(block + 108, &d, 2);
    } else if (dtype == DType::Q2_K) {
      std::memcpy(block + 80, &d, 2);
      std::memcpy(block + 82, &dmin, 2);
    } else {
      std::memcpy(block, &d, 2);
      std::memcpy(block + 2, &dmin, 2);
    }
  }
  return row;
}

std::vector<float> decoded(DType dtype, const std::vector<uint8_t>& row, int64_t cols) {
  std::vector<float> out(static_cast<size_t>(cols));
  numerics::decode_to_f32(dtype, reinterpret_cast<const std::byte*>(row.data()), out.data(), out.size());
  return out;
}

double exact_dot(const std::vector<float>& w, const std::vector<float>& x, double* magnitude) {
  double sum = 0.0;
  *magnitude = 0.0;
  for (size_t i = 0; i < w.size(); ++i) {
    sum += static_cast<double>(w[i]) * x[i];
    *magnitude += std::fabs(static_cast<double>(w[i]) * x[i]);
  }
  return sum;
}

// Checks the fused and integer dots of `row` (with its decoding `values`) against x at every level.
void check_row(DType dtype, const uint8_t* row, const std::vector<float>& values, const std::vector<float>& x,
               const std::string& what) {
  const int64_t cols = static_cast<int64_t>(values.size());
  double magnitude = 0.0;
  const double exact = exact_dot(values, x, &magnitude);
  const SimdKernels& generic = *simd_kernels_generic();
  const Q8Target target = q8_target(dtype);
  ASSERT_NE(target.kind, Q8Kind::kNone) << what;
  Q8Activations q;
  ASSERT_TRUE(quantize_q8(x.data(), cols, target.order, q)) << what;
  double rounding = 0.0;  // sum |w| amax / 254 per activation block
  for (int64_t b = 0; b < q.blocks; ++b) {
    double weight_sum = 0.0;
    for (int64_t k = 32 * b; k < 32 * (b + 1); ++k) weight_sum += std::fabs(values[static_cast<size_t>(k)]);
    rounding += weight_sum * q.scale[static_cast<size_t>(b)] / 2.0;
  }
  const float reference = q8_dot(generic, target.kind)(row, q, 1.0f);
  EXPECT_NEAR(reference, exact, rounding * 1.001 + 1e-5 * magnitude + 1e-6) << what << " generic integer";
  for (const SimdKernels* level : levels()) {
    const FusedDot fused = fused_dot(*level, dtype);
    if (fused && cols % 256 == 0) {
      const float value = fused(row, x.data(), cols / 256, 0.0f);
      EXPECT_NEAR(value, exact, 2e-6 * magnitude + 1e-6) << what << " " << level->name << " fused";
      if (level->exact_dots) {
        const float reference_bits = level->dot_f32(values.data(), x.data(), cols);
        EXPECT_EQ(std::bit_cast<uint32_t>(value), std::bit_cast<uint32_t>(reference_bits))
            << what << " " << level->name << " fused dot is not decode + dot_f32";
      }
    }
    const Q8Dot dot = q8_dot(*level, target.kind);
    if (!dot) continue;
    EXPECT_NEAR(dot(row, q, 1.0f), reference, 2e-6 * magnitude + 1e-6)
        << what << " " << level->name << " integer";
  }
}

TEST(KQuantDot, EveryTypeAtEveryLevel) {
  for (DType dtype : kIntegerTypes) {
    for (int64_t supers : {1, 2, 3, 7}) {
      const int64_t cols = 256 * supers;  // Q5_0 / Q5_1: 8 blocks of 32 per "super-block" here
      const std::vector<uint8_t> row = random_row(dtype, supers, static_cast<uint64_t>(40 + supers));
      const std::vector<float> values = decoded(dtype, row, cols);
      for (float outlier : {0.0f, 30.0f}) {
        const std::vector<float> x =
            normal_values(static_cast<size_t>(cols), static_cast<uint64_t>(supers), outlier);
        check_row(dtype, row.data(), values, x,
                  std::string(dtype_info(dtype).name) + " x" + std::to_string(supers) + " outlier " +
                      std::to_string(outlier));
      }
    }
  }
}

TEST(KQuantDot, EveryLevelHasIntegerAndFusedKernels) {
  // No level may leave these types to the row-decoding fallback (issue 19): integer dots and fused fp32 dots
  // (the LM head) at every level.
  for (const SimdKernels* level : levels()) {
    const bool has_integer_dots = q8_dot(*level, Q8Kind::kQ4_0) != nullptr;  // AVX-512 without VNNI: none
    for (DType dtype : kIntegerTypes) {
      if (has_integer_dots) {
        EXPECT_NE(q8_dot(*level, q8_target(dtype).kind), nullptr)
            << level->name << " " << dtype_info(dtype).name;
      }
    }
    for (DType dtype : kKTypes) {
      EXPECT_NE(fused_dot(*level, dtype), nullptr) << level->name << " " << dtype_info(dtype).name;
    }
  }
}

// The multi-token kernels (prefill GEMM) give each token the one-row dot's bits, for every group size.
TEST(KQuantDot, TokenGroupsEqualOneRowDots) {
  for (const SimdKernels* level : levels()) {
    for (DType dtype : kIntegerTypes) {
      const Q8Target target = q8_target(dtype);
      const Q8DotTokens dot_tokens = q8_dot_tokens(*level, target.kind);
      if (!dot_tokens) continue;
      const Q8Dot dot = q8_dot(*level, target.kind);
      ASSERT_NE(dot, nullptr) << level->name << " " << dtype_info(dtype).name;
      constexpr int64_t kSupers = 3, kCols = 256 * kSupers;
      const std::vector<uint8_t> row = random_row(dtype, kSupers, 90);
      std::vector<Q8Activations> tokens(kQ8Tokens);
      for (int64_t t = 0; t < kQ8Tokens; ++t) {
        const std::vector<float> x =
            normal_values(kCols, static_cast<uint64_t>(100 + t), t == 2 ? 25.0f : 0.0f);
        ASSERT_TRUE(quantize_q8(x.data(), kCols, target.order, tokens[static_cast<size_t>(t)]));
      }
      for (int64_t count = 1; count <= kQ8Tokens; ++count) {
        const Q8Activations* group[kQ8Tokens];
        for (int64_t t = 0; t < count; ++t) group[t] = &tokens[static_cast<size_t>(t)];
        std::vector<float> out(static_cast<size_t>(2 * count), -1.0f);
        dot_tokens(row.data(), group, count, 1.0f, out.data(), 2);
        for (int64_t t = 0; t < count; ++t) {
          EXPECT_EQ(std::bit_cast<uint32_t>(out[static_cast<size_t>(2 * t)]),
                    std::bit_cast<uint32_t>(dot(row.data(), *group[t], 1.0f)))
              << level->name << " " << dtype_info(dtype).name << " group of " << count << " token " << t;
          EXPECT_EQ(out[static_cast<size_t>(2 * t + 1)], -1.0f) << "wrote outside its stride";
        }
      }
    }
  }
}

// The dots of gguf-py's golden blocks against the dot of gguf-py's dequantized values.
TEST(KQuantDot, AgreeWithGgufPyDequantization) {
  using numerics::testing::ByteReader;
  ByteReader in(numerics::testing::read_file(numerics::testing::data_path("ggml_goldens.bin")));
  ASSERT_EQ(in.read_string(8), "XPGGML01");
  in.read_string(in.read<uint32_t>());
  const uint32_t count = in.read<uint32_t>();
  int checked = 0;
  for (uint32_t i = 0; i < count && in.ok(); ++i) {
    const uint8_t kind = in.read<uint8_t>();
    const std::string type = in.read_string(16), label = in.read_string(32);
    const uint32_t blocks = in.read<uint32_t>(), block_bytes = in.read<uint32_t>(),
                   block_elements = in.read<uint32_t>();
    const std::vector<uint8_t> bytes = in.read_array<uint8_t>(size_t{blocks} * block_bytes);
    const std::vector<float> values = in.read_array<float>(size_t{blocks} * block_elements);
    const auto dtype = dtype_from_name(type);
    if (kind != 0 || !dtype || q8_target(*dtype).kind == Q8Kind::kNone || *dtype == DType::Q4_0 ||
        *dtype == DType::Q4_1 || *dtype == DType::Q8_0)
      continue;  // the older types have their goldens in q8_dot_test.cpp
    bool finite = true;
    for (float v : values) finite = finite && std::isfinite(v);
    if (!finite) continue;  // random fp16 scale fields may be Inf / NaN: nothing to compare a dot with
    const std::vector<float> x = normal_values(values.size(), i, 12.0f);
    check_row(*dtype, bytes.data(), values, x, type + " " + label);
    ++checked;
  }
  EXPECT_TRUE(in.ok());
  EXPECT_GE(checked, 5) << "too few golden records of these types";
}

}  // namespace
}  // namespace xpusim::exec::simd
