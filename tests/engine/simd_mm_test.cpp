// The engine's fast matrix kernels (engine/simd_mm.h) against the plain definition (decode_row + sequential
// accumulate_round), bit for bit: every level, every weight format, strip and interleaved layouts, both
// accumulator rounding modes, shapes that cut panels and chunks unevenly. And quantize_row against the
// straightforward scan of the ue 4-bit quantizer rules it replaced.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/block_formats.h"
#include "engine/engine_numerics.h"
#include "engine/simd_mm.h"
#include "numerics/float_bits.h"

namespace xpusim::engine {
namespace {

namespace fb = numerics::bits;

struct RandomWeights {
  std::vector<uint8_t> codes, scales;  // scales: codebook (ue-tq4) then per-row scales
};

RandomWeights random_weights(WeightFormat format, size_t n, size_t k, std::mt19937& rng) {
  const BlockFormatInfo& info = block_format_info(format);
  RandomWeights w;
  w.codes.resize(packed_bytes(format, n, k));
  w.scales.resize(scale_bytes(format, n, k));
  std::normal_distribution<float> normal(0.0f, 0.1f);
  if (format == WeightFormat::bf16) {
    for (size_t i = 0; i < n * k; ++i) {
      const uint16_t v = fb::f32_to_bf16(normal(rng));
      std::memcpy(w.codes.data() + 2 * i, &v, 2);
    }
    return w;
  }
  for (uint8_t& c : w.codes) c = static_cast<uint8_t>(rng());
  for (size_t i = 0; i < w.scales.size(); i += static_cast<size_t>(info.scale_bytes == 1 ? 1 : 2)) {
    if (info.scale_bytes == 1) {
      w.scales[i] = static_cast<uint8_t>(0x30 + rng() % 16 + (rng() % 2) * 0x80);
    } else {
      uint16_t v = fb::f32_to_bf16(normal(rng));
      if (rng() % 16 == 0) v = static_cast<uint16_t>(v & 0x807Fu);  // subnormal scales: tiny products
      const uint16_t special[] = {0x7F80, 0xFF80, 0x7FC1, 0xFFA0, 0x0000, 0x8000};  // Inf, NaN, zeros
      if (rng() % 32 == 0) v = special[rng() % 6];
      std::memcpy(w.scales.data() + i, &v, 2);
    }
  }
  return w;
}

// The definition: out[i][j] = sequential accumulate_round over k of a * to_bf19(decoded weight).
std::vector<float> reference(WeightFormat format, const RandomWeights& w, const std::vector<float>& a,
                             size_t m, size_t n, size_t k, const NumericsPolicy& policy) {
  const BlockFormatInfo& info = block_format_info(format);
  const size_t code_row = packed_bytes(format, 1, k);
  const size_t scale_row = info.scale_bytes == 0 ? 0 : k / static_cast<size_t>(info.block) * info.scale_bytes;
  std::vector<float> out(m * n), row(k);
  for (size_t j = 0; j < n; ++j) {
    decode_row(format, w.codes.data() + j * code_row,
               w.scales.empty() ? nullptr : w.scales.data() + info.codebook_bytes + j * scale_row,
               w.scales.data(), k, row.data());
    for (size_t i = 0; i < m; ++i) {
      float acc = 0;
      for (size_t kk = 0; kk < k; ++kk)
        acc = accumulate_round(acc + a[i * k + kk] * to_bf19(row[kk]), policy);
      out[i * n + j] = acc;
    }
  }
  return out;
}

void expect_same_bits(const std::vector<float>& got, const std::vector<float>& want,
                      const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  // NaN sign and payload are not part of the numerics: which NaN operand an add propagates depends on the
  // operand order the compiler picks for a commutative operation.
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(got[i]) && std::isnan(want[i])) continue;
    ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i])) << what << " at " << i;
  }
}

TEST(SimdMm, EveryLevelAndLayoutMatchesTheDefinition) {
  std::mt19937 rng(11);
  std::vector<const simd::MmKernels*> levels = {simd::mm_kernels_generic()};
  if (const simd::MmKernels* fast = simd::mm_kernels_avx512()) levels.push_back(fast);
  for (int trial = 0; trial < 44; ++trial) {
    const auto format = static_cast<WeightFormat>(trial % static_cast<int>(WeightFormat::COUNT));
    const auto block = static_cast<size_t>(block_format_info(format).block);
    const size_t m = 1 + rng() % 7, n = 1 + rng() % 150;
    const size_t k = format == WeightFormat::bf16 ? 1 + rng() % 300 : block * (1 + rng() % (384 / block));
    NumericsPolicy policy;
    if (trial % 4 == 1) policy.acc_rounding = Rounding::rne;
    if (trial % 4 == 2) policy.acc_mantissa_bits = 23;
    if (trial % 4 == 3) policy.acc_mantissa_bits = 8, policy.acc_rounding = Rounding::rne;
    const RandomWeights w = random_weights(format, n, k, rng);
    std::vector<float> a(m * k);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& v : a) v = to_bf19(fb::bf16_to_f32(fb::f32_to_bf16(normal(rng))));
    const std::vector<float> want = reference(format, w, a, m, n, k, policy);
    const simd::WeightStrip strip = simd::WeightStrip::make(
        format, w.codes.data(), format == WeightFormat::bf16 ? nullptr : w.scales.data(), k);
    const simd::InterleavedWeights interleaved = simd::InterleavedWeights::from(strip, n, k);
    EXPECT_EQ(interleaved.bytes.empty(), !simd::InterleavedWeights::supports(format));
    for (const simd::MmKernels* level : levels) {
      const std::string what = fmt::format("{} {} m={} n={} k={} trial {}", level->name,
                                           weight_format_name(format), m, n, k, trial);
      std::vector<float> got(m * n);
      simd::mm_accumulate(*level, strip, a.data(), m, n, k, simd::AccRounding::from(policy), got.data());
      expect_same_bits(got, want, what + " strip");
      if (interleaved.bytes.empty()) continue;
      std::fill(got.begin(), got.end(), -1.0f);
      simd::mm_accumulate(*level, interleaved, a.data(), m, simd::AccRounding::from(policy), got.data());
      expect_same_bits(got, want, what + " interleaved");
    }
  }
}

// m = 1 (decode) takes the fused decode-and-accumulate path where a level has one (accumulate_row): every
// ue 4-bit format, every panel width (1..4 groups of 16, partial groups), one-block rows, every rounding.
TEST(SimdMm, FusedRowPathMatchesTheDefinition) {
  std::mt19937 rng(23);
  std::vector<const simd::MmKernels*> levels = {simd::mm_kernels_generic()};
  if (const simd::MmKernels* fast = simd::mm_kernels_avx512()) levels.push_back(fast);
  const WeightFormat formats[] = {WeightFormat::ue_int4, WeightFormat::ue_fp4, WeightFormat::ue_if4};
  for (int trial = 0; trial < 24; ++trial) {
    const WeightFormat format = formats[trial % 3];
    const size_t n = trial < 4 ? 16 * static_cast<size_t>(trial + 1) : 1 + rng() % 200;
    const size_t k = 64 * (1 + rng() % 6);
    NumericsPolicy policy;
    if (trial % 4 == 1) policy.acc_rounding = Rounding::rne;
    if (trial % 4 == 2) policy.acc_mantissa_bits = 23;
    if (trial % 4 == 3) policy.acc_mantissa_bits = 8, policy.acc_rounding = Rounding::rne;
    const RandomWeights w = random_weights(format, n, k, rng);
    std::vector<float> a(k);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& v : a) v = to_bf19(fb::bf16_to_f32(fb::f32_to_bf16(normal(rng))));
    // Inputs at the ends of the range, where x * code (exact for ordinary x) overflows or goes subnormal.
    if (trial % 2 == 1) a[rng() % k] = std::ldexp(1.5f, 125), a[rng() % k] = std::ldexp(-1.25f, -130);
    const std::vector<float> want = reference(format, w, a, 1, n, k, policy);
    const simd::WeightStrip strip = simd::WeightStrip::make(format, w.codes.data(), w.scales.data(), k);
    for (const simd::MmKernels* level : levels) {
      std::vector<float> got(n, -1.0f);
      simd::mm_accumulate(*level, strip, a.data(), 1, n, k, simd::AccRounding::from(policy), got.data());
      expect_same_bits(
          got, want,
          fmt::format("{} {} n={} k={} trial {}", level->name, weight_format_name(format), n, k, trial));
    }
  }
}

// The ue 4-bit quantizer as first written (formats.md §10.2): a scan of the FP4 table per element.
void quantize_block4_scan(WeightFormat format, const float* x, uint8_t* codes, uint16_t* scale) {
  constexpr float kFp4[16] = {-6, -4, -3, -2, -1.5f, -1, -0.5f, -0.0f, 0.0f, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  constexpr uint8_t kFp4Code[16] = {0xF, 0xE, 0xD, 0xC, 0xB, 0xA, 0x9, 0x8,
                                    0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7};
  auto bf16_round = [](float v) { return fb::bf16_to_f32(fb::f32_to_bf16(v)); };
  float amax = 0;
  for (int i = 0; i < 64; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  amax = std::fmax(amax, 1e-8f);
  const float s_int = bf16_round(amax / 7.0f), s_fp = bf16_round(amax / 6.0f);
  uint8_t int_codes[64], fp_codes[64];
  float err_int = 0, err_fp = 0;
  for (int i = 0; i < 64; ++i) {
    const float q = std::clamp(std::nearbyint(x[i] / s_int), -8.0f, 7.0f);
    int_codes[i] = static_cast<uint8_t>(static_cast<int>(q) & 0xF);
    const float d_int = x[i] - q * s_int;
    err_int += d_int * d_int;
    const float v = x[i] / s_fp;
    int best = 0;
    for (int t = 1; t < 16; ++t)
      if (std::fabs(v - kFp4[t]) < std::fabs(v - kFp4[best])) best = t;
    fp_codes[i] = kFp4Code[best];
    const float d_fp = x[i] - kFp4[best] * s_fp;
    err_fp += d_fp * d_fp;
  }
  const bool use_int =
      format == WeightFormat::ue_int4 || (format == WeightFormat::ue_if4 && err_int <= err_fp);
  for (int i = 0; i < 64; i += 2)
    codes[i / 2] = static_cast<uint8_t>((use_int ? int_codes[i] : fp_codes[i]) |
                                        ((use_int ? int_codes[i + 1] : fp_codes[i + 1]) << 4));
  *scale = use_int ? static_cast<uint16_t>(fb::f32_to_bf16(s_int) | 0x8000u) : fb::f32_to_bf16(s_fp);
}

TEST(SimdMm, QuantizeRowMatchesTheTableScan) {
  std::mt19937 rng(5);
  const WeightFormat formats[] = {WeightFormat::ue_int4, WeightFormat::ue_fp4, WeightFormat::ue_if4};
  for (int trial = 0; trial < 600; ++trial) {
    std::vector<uint16_t> row(64);
    const float spread = std::ldexp(1.0f, static_cast<int>(rng() % 40) - 20);
    std::normal_distribution<float> normal(0.0f, spread);
    for (uint16_t& v : row) {
      v = fb::f32_to_bf16(normal(rng));
      if (trial % 5 == 1) v = fb::f32_to_bf16(spread * static_cast<float>(static_cast<int>(rng() % 15) - 7));
      if (trial % 5 == 2 && rng() % 3 == 0) v = 0;
    }
    if (trial % 50 == 3) std::fill(row.begin(), row.end(), uint16_t{0x8000});  // all -0
    std::vector<float> x(64);
    for (size_t i = 0; i < 64; ++i) x[i] = fb::bf16_to_f32(row[i]);
    const WeightFormat format = formats[trial % 3];
    uint8_t codes[32], want_codes[32];
    uint16_t scale, want_scale;
    quantize_row(format, row.data(), 64, codes, reinterpret_cast<uint8_t*>(&scale));
    quantize_block4_scan(format, x.data(), want_codes, &want_scale);
    ASSERT_EQ(scale, want_scale) << "trial " << trial;
    ASSERT_EQ(std::memcmp(codes, want_codes, 32), 0) << "trial " << trial;
  }
}

}  // namespace
}  // namespace xpusim::engine
