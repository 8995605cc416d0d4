// safetensors reader and MappedFile: valid files (every dtype, metadata, shards) and every kind of bad input.
#include "model/safetensors.h"

#include <gtest/gtest.h>

#include "core/mapped_file.h"
#include "model/loader_test_util.h"

namespace xpusim::model {
namespace {

using testing::as_bytes;
using testing::expect_error;
using testing::safetensors_image;
using testing::SafetensorsBuilder;
using testing::TempDir;
using testing::write_file;

TEST(MappedFile, MapsContentsAndEmptyFiles) {
  TempDir dir;
  write_file(dir / "a.bin", "hello");
  write_file(dir / "empty.bin", "");
  auto file = MappedFile::open(dir / "a.bin");
  ASSERT_EQ(file->size(), 5u);
  EXPECT_EQ(std::memcmp(file->data(), "hello", 5), 0);
  auto empty = MappedFile::open(dir / "empty.bin");
  EXPECT_EQ(empty->size(), 0u);
  EXPECT_TRUE(empty->bytes().empty());
}

TEST(MappedFile, MissingFileNamesPath) {
  expect_error([] { MappedFile::open("/nonexistent/xpusim/file.bin"); },
               {"/nonexistent/xpusim/file.bin", "cannot open"});
  TempDir dir;
  expect_error([&] { MappedFile::open(dir.path()); }, {dir.path().string(), "not a regular file"});
}

TEST(Safetensors, ReadsEveryDtypeTheFormatDefines) {
  // name, element bits: shape [4] fills whole bytes for every dtype (F4: 2 bytes, F6: 3 bytes).
  const std::vector<std::pair<std::string, int>> dtypes = {
      {"BOOL", 8},    {"F4", 4},      {"F6_E2M3", 6}, {"F6_E3M2", 6},     {"U8", 8},          {"I8", 8},
      {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}, {"I16", 16},
      {"U16", 16},    {"F16", 16},    {"BF16", 16},   {"I32", 32},        {"U32", 32},        {"F32", 32},
      {"C64", 64},    {"F64", 64},    {"I64", 64},    {"U64", 64}};
  SafetensorsBuilder builder;
  for (const auto& [name, bits] : dtypes) {
    std::string bytes(static_cast<size_t>(4 * bits / 8), '\0');
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i + 1);
    builder.add("t_" + name, name, {4}, bytes);
  }
  const std::string image = builder.build();
  SafetensorsFile file = parse_safetensors(as_bytes(image), "all.safetensors");
  ASSERT_EQ(file.tensors.size(), dtypes.size());
  for (size_t i = 0; i < dtypes.size(); ++i) {
    const TensorView& view = file.tensors[i];
    EXPECT_EQ(view.name, "t_" + dtypes[i].first);
    EXPECT_EQ(dtype_name(view.dtype), dtypes[i].first);
    EXPECT_EQ(view.shape, std::vector<int64_t>{4});
    EXPECT_EQ(view.bytes, static_cast<size_t>(4 * dtypes[i].second / 8));
    EXPECT_EQ(static_cast<int>(view.data[0]), 1);  // zero-copy view of the first byte of its data
  }
}

TEST(Safetensors, KeepsMetadataAndHandlesScalarsAndEmptyTensors) {
  const std::string image = SafetensorsBuilder()
                                .metadata(R"({"format":"pt","note":"x"})")
                                .add("scalar", "F32", {}, std::string(4, '\0'))
                                .add("empty", "BF16", {0, 7}, "")
                                .build();
  SafetensorsFile file = parse_safetensors(as_bytes(image), "m.safetensors");
  EXPECT_EQ(file.metadata.at("format"), "pt");
  EXPECT_EQ(file.metadata.at("note"), "x");
  ASSERT_EQ(file.tensors.size(), 2u);
}

TEST(Safetensors, OpenMapsFileZeroCopy) {
  TempDir dir;
  const std::string image = SafetensorsBuilder().add_f32("w", {2, 2}, {1, 2, 3, 4}).build();
  write_file(dir / "model.safetensors", image);
  SafetensorsFile file = open_safetensors(dir / "model.safetensors");
  ASSERT_EQ(file.tensors.size(), 1u);
  auto mapping = std::static_pointer_cast<const MappedFile>(file.owner);
  EXPECT_GE(file.tensors[0].data, mapping->data());
  EXPECT_LE(file.tensors[0].data + file.tensors[0].bytes, mapping->data() + mapping->size());
  float values[4];
  std::memcpy(values, file.tensors[0].data, 16);
  EXPECT_EQ(values[3], 4.0f);
}

void expect_bad(const std::string& image, const std::vector<std::string>& parts) {
  std::vector<std::string> all = parts;
  all.push_back("bad.safetensors");
  expect_error([&] { parse_safetensors(as_bytes(image), "bad.safetensors"); }, all);
}

TEST(SafetensorsBadInput, TruncatedHeaders) {
  expect_bad("", {"too short"});
  expect_bad(std::string(5, '\0'), {"too short"});
  std::string past = safetensors_image("{}", "");
  past[0] = 100;  // header length 100, file has 2 bytes of header
  expect_bad(past, {"header length 100 runs past the end"});
  std::string huge = safetensors_image("{}", "");
  huge[7] = 0x7f;
  expect_bad(huge, {"over the 100000000-byte limit"});
  const std::string full = SafetensorsBuilder().add_f32("w", {4}, {1, 2, 3, 4}).build();
  expect_bad(full.substr(0, full.size() - 1), {"'w'", "out of range"});
}

TEST(SafetensorsBadInput, BadJson) {
  expect_bad(safetensors_image("[1,2]", ""), {"does not start with"});
  expect_bad(safetensors_image("{\"a\":", ""), {"invalid JSON"});
  expect_bad(safetensors_image(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                               std::string(8, '\0')),
             {"duplicate key 'w'"});
  expect_bad(safetensors_image(R"({"w":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}})",
                               std::string(4, '\0')),
             {"duplicate key 'dtype'"});
  expect_bad(safetensors_image(R"({"w":[1]})", ""), {"'w'", "not a JSON object"});
  expect_bad(safetensors_image(R"({"__metadata__":{"a":1}})", ""), {"__metadata__", "not a string"});
}

TEST(SafetensorsBadInput, BadEntries) {
  auto one = [](const std::string& entry, size_t data_bytes) {
    return safetensors_image("{\"w\":" + entry + "}", std::string(data_bytes, '\0'));
  };
  expect_bad(one(R"({"dtype":"Q4_0","shape":[32],"data_offsets":[0,18]})", 18),
             {"'w'", "unknown dtype 'Q4_0'"});
  expect_bad(one(R"({"dtype":"F33","shape":[1],"data_offsets":[0,4]})", 4), {"unknown dtype 'F33'"});
  expect_bad(one(R"({"shape":[1],"data_offsets":[0,4]})", 4), {"missing string 'dtype'"});
  expect_bad(one(R"({"dtype":"F32","shape":[-1],"data_offsets":[0,4]})", 4), {"not a non-negative integer"});
  expect_bad(one(R"({"dtype":"F32","shape":[1.5],"data_offsets":[0,4]})", 4), {"not a non-negative integer"});
  expect_bad(one(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})", 8), {"needs 12 bytes", "hold 8"});
  expect_bad(one(R"({"dtype":"F32","shape":[1],"data_offsets":[0,400]})", 4), {"out of range"});
  expect_bad(one(R"({"dtype":"F32","shape":[1],"data_offsets":[4,0]})", 4), {"out of range"});
  expect_bad(one(R"({"dtype":"F32","shape":[1],"data_offsets":[0]})", 4), {"data_offsets"});
  expect_bad(one(R"({"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]})", 4),
             {"too many elements"});
  expect_bad(one(R"({"dtype":"F4","shape":[3],"data_offsets":[0,2]})", 2), {"whole bytes"});
  expect_bad(one(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1})", 4),
             {"unknown field 'extra'"});
}

TEST(SafetensorsBadInput, GapsOverlapsAndTrailingBytes) {
  const std::string two = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                          R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  expect_bad(safetensors_image(two, std::string(12, '\0')), {"'b' starts at byte 8", "expected 4"});
  const std::string overlap = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  expect_bad(safetensors_image(overlap, std::string(8, '\0')), {"starts at byte 4"});
  expect_bad(SafetensorsBuilder().add_f32("w", {1}, {1}).build() + "xx",
             {"data buffer is 6 bytes", "cover 4"});
}

TEST(SafetensorsCheckpoint, ShardedIndexMapsEachShardOnce) {
  TempDir dir;
  write_file(dir / "model-00001-of-00002.safetensors",
             SafetensorsBuilder().add_f32("a", {1}, {1}).add_f32("b", {1}, {2}).build());
  write_file(dir / "model-00002-of-00002.safetensors",
             SafetensorsBuilder().add_f32("c", {2}, {3, 4}).build());
  write_file(dir / "model.safetensors.index.json",
             R"({"metadata":{"total_size":16},"weight_map":{"a":"model-00001-of-00002.safetensors",)"
             R"("b":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}})");
  SafetensorsCheckpoint checkpoint = open_safetensors_checkpoint(dir.path());
  EXPECT_EQ(checkpoint.tensors.size(), 3u);
  EXPECT_EQ(checkpoint.owners.size(), 2u);
  float c1 = 0;
  std::memcpy(&c1, checkpoint.tensors.at("c").data + 4, 4);
  EXPECT_EQ(c1, 4.0f);
}

TEST(SafetensorsCheckpoint, BadIndex) {
  TempDir dir;
  write_file(dir / "s1.safetensors", SafetensorsBuilder().add_f32("a", {1}, {1}).build());
  write_file(dir / "model.safetensors.index.json",
             R"({"weight_map":{"a":"s1.safetensors","z":"s1.safetensors"}})");
  expect_error([&] { open_safetensors_checkpoint(dir.path()); },
               {"model.safetensors.index.json", "tensor 'z'", "does not contain it"});
  write_file(dir / "model.safetensors.index.json", R"({"weight_map":{"a":"../s1.safetensors"}})");
  expect_error([&] { open_safetensors_checkpoint(dir.path()); }, {"not a file name"});
  write_file(dir / "model.safetensors.index.json", R"({"weight_map":{"a":"missing.safetensors"}})");
  expect_error([&] { open_safetensors_checkpoint(dir.path()); }, {"missing.safetensors", "cannot open"});
  write_file(dir / "model.safetensors.index.json", R"({"metadata":{}})");
  expect_error([&] { open_safetensors_checkpoint(dir.path()); }, {"missing object 'weight_map'"});
  TempDir empty;
  expect_error([&] { open_safetensors_checkpoint(empty.path()); }, {"no model.safetensors"});
}

}  // namespace
}  // namespace xpusim::model
