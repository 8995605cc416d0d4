// llama.cpp block decoders and reference quantizers against gguf-py goldens
// (tests/data/numerics/ggml_goldens.bin, made by tools/make_ggml_goldens.py), incl. real SmolLM2 blocks.
#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "golden_file.h"
#include "numerics/decode.h"
#include "numerics/ggml_blocks.h"

namespace xpusim::numerics {
namespace {

using testing::ByteReader;

struct GgmlRecord {
  uint8_t kind;  // 0 decode, 1 encode
  std::string type;
  std::string label;
  uint32_t blocks, block_bytes, block_elements;
  std::vector<uint8_t> bytes;
  std::vector<float> values;
};

std::vector<GgmlRecord> load_records() {
  ByteReader in(testing::read_file(testing::data_path("ggml_goldens.bin")));
  std::vector<GgmlRecord> records;
  if (in.read_string(8) != "XPGGML01") {
    ADD_FAILURE() << "ggml_goldens.bin: bad magic (regenerate with tools/make_ggml_goldens.py)";
    return records;
  }
  in.read_string(in.read<uint32_t>());  // provenance
  const uint32_t count = in.read<uint32_t>();
  for (uint32_t i = 0; i < count && in.ok(); ++i) {
    GgmlRecord r;
    r.kind = in.read<uint8_t>();
    r.type = in.read_string(16);
    r.label = in.read_string(32);
    r.blocks = in.read<uint32_t>();
    r.block_bytes = in.read<uint32_t>();
    r.block_elements = in.read<uint32_t>();
    r.bytes = in.read_array<uint8_t>(size_t{r.blocks} * r.block_bytes);
    r.values = in.read_array<float>(size_t{r.blocks} * r.block_elements);
    records.push_back(std::move(r));
  }
  EXPECT_TRUE(in.ok() && in.at_end()) << "ggml_goldens.bin is truncated or has trailing bytes";
  return records;
}

TEST(GgmlDecode, MatchesGgufPyOnRandomAndModelBlocks) {
  std::set<std::string> decoded_types;
  bool saw_model = false;
  for (const GgmlRecord& r : load_records()) {
    if (r.kind != 0) continue;
    const auto dtype = dtype_from_name(r.type);
    ASSERT_TRUE(dtype.has_value()) << r.type;
    ASSERT_EQ(dtype_info(*dtype).block_bytes, r.block_bytes) << r.type;
    ASSERT_EQ(dtype_info(*dtype).block_elements, r.block_elements) << r.type;
    std::vector<float> out(r.values.size());
    decode_to_f32(*dtype, r.bytes.data(), out.data(), out.size());
    size_t mismatches = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      if (!testing::same_float(out[i], r.values[i]) && mismatches++ < 5) {
        ADD_FAILURE() << r.type << " " << r.label << " element " << i << ": got " << out[i] << " want "
                      << r.values[i];
      }
    }
    EXPECT_EQ(mismatches, 0u) << r.type << " " << r.label;
    decoded_types.insert(r.type);
    saw_model = saw_model || r.label.starts_with("model:");
  }
  EXPECT_EQ(decoded_types.size(), 12u) << "every ggml block type needs a decode golden";
  EXPECT_TRUE(saw_model) << "goldens were made without the real model file";
}

TEST(GgmlDecode, BlockDecoderDecodesAnyBlockRange) {
  for (const GgmlRecord& r : load_records()) {
    if (r.kind != 0 || r.blocks < 4) continue;
    const BlockDecoder decoder = block_decoder(*dtype_from_name(r.type));
    std::vector<float> out(2 * r.block_elements);
    decoder(r.bytes.data() + 3 * r.block_bytes, out.data(), 2);  // blocks 3 and 4 only (unaligned start)
    for (size_t i = 0; i < out.size(); ++i) {
      ASSERT_TRUE(testing::same_float(out[i], r.values[3 * r.block_elements + i])) << r.type << " " << i;
    }
  }
}

TEST(GgmlEncode, ReferenceQuantizersAreByteExact) {
  int checked = 0;
  for (const GgmlRecord& r : load_records()) {
    if (r.kind != 1) continue;
    std::vector<uint8_t> out(r.bytes.size());
    if (r.type == "Q4_0") {
      ggml::encode_q4_0_blocks(r.values.data(), out.data(), r.blocks);
    } else if (r.type == "Q8_0") {
      ggml::encode_q8_0_blocks(r.values.data(), out.data(), r.blocks);
    } else {
      ADD_FAILURE() << "no encoder for " << r.type;
      continue;
    }
    EXPECT_EQ(out, r.bytes) << r.type;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

// formats.md §11.3 worked vectors.
TEST(GgmlEncode, WorkedVectors) {
  float q8[32] = {127.0f, 2.5f, -2.5f, 0.5f};
  uint8_t q8_bytes[34];
  ggml::encode_q8_0_blocks(q8, q8_bytes, 1);
  const std::vector<uint8_t> q8_want_head = {0x00, 0x3c, 0x7f, 0x03, 0xfd, 0x01};
  EXPECT_EQ(std::vector<uint8_t>(q8_bytes, q8_bytes + 6), q8_want_head);
  for (int i = 6; i < 34; ++i) EXPECT_EQ(q8_bytes[i], 0) << i;

  float q4[32] = {};
  q4[0] = -8.0f;
  q4[1] = 0.5f;
  q4[16] = 7.0f;
  uint8_t q4_bytes[18];
  ggml::encode_q4_0_blocks(q4, q4_bytes, 1);
  const std::vector<uint8_t> q4_want_head = {0x00, 0x3c, 0xf0, 0x89};
  EXPECT_EQ(std::vector<uint8_t>(q4_bytes, q4_bytes + 4), q4_want_head);
  for (int i = 4; i < 18; ++i) EXPECT_EQ(q4_bytes[i], 0x88) << i;
}

TEST(GgmlDecode, RejectsNonFloatTypesAndPartialBlocks) {
  float out[32];
  const uint8_t bytes[64] = {};
  EXPECT_THROW(decode_to_f32(DType::I32, bytes, out, 4), Error);
  EXPECT_THROW(decode_to_f32(DType::Q8_0, bytes, out, 16), Error);
}

}  // namespace
}  // namespace xpusim::numerics
