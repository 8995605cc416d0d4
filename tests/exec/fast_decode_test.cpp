// The exec fast row decoders must be bit-identical to numerics::decode_to_f32 (the definition) on random
// blocks.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "exec/fast_decode.h"
#include "numerics/decode.h"

namespace xpusim::exec {
namespace {

TEST(FastDecode, BitIdenticalToNumerics) {
  std::mt19937 rng(1234);
  for (DType dtype : {DType::Q4_0, DType::Q4_1, DType::Q8_0, DType::BF16}) {
    RowDecoder fast = fast_row_decoder(dtype);
    ASSERT_NE(fast, nullptr) << dtype_name(dtype);
    const DTypeInfo& info = dtype_info(dtype);
    const size_t blocks = dtype == DType::BF16 ? 200 : 12;  // 200 bf16 elements: not a multiple of the chunk
    std::vector<uint8_t> bytes(blocks * info.block_bytes);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    // Keep the f16 scales finite so NaN != NaN does not hide a difference.
    if (dtype != DType::BF16) {
      for (size_t b = 0; b < blocks; ++b) {
        const uint16_t half = numerics::f32_to_f16(0.01f * static_cast<float>(b + 1));
        std::memcpy(&bytes[b * info.block_bytes], &half, 2);
        if (dtype == DType::Q4_1) std::memcpy(&bytes[b * info.block_bytes + 2], &half, 2);
      }
    }
    const size_t elements = blocks * info.block_elements;
    std::vector<float> expected(elements), got(elements);
    numerics::decode_to_f32(dtype, bytes.data(), expected.data(), elements);
    fast(bytes.data(), got.data(), blocks);
    EXPECT_EQ(std::memcmp(expected.data(), got.data(), elements * sizeof(float)), 0) << dtype_name(dtype);
  }
  EXPECT_EQ(fast_row_decoder(DType::Q6_K), nullptr);
}

TEST(FastDecode, EveryHalfScaleDecodesLikeNumerics) {
  // Q8_0 blocks with scale = every non-NaN f16 bit pattern (normals, subnormals, zeros, infinities) and q
  // = 1.
  RowDecoder fast = fast_row_decoder(DType::Q8_0);
  std::vector<uint8_t> block(34, 1);
  float got[32], expected[32];
  for (uint32_t half = 0; half < 0x10000; ++half) {
    if ((half & 0x7C00u) == 0x7C00u && (half & 0x3FFu) != 0) continue;  // NaN: payload handling may differ
    const uint16_t h = static_cast<uint16_t>(half);
    std::memcpy(block.data(), &h, 2);
    fast(block.data(), got, 1);
    numerics::decode_to_f32(DType::Q8_0, block.data(), expected, 32);
    ASSERT_EQ(std::memcmp(got, expected, sizeof got), 0) << "half 0x" << std::hex << half;
  }
}

}  // namespace
}  // namespace xpusim::exec
