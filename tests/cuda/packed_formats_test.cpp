// The CUDA GEMV's block decoders (cuda/packed_formats.h), compiled for the host, against the numerics
// library: every 4-bit format, on encoded test signals and on random bytes (NaN scales, -0 nibbles,
// subnormal scales included), bit for bit. This runs without a GPU: it is the same source nvcc compiles.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "cuda/device_weights.h"
#include "cuda/packed_formats.h"
#include "numerics/decode.h"
#include "numerics/tensor_codec.h"

namespace xpusim::cuda {
namespace {

using numerics::Format;

// Same value or both NaN; -0 and +0 differ.
bool same_bits(float a, float b) {
  if (a != a && b != b) return true;
  uint32_t ua, ub;
  std::memcpy(&ua, &a, 4);
  std::memcpy(&ub, &b, 4);
  return ua == ub;
}

std::vector<float> twin_decode_row(PackedFormat f, const uint8_t* row, size_t cols, float amax) {
  std::vector<float> out(cols);
  float block[kMaxBlockElements];
  const size_t e = static_cast<size_t>(block_elements(f)), bytes = static_cast<size_t>(block_bytes(f));
  for (size_t b = 0; b * e < cols; ++b) {
    decode_block_any(f, row + b * bytes, amax, block);
    for (size_t i = 0; i < e && b * e + i < cols; ++i) out[b * e + i] = block[i];
  }
  return out;
}

void expect_same(const std::vector<float>& want, const std::vector<float>& got, const char* what) {
  ASSERT_EQ(want.size(), got.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!same_bits(want[i], got[i]) && mismatches++ < 5)
      ADD_FAILURE() << what << " element " << i << ": numerics " << want[i] << ", twin " << got[i];
  }
  EXPECT_EQ(mismatches, 0u) << what;
}

const Format k4BitFormats[] = {Format::INT4,   Format::FP4,    Format::NVFP4,      Format::NVFP4_4O6,
                               Format::IF4,    Format::MXFP4,  Format::MXFP4_CEIL, Format::UE_INT4,
                               Format::UE_FP4, Format::UE_IF4, Format::Q4_0};

TEST(PackedFormats, EveryFourBitFormatIsMapped) {
  for (Format f : k4BitFormats) {
    const auto packed = packed_format_of(f);
    ASSERT_TRUE(packed.has_value()) << numerics::format_name(f);
    const auto& row = numerics::format_row(f);
    EXPECT_EQ(static_cast<uint32_t>(block_elements(*packed)), row.block_elements) << row.name;
    EXPECT_EQ(static_cast<uint32_t>(block_bytes(*packed)), row.block_bytes) << row.name;
  }
  EXPECT_FALSE(packed_format_of(Format::Q8_0).has_value());  // 8-bit formats are uploaded decoded
}

TEST(PackedFormats, EncodedSignalDecodesLikeNumerics) {
  constexpr size_t kRows = 8, kCols = 200;  // 200: a padded last block for every block size
  std::vector<float> signal = numerics::test_signal(kRows * kCols, 7);
  signal[3] *= 1e6f;  // one large outlier: small scales elsewhere in its row
  for (Format f : k4BitFormats) {
    const numerics::EncodedTensor t = numerics::encode_tensor(f, signal, kRows, kCols, 1);
    const PackedFormat packed = *packed_format_of(f);
    ASSERT_EQ(static_cast<size_t>(packed_row_bytes(packed, kCols)), t.row_bytes) << numerics::format_name(f);
    for (size_t r = 0; r < kRows; ++r) {
      std::vector<float> want(kCols);
      numerics::decode_row(f, t.data.data() + r * t.row_bytes, kCols, t.tensor_amax, want.data());
      expect_same(want, twin_decode_row(packed, t.data.data() + r * t.row_bytes, kCols, t.tensor_amax),
                  numerics::format_name(f).data());
    }
  }
}

TEST(PackedFormats, RandomBytesDecodeLikeNumerics) {
  std::mt19937 rng(11);
  const float amaxes[] = {1.0f, 3.5f, 1e-30f, 3.0e38f};
  for (Format f : k4BitFormats) {
    const PackedFormat packed = *packed_format_of(f);
    constexpr size_t kCols = 64 * 16;
    std::vector<uint8_t> bytes(static_cast<size_t>(packed_row_bytes(packed, kCols)));
    for (int trial = 0; trial < 16; ++trial) {
      for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
      for (float amax : amaxes) {
        std::vector<float> want(kCols);
        numerics::decode_row(f, bytes.data(), kCols, amax, want.data());
        expect_same(want, twin_decode_row(packed, bytes.data(), kCols, amax),
                    numerics::format_name(f).data());
      }
    }
  }
}

TEST(PackedFormats, GgmlQ4BlocksDecodeLikeNumerics) {
  std::mt19937 rng(5);
  for (DType dtype : {DType::Q4_0, DType::Q4_1}) {
    const auto packed = packed_format_of(dtype);
    ASSERT_TRUE(packed.has_value());
    constexpr size_t kCols = 32 * 64;
    std::vector<uint8_t> bytes(static_cast<size_t>(packed_row_bytes(*packed, kCols)));
    ASSERT_EQ(bytes.size(), *dtype_bytes(dtype, kCols));
    for (int trial = 0; trial < 16; ++trial) {
      for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
      std::vector<float> want(kCols);
      numerics::decode_to_f32(dtype, bytes.data(), want.data(), kCols);
      expect_same(want, twin_decode_row(*packed, bytes.data(), kCols, 0.0f), dtype_name(dtype).data());
    }
  }
}

TEST(PackedFormats, PlainRowsDecodeLikeNumerics) {
  std::mt19937 rng(3);
  for (DType dtype : {DType::BF16, DType::F32}) {
    const PackedFormat packed = *packed_format_of(dtype);
    std::vector<uint8_t> bytes(256 * static_cast<size_t>(block_bytes(packed)));
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    std::vector<float> want(256);
    numerics::decode_to_f32(dtype, bytes.data(), want.data(), 256);
    expect_same(want, twin_decode_row(packed, bytes.data(), 256, 0.0f), dtype_name(dtype).data());
  }
}

}  // namespace
}  // namespace xpusim::cuda
