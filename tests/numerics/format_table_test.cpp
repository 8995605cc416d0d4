// The format table's test loop: every row is checked for its worked vectors, its error tolerance on the
// standard signal, block layout bounds, padding, non-finite inputs and thread determinism. Adding a row
// adds its checks here automatically.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/error.h"
#include "numerics/format_table.h"
#include "numerics/tensor_codec.h"

namespace xpusim::numerics {
namespace {

std::string hex(std::span<const uint8_t> bytes) {
  std::string out;
  for (uint8_t b : bytes) out += fmt::format("{:02x} ", b);
  return out;
}

class EveryFormat : public ::testing::TestWithParam<Format> {};

TEST_P(EveryFormat, WorkedVectorsEncodeExactly) {
  const FormatRow& row = format_row(GetParam());
  for (const WorkedVector& v : row.worked_vectors) {
    const EncodedTensor t = encode_tensor(row.format, v.input, 1, v.input.size(), 1);
    EXPECT_EQ(hex(t.data), hex(v.encoded)) << row.name << ": " << v.note;
  }
}

TEST_P(EveryFormat, MeetsItsToleranceOnTheStandardSignal) {
  const FormatRow& row = format_row(GetParam());
  std::vector<float> x = test_signal(1 << 16);
  if (!row.signed_values) {
    for (float& v : x) v = std::fabs(v);
  }
  const EncodedTensor t = encode_tensor(row.format, x, 64, 1024);
  std::vector<float> y(x.size());
  decode_tensor(t, y);
  const ErrorStats stats = error_stats(x, y);
  EXPECT_EQ(stats.nonfinite, 0u) << row.name;
  EXPECT_GE(stats.sqnr_db, row.min_sqnr_db) << row.name;
  std::printf("  %-14s SQNR %7.2f dB (tolerance %.1f), %.4g bits/element\n", std::string(row.name).c_str(),
              stats.sqnr_db, row.min_sqnr_db, row.bits_per_element());
}

TEST_P(EveryFormat, BlocksStayInsideTheirBytes) {
  const FormatRow& row = format_row(GetParam());
  const std::vector<float> x = test_signal(3 * row.block_elements, 7);
  std::vector<uint8_t> bytes(3 * row.block_bytes + 16, 0xA5);
  row.encode(x.data(), bytes.data(), 3, 4.0f);
  for (size_t i = 3 * row.block_bytes; i < bytes.size(); ++i) ASSERT_EQ(bytes[i], 0xA5) << row.name;
  std::vector<float> y(3 * row.block_elements + 4, -7.0f);
  row.decode(bytes.data(), y.data(), 3, 4.0f);
  for (size_t i = 3 * row.block_elements; i < y.size(); ++i) ASSERT_EQ(y[i], -7.0f) << row.name;
}

TEST_P(EveryFormat, PartialLastBlockIsZeroPadded) {
  const FormatRow& row = format_row(GetParam());
  const size_t cols = 3 * row.block_elements + 1;
  const std::vector<float> x = test_signal(2 * cols, 3);
  std::vector<float> padded(2 * 4 * row.block_elements, 0.0f);
  for (size_t r = 0; r < 2; ++r) {
    std::copy_n(x.begin() + r * cols, cols, padded.begin() + r * 4 * row.block_elements);
  }
  const EncodedTensor a = encode_tensor(row.format, x, 2, cols, 1);
  const EncodedTensor b = encode_tensor(row.format, padded, 2, 4 * row.block_elements, 1);
  EXPECT_EQ(a.data, b.data) << row.name;
  std::vector<float> ya(x.size()), yb(padded.size());
  decode_tensor(a, ya);
  decode_tensor(b, yb);
  for (size_t r = 0; r < 2; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      const float va = ya[r * cols + c], vb = yb[r * 4 * row.block_elements + c];
      ASSERT_TRUE(va == vb || (std::isnan(va) && std::isnan(vb))) << row.name << " " << r << "," << c;
    }
  }
}

TEST_P(EveryFormat, NonFiniteInputsFollowTheDocumentedRule) {
  const FormatRow& row = format_row(GetParam());
  std::vector<float> x = test_signal(4 * row.block_elements, 5);
  x[1] = NAN;
  x[x.size() - 1] = INFINITY;  // in a different block from the NaN whenever blocks are >= 2 long
  x[x.size() - 2] = -INFINITY;
  const EncodedTensor t = encode_tensor(row.format, x, 1, x.size(), 1);
  std::vector<float> y(x.size());
  decode_tensor(t, y);
  if (!row.is_block) return;  // element formats: per-format NaN/Inf codes, checked by the golden tests
  EXPECT_EQ(y[1], 0.0f) << row.name << ": NaN must encode as 0";
  // +-Inf are read as +-FLT_MAX: they become the largest magnitudes of their block, signs kept (q4_0/q8_0
  // then overflow their fp16 scale to Inf exactly as llama.cpp does).
  EXPECT_GT(y[x.size() - 1], 0.0f) << row.name;
  EXPECT_LT(y[x.size() - 2], 0.0f) << row.name;
}

TEST_P(EveryFormat, ThreadsDoNotChangeBytesAndRowsDecodeIndependently) {
  const FormatRow& row = format_row(GetParam());
  const size_t rows = 48, cols = 4096 + 3;
  const std::vector<float> x = test_signal(rows * cols, 11);
  const EncodedTensor one = encode_tensor(row.format, x, rows, cols, 1);
  const EncodedTensor many = encode_tensor(row.format, x, rows, cols, 4);
  ASSERT_EQ(one.data, many.data) << row.name;
  std::vector<float> all(x.size()), some(5 * cols);
  decode_tensor(many, all, 4);
  decode_rows(many, 7, 5, some.data());
  for (size_t i = 0; i < some.size(); ++i) {
    ASSERT_TRUE(all[7 * cols + i] == some[i] || (std::isnan(all[7 * cols + i]) && std::isnan(some[i])))
        << row.name << " " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(FormatTable, EveryFormat, ::testing::ValuesIn([] {
                           std::vector<Format> all;
                           for (const FormatRow& row : format_rows()) all.push_back(row.format);
                           return all;
                         }()),
                         [](const ::testing::TestParamInfo<Format>& param_info) {
                           std::string name(format_name(param_info.param));
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST(FormatTable, NamesRoundTripAndRowsAreComplete) {
  std::set<std::string_view> names;
  for (const FormatRow& row : format_rows()) {
    EXPECT_EQ(format_from_name(row.name), row.format);
    EXPECT_TRUE(names.insert(row.name).second) << row.name;
    EXPECT_FALSE(row.description.empty()) << row.name;
    EXPECT_FALSE(row.reference.empty()) << row.name;
    EXPECT_GT(row.block_elements, 0u) << row.name;
    EXPECT_NE(row.encode, nullptr) << row.name;
    EXPECT_NE(row.decode, nullptr) << row.name;
    EXPECT_NE(format_table_markdown().find(fmt::format("`{}`", row.name)), std::string::npos) << row.name;
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(Format::COUNT));
  EXPECT_FALSE(format_from_name("fp5").has_value());
}

TEST(FormatTable, RejectsMismatchedShapes) {
  const std::vector<float> x(10);
  EXPECT_THROW(encode_tensor(Format::BF16, x, 3, 4), Error);
  const EncodedTensor t = encode_tensor(Format::BF16, x, 2, 5);
  std::vector<float> y(9);
  EXPECT_THROW(decode_tensor(t, y), Error);
  EXPECT_THROW(decode_rows(t, 1, 2, y.data()), Error);
}

}  // namespace
}  // namespace xpusim::numerics
