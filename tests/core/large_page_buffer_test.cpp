// LargePageBuffer (core/large_page_buffer.h): zero-filled, 2 MiB aligned, movable; Weights keeps large owned
// tensors in one with the bytes unchanged.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/large_page_buffer.h"
#include "model/weights.h"

namespace xpusim {
namespace {

TEST(LargePageBuffer, ZeroFilledAlignedAndMovable) {
  const size_t bytes = (size_t{5} << 20) + 123;
  LargePageBuffer buffer(bytes);
  ASSERT_NE(buffer.data(), nullptr);
  EXPECT_EQ(buffer.size(), bytes);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % (size_t{2} << 20), 0u);
  for (size_t i = 0; i < bytes; i += 4093) EXPECT_EQ(buffer.data()[i], std::byte{0});
  buffer.data()[bytes - 1] = std::byte{7};
  LargePageBuffer moved(std::move(buffer));
  EXPECT_EQ(buffer.data(), nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_EQ(moved.size(), bytes);
  EXPECT_EQ(moved.data()[bytes - 1], std::byte{7});
  LargePageBuffer empty;
  empty = std::move(moved);
  EXPECT_EQ(empty.data()[bytes - 1], std::byte{7});
  EXPECT_EQ(LargePageBuffer(0).data(), nullptr);
}

TEST(LargePageBuffer, WeightsKeepLargeOwnedTensorsByteForByte) {
  std::vector<std::byte> bytes(kLargePageMinBytes + 64);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>(i * 131 % 251);
  const std::vector<std::byte> expected = bytes;
  model::Weights weights;
  weights.add_owned("w", DType::F32, {static_cast<int64_t>(bytes.size() / 4)}, std::move(bytes));
  const model::TensorView& view = weights.get("w");
  ASSERT_EQ(view.bytes, expected.size());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(view.data) % (size_t{2} << 20), 0u);  // on the huge-page buffer
  for (size_t i = 0; i < expected.size(); ++i) ASSERT_EQ(view.data[i], expected[i]) << i;
}

}  // namespace
}  // namespace xpusim
