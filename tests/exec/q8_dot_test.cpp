// Integer dots with int8 activation blocks (exec/simd/simd_kernels.h: quantize_q8, Q8Dot) at every SIMD level
// this CPU has, for every weight kind and block counts that leave each level's tails (1, 2, 3, 5, 8, 9
// blocks of 32): the quantizer's rounding bound and element order, the dot within the activation rounding
// bound of the exact dot of the decoded row, and every level equal to the generic definition up to fp32
// reassociation.
#include <gtest/gtest.h>
#include <bit>

#include <cmath>
#include <cstring>
#include <random>

#include "exec/simd/simd_kernels.h"
#include "numerics/decode.h"
#include "numerics/tensor_codec.h"

namespace xpusim::exec::simd {
namespace {

std::vector<float> normal_values(size_t n, uint64_t seed, float outlier = 0.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  if (outlier != 0.0f && n > 5) v[5] = outlier;  // one large channel, as LLM activations have
  return v;
}

TEST(QuantizeQ8, RoundsWithinHalfAStepInEveryOrder) {
  constexpr int64_t kBlocks = 6;  // one whole group of four (kNibbleQuads) and a partial one
  const std::vector<float> x = normal_values(32 * kBlocks, 1, 30.0f);
  for (Q8Order order : {Q8Order::kElements, Q8Order::kNibbleQuads, Q8Order::kEvenThenOddQuads}) {
    Q8Activations q;
    ASSERT_TRUE(quantize_q8(x.data(), 32 * kBlocks, order, q));
    ASSERT_EQ(q.blocks, kBlocks);
    std::vector<int> seen(static_cast<size_t>(32 * kBlocks), 0);
    for (int64_t b = 0; b < kBlocks; ++b) {
      const float d = q.scale[static_cast<size_t>(b)];
      int sum = 0;
      for (int64_t j = 0; j < 32; ++j) {
        const int64_t p = q8_position(b, j, kBlocks, order);
        ASSERT_GE(p, 0);
        ASSERT_LT(p, 32 * kBlocks);
        ++seen[static_cast<size_t>(p)];
        const int8_t code = q.q[static_cast<size_t>(p)];
        EXPECT_LE(std::abs(static_cast<int>(code)), 127);
        EXPECT_LE(std::fabs(code * d - x[static_cast<size_t>(b * 32 + j)]), 0.5f * d * 1.0001f)
            << "block " << b << " element " << j;
        sum += code;
      }
      EXPECT_FLOAT_EQ(q.sum[static_cast<size_t>(b)], d * static_cast<float>(sum));
    }
    for (int count : seen) EXPECT_EQ(count, 1);  // q8_position is a permutation
  }
  // Spot checks of the layouts simd_kernels.h documents.
  EXPECT_EQ(q8_position(1, 3, 4, Q8Order::kNibbleQuads), 16 + 3);
  EXPECT_EQ(q8_position(1, 19, 4, Q8Order::kNibbleQuads), 64 + 16 + 3);
  EXPECT_EQ(q8_position(4, 19, 5, Q8Order::kNibbleQuads), 128 + 19);
  EXPECT_EQ(q8_position(0, 3, 1, Q8Order::kEvenThenOddQuads), 16 + 1);
  EXPECT_EQ(q8_position(2, 5, 4, Q8Order::kEvenThenOddQuads), 64 + 32 + 2);
}

TEST(QuantizeQ8, EveryLevelGivesTheSameBytes) {
  for (int64_t blocks : {1, 5, 8}) {
    const std::vector<float> x = normal_values(static_cast<size_t>(32 * blocks), 3, 40.0f);
    for (Q8Order order : {Q8Order::kElements, Q8Order::kNibbleQuads, Q8Order::kEvenThenOddQuads}) {
      Q8Activations expected;
      ASSERT_TRUE(quantize_q8(x.data(), 32 * blocks, order, expected));
      for (const char* name : {"generic", "avx2", "avx512"}) {
        const SimdKernels* level = simd_kernels_named(name);
        if (!level) continue;
        Q8Activations got;
        ASSERT_TRUE(level->quantize_q8(x.data(), 32 * blocks, order, got));
        EXPECT_EQ(got.q, expected.q) << name << " blocks " << blocks;
        EXPECT_EQ(got.scale, expected.scale) << name;
        EXPECT_EQ(got.sum, expected.sum) << name;
        std::vector<float> bad = x;
        bad[static_cast<size_t>(32 * blocks - 1)] = NAN;
        EXPECT_FALSE(level->quantize_q8(bad.data(), 32 * blocks, order, got)) << name;
      }
    }
  }
}

TEST(QuantizeQ8, NonFiniteActivationsAreRefused) {
  std::vector<float> x = normal_values(64, 2);
  Q8Activations q;
  x[40] = NAN;
  EXPECT_FALSE(quantize_q8(x.data(), 64, Q8Order::kElements, q));
  x[40] = INFINITY;
  EXPECT_FALSE(quantize_q8(x.data(), 64, Q8Order::kElements, q));
  std::vector<float> zeros(32, 0.0f);
  ASSERT_TRUE(quantize_q8(zeros.data(), 32, Q8Order::kElements, q));
  EXPECT_EQ(q.scale[0], 0.0f);
  // A block so small that 1 / d would overflow: codes 0 (no Inf / NaN reaches the int conversion).
  std::vector<float> tiny(32, 1e-39f);
  for (const char* name : {"generic", "avx512"}) {
    const SimdKernels* level = simd_kernels_named(name);
    if (!level) continue;
    ASSERT_TRUE(level->quantize_q8(tiny.data(), 32, Q8Order::kElements, q));
    for (int8_t code : q.q) EXPECT_EQ(code, 0) << name;
  }
}

// One weight row of `cols` values in a kind's layout, and its exact fp32 decoding.
struct Row {
  std::vector<uint8_t> bytes;
  std::vector<float> decoded;
  float tensor_amax = 0.0f;
  Q8Target target;
};

Row make_row(Q8Kind kind, int64_t cols, uint64_t seed) {
  Row row;
  const std::vector<float> values = normal_values(static_cast<size_t>(cols), seed);
  row.decoded.resize(static_cast<size_t>(cols));
  if (kind == Q8Kind::kQ4_1) {  // GGUF Q4_1: random nibbles, f16 d and m
    std::mt19937_64 rng(seed);
    const int64_t blocks = cols / 32;
    row.bytes.resize(static_cast<size_t>(blocks * 20));
    for (auto& b : row.bytes) b = static_cast<uint8_t>(rng());
    for (int64_t b = 0; b < blocks; ++b) {
      const uint16_t d = numerics::f32_to_f16(0.01f + 0.002f * static_cast<float>(b));
      const uint16_t m = numerics::f32_to_f16(-0.08f + 0.01f * static_cast<float>(b % 5));
      std::memcpy(&row.bytes[static_cast<size_t>(b * 20)], &d, 2);
      std::memcpy(&row.bytes[static_cast<size_t>(b * 20 + 2)], &m, 2);
    }
    numerics::decode_to_f32(DType::Q4_1, reinterpret_cast<const std::byte*>(row.bytes.data()),
                            row.decoded.data(), row.decoded.size());
    row.target = q8_target(DType::Q4_1);
    return row;
  }
  const numerics::Format format = kind == Q8Kind::kQ4_0     ? numerics::Format::Q4_0
                                  : kind == Q8Kind::kQ8_0   ? numerics::Format::Q8_0
                                  : kind == Q8Kind::kMxfp4  ? numerics::Format::MXFP4
                                  : kind == Q8Kind::kUe4bit ? numerics::Format::UE_IF4
                                                            : numerics::Format::NVFP4;
  const numerics::EncodedTensor encoded =
      numerics::encode_tensor(format, values, 1, static_cast<size_t>(cols), 1);
  row.bytes = encoded.data;
  row.tensor_amax = encoded.tensor_amax;
  numerics::decode_row(format, row.bytes.data(), static_cast<size_t>(cols), row.tensor_amax,
                       row.decoded.data());
  row.target = q8_target(format);
  return row;
}

std::vector<const SimdKernels*> levels() {
  std::vector<const SimdKernels*> out;
  for (const char* name : {"generic", "avx2", "avx512"}) {
    if (const SimdKernels* k = simd_kernels_named(name)) out.push_back(k);
  }
  return out;
}

TEST(Q8Dot, EveryKindAtEveryLevelWithinTheActivationRoundingBound) {
  const SimdKernels& generic = *simd_kernels_generic();
  for (Q8Kind kind :
       {Q8Kind::kQ4_0, Q8Kind::kQ4_1, Q8Kind::kQ8_0, Q8Kind::kMxfp4, Q8Kind::kNvfp4, Q8Kind::kUe4bit}) {
    for (int64_t blocks : {1, 2, 3, 4, 5, 6, 7, 8, 9}) {
      if (blocks % 2 != 0 && kind == Q8Kind::kUe4bit) continue;  // 64-value blocks
      const int64_t cols = 32 * blocks;
      const Row row = make_row(kind, cols, static_cast<uint64_t>(100 + blocks));
      ASSERT_EQ(row.target.kind, kind);
      for (float outlier : {0.0f, 25.0f}) {
        const std::vector<float> x =
            normal_values(static_cast<size_t>(cols), 7 + static_cast<uint64_t>(blocks), outlier);
        Q8Activations q;
        ASSERT_TRUE(quantize_q8(x.data(), cols, row.target.order, q));
        double exact = 0.0, magnitude = 0.0, rounding = 0.0;
        for (int64_t b = 0; b < blocks; ++b) {
          double weight_sum = 0.0;
          for (int64_t k = 32 * b; k < 32 * (b + 1); ++k) {
            exact += static_cast<double>(x[static_cast<size_t>(k)]) * row.decoded[static_cast<size_t>(k)];
            magnitude += std::fabs(static_cast<double>(x[static_cast<size_t>(k)]) *
                                   row.decoded[static_cast<size_t>(k)]);
            weight_sum += std::fabs(row.decoded[static_cast<size_t>(k)]);
          }
          rounding += weight_sum * q.scale[static_cast<size_t>(b)] / 2.0;
        }
        const float factor = row.tensor_amax / row.target.tensor_divisor;
        const float reference = q8_dot(generic, kind)(row.bytes.data(), q, factor);
        // ue-*: the dot skips the decoder's bf16 rounding of level x scale (simd_kernels.h: Q8Kind).
        const double skipped = kind == Q8Kind::kUe4bit ? magnitude / 256.0 : 0.0;
        EXPECT_NEAR(reference, exact, rounding * 1.001 + skipped + 1e-5 * magnitude + 1e-6)
            << "kind " << static_cast<int>(kind) << " blocks " << blocks;
        for (const SimdKernels* level : levels()) {
          const Q8Dot dot = q8_dot(*level, kind);
          if (!dot) continue;
          const float value = dot(row.bytes.data(), q, factor);
          EXPECT_NEAR(value, reference, 2e-6 * magnitude + 1e-6)
              << level->name << " kind " << static_cast<int>(kind) << " blocks " << blocks << " outlier "
              << outlier;
        }
      }
    }
  }
}

// Scale codes at the edges of their formats, written straight into the rows: E8M0 0 (2^-127) and 0xFF (NaN)
// for mxfp4; E4M3 subnormals, negative scales and 0x7F / 0xFF (NaN) for nvfp4. Every level agrees with the
// generic definition (NaN where it gives NaN). (Scales near 2^127 overflow fp32 either way: the offset form
// of the fast dots gives NaN where the generic one gives Inf; not compared.)
TEST(Q8Dot, EdgeScaleCodesAtEveryLevel) {
  struct Case {
    Q8Kind kind;
    numerics::Format format;
    int64_t block_bytes;  // per scale byte
    std::vector<uint8_t> codes;
  };
  const std::vector<Case> cases = {
      {Q8Kind::kMxfp4, numerics::Format::MXFP4, 17, {0x00, 0x7F, 0x01, 0xF0, 0x80, 0x75}},
      {Q8Kind::kMxfp4, numerics::Format::MXFP4, 17, {0x7F, 0xFF, 0x7E, 0x7F}},
      {Q8Kind::kMxfp4, numerics::Format::MXFP4, 17, {0x00}},  // a row of 2^-127 scales alone
      {Q8Kind::kNvfp4, numerics::Format::NVFP4, 9, {0x01, 0x07, 0x08, 0x38, 0xB8, 0x7E, 0x00, 0x81, 0x30}},
      {Q8Kind::kNvfp4, numerics::Format::NVFP4, 9, {0x38, 0x7F, 0x30, 0x40}},
      {Q8Kind::kNvfp4, numerics::Format::NVFP4, 9, {0x38, 0xFF, 0x30, 0x40}},
  };
  const SimdKernels& generic = *simd_kernels_generic();
  for (const Case& c : cases) {
    for (int64_t blocks : {4, 8, 9}) {
      const int64_t cols = 32 * blocks;
      const int64_t scales = c.block_bytes == 17 ? cols / 32 : cols / 16;  // mxfp4: 32 values, nvfp4: 16
      std::vector<uint8_t> row(static_cast<size_t>(scales * c.block_bytes));
      std::mt19937_64 rng(static_cast<uint64_t>(blocks));
      for (auto& b : row) b = static_cast<uint8_t>(rng());
      for (int64_t i = 0; i < scales; ++i)
        row[static_cast<size_t>(i * c.block_bytes)] = c.codes[static_cast<size_t>(i) % c.codes.size()];
      std::vector<float> decoded(static_cast<size_t>(cols));
      const float tensor_amax = 3.0f;
      numerics::decode_row(c.format, row.data(), static_cast<size_t>(cols), tensor_amax, decoded.data());
      const std::vector<float> x = normal_values(static_cast<size_t>(cols), 5);
      Q8Activations q;
      const Q8Target target = q8_target(c.format);
      ASSERT_TRUE(quantize_q8(x.data(), cols, target.order, q));
      double magnitude = 0.0;
      for (int64_t k = 0; k < cols; ++k)
        magnitude +=
            std::fabs(static_cast<double>(x[static_cast<size_t>(k)]) * decoded[static_cast<size_t>(k)]);
      const float factor = tensor_amax / target.tensor_divisor;
      const float reference = q8_dot(generic, c.kind)(row.data(), q, factor);
      EXPECT_EQ(std::isnan(reference), std::isnan(magnitude)) << "kind " << static_cast<int>(c.kind);
      for (const SimdKernels* level : levels()) {
        const Q8Dot dot = q8_dot(*level, c.kind);
        if (!dot) continue;
        const float value = dot(row.data(), q, factor);
        if (std::isnan(reference)) {
          EXPECT_TRUE(std::isnan(value)) << level->name << " kind " << static_cast<int>(c.kind);
        } else {
          EXPECT_NEAR(value, reference, 1e-5 * magnitude + 1e-44)
              << level->name << " kind " << static_cast<int>(c.kind) << " blocks " << blocks;
        }
      }
    }
  }
}

// The multi-row entry point gives each row exactly its one-row dot (rows of several seeds laid end to end).
TEST(Q8Dot, RowsEntryEqualsTheOneRowDotBitForBit) {
  for (Q8Kind kind :
       {Q8Kind::kQ4_0, Q8Kind::kQ4_1, Q8Kind::kQ8_0, Q8Kind::kMxfp4, Q8Kind::kNvfp4, Q8Kind::kUe4bit}) {
    for (int64_t blocks : {2, 6, 8, 18}) {
      const int64_t cols = 32 * blocks;
      constexpr int64_t kRows = 7;
      std::vector<uint8_t> matrix;
      Q8Target target;
      float factor = 1.0f;
      for (int64_t r = 0; r < kRows; ++r) {
        const Row row = make_row(kind, cols, static_cast<uint64_t>(300 + 17 * r + blocks));
        matrix.insert(matrix.end(), row.bytes.begin(), row.bytes.end());
        target = row.target;
        if (r == 0) factor = row.tensor_amax / row.target.tensor_divisor;
      }
      const int64_t stride = static_cast<int64_t>(matrix.size()) / kRows;
      const std::vector<float> x = normal_values(static_cast<size_t>(cols), 11, 9.0f);
      Q8Activations q;
      ASSERT_TRUE(quantize_q8(x.data(), cols, target.order, q));
      for (const SimdKernels* level : levels()) {
        const Q8DotRows rows = q8_dot_rows(*level, kind);
        if (!rows) continue;
        std::vector<float> out(kRows, -1.0f);
        rows(matrix.data(), stride, kRows, q, factor, out.data());
        for (int64_t r = 0; r < kRows; ++r) {
          const float one = q8_dot(*level, kind)(matrix.data() + r * stride, q, factor);
          EXPECT_EQ(std::bit_cast<uint32_t>(out[static_cast<size_t>(r)]), std::bit_cast<uint32_t>(one))
              << level->name << " kind " << static_cast<int>(kind) << " blocks " << blocks << " row " << r;
        }
      }
    }
  }
}

}  // namespace
}  // namespace xpusim::exec::simd
