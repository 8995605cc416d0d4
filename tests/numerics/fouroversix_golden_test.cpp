// nvfp4, nvfp4-4o6, if4 and mxfp4-ceil are byte-exact with fouroversix 1.0.5's reference quantizer on
// random and real (SmolLM2-135M) tensors: tests/data/numerics/fouroversix_goldens.bin, made by
// tools/make_format_goldens.py. The one deliberate difference: where a block scale is an E4M3 subnormal
// that rounded far down, |x / scale| can reach 7 and the reference rounds it to 8, which it cannot encode
// (it emits a bogus nibble and compares errors with 8); xpusim saturates at 6. The goldens flag those
// blocks; only flagged blocks may differ.
#include <gtest/gtest.h>

#include <set>

#include "golden_file.h"
#include "numerics/format_table.h"
#include "numerics/tensor_codec.h"

namespace xpusim::numerics {
namespace {

TEST(FouroversixGoldens, EncodesByteExactly) {
  testing::ByteReader in(testing::read_file(testing::data_path("fouroversix_goldens.bin")));
  ASSERT_EQ(in.read_string(8), "XPFOS002") << "regenerate with tools/make_format_goldens.py";
  in.read_string(in.read<uint32_t>());
  const uint32_t tensors = in.read<uint32_t>();
  std::set<std::string> formats_seen;
  bool saw_model = false;
  for (uint32_t t = 0; t < tensors && in.ok(); ++t) {
    const std::string label = in.read_string(32);
    const uint32_t rows = in.read<uint32_t>(), cols = in.read<uint32_t>();
    const std::vector<float> x = in.read_array<float>(size_t{rows} * cols);
    saw_model = saw_model || label.find(".gguf") != std::string::npos;
    const uint32_t formats = in.read<uint32_t>();
    for (uint32_t f = 0; f < formats && in.ok(); ++f) {
      const std::string name = in.read_string(16);
      const float amax = in.read<float>();
      const std::vector<uint8_t> want = in.read_array<uint8_t>(in.read<uint32_t>());
      const std::vector<uint32_t> flagged_list = in.read_array<uint32_t>(in.read<uint32_t>());
      const std::set<uint32_t> flagged(flagged_list.begin(), flagged_list.end());
      const auto format = format_from_name(name);
      ASSERT_TRUE(format.has_value()) << name;
      formats_seen.insert(name);
      const FormatRow& row = format_row(*format);
      const EncodedTensor got = encode_tensor(*format, x, rows, cols);
      if (row.has_tensor_scale) {
        EXPECT_EQ(got.tensor_amax, amax) << name << " " << label;
      }
      ASSERT_EQ(got.data.size(), want.size()) << name << " " << label;
      size_t bad_blocks = 0, saturated_blocks = 0;
      for (size_t b = 0; b < want.size() / row.block_bytes; ++b) {
        const size_t offset = b * row.block_bytes;
        if (std::equal(want.begin() + offset, want.begin() + offset + row.block_bytes,
                       got.data.begin() + offset)) {
          continue;
        }
        if (flagged.contains(static_cast<uint32_t>(b))) {
          ++saturated_blocks;
          continue;
        }
        if (bad_blocks++ < 3) {
          ADD_FAILURE() << name << " " << label << ": block " << b << " differs (scale 0x" << std::hex
                        << +got.data[offset] << " want 0x" << +want[offset] << ")";
        }
      }
      EXPECT_EQ(bad_blocks, 0u) << name << " " << label;
      if (saturated_blocks > 0) {
        std::printf("  %s / %s: %zu of %zu blocks differ only by xpusim's E2M1 saturation\n", name.c_str(),
                    label.c_str(), saturated_blocks, want.size() / row.block_bytes);
      }
    }
  }
  EXPECT_TRUE(in.ok() && in.at_end()) << "fouroversix_goldens.bin is truncated or has trailing bytes";
  EXPECT_EQ(formats_seen, (std::set<std::string>{"nvfp4", "nvfp4-4o6", "if4", "mxfp4-ceil"}));
  EXPECT_TRUE(saw_model) << "goldens were made without the real model tensor";
}

}  // namespace
}  // namespace xpusim::numerics
