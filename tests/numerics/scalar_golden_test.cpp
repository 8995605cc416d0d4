// Element formats against ml_dtypes / numpy goldens (tests/data/numerics/scalar_goldens.bin, made by
// tools/make_format_goldens.py): every code's decoded value, and encodes of 40000 fp32 inputs that include
// every tie point of the 8/4-bit formats and sampled ones of bf16/fp16. Plus exhaustive decode -> encode
// round trips of every code of every element format in the format table.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "golden_file.h"
#include "numerics/decode.h"
#include "numerics/format_table.h"
#include "numerics/scalar_codecs.h"

namespace xpusim::numerics {
namespace {

using testing::ByteReader;

struct ScalarGoldens {
  std::map<std::string, std::vector<float>> tables;
  std::vector<float> inputs;
  std::vector<uint16_t> bf16, fp16;
  std::vector<uint8_t> e4m3, e5m2, e8m0, e2m1;
};

const ScalarGoldens& goldens() {
  static const ScalarGoldens g = [] {
    ScalarGoldens out;
    ByteReader in(testing::read_file(testing::data_path("scalar_goldens.bin")));
    if (in.read_string(8) != "XPSCAL01") {
      ADD_FAILURE() << "scalar_goldens.bin: bad magic (regenerate with tools/make_format_goldens.py)";
      return out;
    }
    in.read_string(in.read<uint32_t>());
    const uint32_t tables = in.read<uint32_t>();
    for (uint32_t t = 0; t < tables && in.ok(); ++t) {
      const std::string name = in.read_string(16);
      out.tables[name] = in.read_array<float>(in.read<uint32_t>());
    }
    const uint32_t n = in.read<uint32_t>();
    out.inputs = in.read_array<float>(n);
    out.bf16 = in.read_array<uint16_t>(n);
    out.fp16 = in.read_array<uint16_t>(n);
    out.e4m3 = in.read_array<uint8_t>(n);
    out.e5m2 = in.read_array<uint8_t>(n);
    out.e8m0 = in.read_array<uint8_t>(n);
    out.e2m1 = in.read_array<uint8_t>(n);
    EXPECT_TRUE(in.ok() && in.at_end()) << "scalar_goldens.bin is truncated or has trailing bytes";
    return out;
  }();
  return g;
}

template <typename Decode>
void expect_table(const std::string& name, size_t count, Decode decode) {
  const auto it = goldens().tables.find(name);
  ASSERT_NE(it, goldens().tables.end()) << name;
  ASSERT_EQ(it->second.size(), count) << name;
  for (uint32_t code = 0; code < count; ++code) {
    ASSERT_TRUE(testing::same_float(decode(code), it->second[code]))
        << name << " code " << code << ": got " << decode(code) << " want " << it->second[code];
  }
}

float decode_storage(DType dtype, const std::vector<uint8_t>& bytes) {
  std::vector<float> out(dtype_info(dtype).block_elements);
  decode_to_f32(dtype, bytes.data(), out.data(), out.size());
  return out[0];
}

TEST(ScalarGoldens, EveryCodeDecodesLikeMlDtypes) {
  expect_table("E4M3FN", 256, [](uint32_t c) { return e4m3_decode_table()[c]; });
  expect_table("E5M2", 256, [](uint32_t c) { return e5m2_decode_table()[c]; });
  expect_table("E8M0", 256, [](uint32_t c) { return decode_e8m0(static_cast<uint8_t>(c)); });
  expect_table("E2M1", 16, [](uint32_t c) { return kE2M1Values[c]; });
  expect_table("F16", 65536, [](uint32_t c) { return f16_to_f32(static_cast<uint16_t>(c)); });
  // Storage dtypes (safetensors) go through decode_to_f32.
  expect_table("E4M3FNUZ", 256,
               [](uint32_t c) { return decode_storage(DType::F8_E4M3FNUZ, {static_cast<uint8_t>(c)}); });
  expect_table("E5M2FNUZ", 256,
               [](uint32_t c) { return decode_storage(DType::F8_E5M2FNUZ, {static_cast<uint8_t>(c)}); });
  expect_table("E8M0", 256,
               [](uint32_t c) { return decode_storage(DType::F8_E8M0, {static_cast<uint8_t>(c)}); });
  expect_table("E2M1", 16, [](uint32_t c) { return decode_storage(DType::F4, {static_cast<uint8_t>(c)}); });
  expect_table("E2M3", 64, [](uint32_t c) {
    return decode_storage(DType::F6_E2M3, {static_cast<uint8_t>(c), 0, 0});
  });
  expect_table("E3M2", 64, [](uint32_t c) {
    return decode_storage(DType::F6_E3M2, {static_cast<uint8_t>(c), 0, 0});
  });
}

template <typename Code, typename Encode, typename Decode>
void expect_encodes(const char* name, const std::vector<Code>& want, Encode encode, Decode decode,
                    bool skip_nan_inputs = false) {
  const auto& g = goldens();
  ASSERT_EQ(want.size(), g.inputs.size()) << name;
  size_t mismatches = 0;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const float x = g.inputs[i];
    if (skip_nan_inputs && std::isnan(x)) continue;
    const Code got = static_cast<Code>(encode(x));
    const bool both_nan = std::isnan(decode(got)) && std::isnan(decode(want[i]));
    if (got != want[i] && !both_nan && mismatches++ < 5) {
      ADD_FAILURE() << name << ": input " << x << " (0x" << std::hex << std::bit_cast<uint32_t>(x)
                    << ") got 0x" << +got << " want 0x" << +want[i] << std::dec;
    }
  }
  EXPECT_EQ(mismatches, 0u) << name;
}

TEST(ScalarGoldens, EncodesLikeMlDtypesIncludingTiesAndSpecials) {
  const auto& g = goldens();
  expect_encodes("bf16", g.bf16, f32_to_bf16, bf16_to_f32);
  expect_encodes("fp16", g.fp16, f32_to_f16, f16_to_f32);
  expect_encodes(
      "e4m3", g.e4m3, [](float x) { return encode_e4m3(x, Overflow::kIeee); },
      [](uint8_t c) { return e4m3_decode_table()[c]; });
  expect_encodes(
      "e5m2", g.e5m2, [](float x) { return encode_e5m2(x, Overflow::kIeee); },
      [](uint8_t c) { return e5m2_decode_table()[c]; });
  expect_encodes("e8m0", g.e8m0, encode_e8m0, decode_e8m0);
  // E2M1 has no NaN code: ml_dtypes maps NaN to a signed zero, xpusim documents NaN -> +0.
  expect_encodes(
      "e2m1", g.e2m1, encode_e2m1, [](uint8_t c) { return kE2M1Values[c & 0xF]; }, true);
}

TEST(ScalarCodecs, SaturatingFp8ClampsWhereIeeeOverflows) {
  EXPECT_EQ(encode_e4m3(1e9f, Overflow::kSaturate), 0x7E);
  EXPECT_EQ(encode_e4m3(-INFINITY, Overflow::kSaturate), 0xFE);
  EXPECT_EQ(encode_e4m3(NAN, Overflow::kSaturate), 0x7F);
  EXPECT_EQ(encode_e5m2(1e9f, Overflow::kSaturate), 0x7B);
  EXPECT_EQ(encode_e5m2(-INFINITY, Overflow::kIeee), 0xFC);
  EXPECT_EQ(encode_e2m1(NAN), 0x0);
  EXPECT_EQ(encode_e2m1(-INFINITY), 0xF);
  EXPECT_EQ(round_clamp_int(NAN, -8, 7), 0);
  EXPECT_EQ(round_clamp_int(-INFINITY, -8, 7), -8);
  EXPECT_EQ(encode_bf19_rne(NAN) << 13, 0x7FC00000u);
  EXPECT_EQ(encode_bf19_truncate(std::bit_cast<float>(0x7F800001u)) << 13, 0x7FC00000u);  // stays NaN
  EXPECT_EQ(encode_bf19_rne(std::bit_cast<float>(0x7F7FFFFFu)) << 13, 0x7F800000u);       // RNE overflow
}

// Every code of every element format with at most 16 bits per block: decode -> encode gives the code back
// (NaN codes: any NaN code back). bf19 (19 of 32 bits) is walked over all 2^19 codes.
TEST(FormatTableCodes, EveryCodeRoundTrips) {
  for (const FormatRow& row : format_rows()) {
    if (row.is_block) continue;
    const bool bf19 = row.block_bytes == 4 && row.format != Format::FP32;
    if (row.block_bytes > 2 && !bf19) continue;
    const uint64_t patterns = bf19 ? (1u << 19) : (1ull << (8 * row.block_bytes));
    std::vector<float> values(row.block_elements);
    uint8_t bytes[4], again[4];
    size_t mismatches = 0;
    for (uint64_t p = 0; p < patterns; ++p) {
      const uint32_t pattern = bf19 ? static_cast<uint32_t>(p << 13) : static_cast<uint32_t>(p);
      std::memcpy(bytes, &pattern, 4);
      row.decode(bytes, values.data(), 1, 1.0f);
      row.encode(values.data(), again, 1, 1.0f);
      if (std::memcmp(bytes, again, row.block_bytes) == 0) continue;
      std::vector<float> back(row.block_elements);
      row.decode(again, back.data(), 1, 1.0f);
      bool same = true;
      for (size_t i = 0; i < values.size(); ++i) {
        // Saturating formats turn an Inf code into the largest finite value of the same sign.
        const bool saturated_inf = std::isinf(values[i]) && std::isfinite(back[i]) &&
                                   std::signbit(values[i]) == std::signbit(back[i]) && back[i] != 0.0f;
        same = same && (testing::same_float(values[i], back[i]) || saturated_inf);
      }
      if (!same && mismatches++ < 3) ADD_FAILURE() << row.name << ": code 0x" << std::hex << pattern;
    }
    EXPECT_EQ(mismatches, 0u) << row.name;
  }
}

}  // namespace
}  // namespace xpusim::numerics
