// GGUF container: every metadata type, typed getters, tensor infos, and bad input (truncation at every byte,
// hostile counts, unknown types, bad offsets).
#include "model/gguf.h"

#include <gtest/gtest.h>

#include "model/loader_test_util.h"

namespace xpusim::model {
namespace {

using testing::as_bytes;
using testing::expect_error;
using testing::GgufBuilder;

GgufFile parse(const std::string& image) { return GgufFile::parse(as_bytes(image), "t.gguf"); }

void expect_bad(const std::string& image, const std::vector<std::string>& parts) {
  std::vector<std::string> all = parts;
  all.push_back("t.gguf");
  expect_error([&] { parse(image); }, all);
}

std::string sample_file(uint32_t version = 3) {
  GgufBuilder b(version);
  b.kv("u8", 0, GgufBuilder::raw(uint8_t{200}))
      .kv("i8", 1, GgufBuilder::raw(int8_t{-3}))
      .kv("u16", 2, GgufBuilder::raw(uint16_t{65535}))
      .kv("i16", 3, GgufBuilder::raw(int16_t{-300}))
      .kv_u32("u32", 4000000000u)
      .kv_i32("i32", -5)
      .kv_f32("f32", 0.5f)
      .kv_bool("bool", true)
      .kv_string("str", "héllo")
      .kv_u64("u64", 1ull << 40)
      .kv("u64_huge", 10, GgufBuilder::raw(~uint64_t{0}))
      .kv("i64", 11, GgufBuilder::raw(int64_t{-7}))
      .kv("f64", 12, GgufBuilder::raw(2.25))
      .kv_i32s("ints", {1, -2, 3})
      .kv_f32s("floats", {1.5f, -2.5f})
      .kv_strings("strings", {"a", "", "c d"})
      // array of 2 arrays of u8: [[1, 2], [3]]
      .kv("nested", 9,
          GgufBuilder::raw(uint32_t{9}) + GgufBuilder::raw(uint64_t{2}) + GgufBuilder::raw(uint32_t{0}) +
              GgufBuilder::raw(uint64_t{2}) + "\x01\x02" + GgufBuilder::raw(uint32_t{0}) +
              GgufBuilder::raw(uint64_t{1}) + "\x03")
      .tensor_f32("w", {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8})
      .tensor("q", 8, {32}, std::string(34, '\x01'));  // one Q8_0 block
  return b.finish();
}

TEST(Gguf, ReadsEveryMetadataTypeAndTensors) {
  const std::string image = sample_file();
  const GgufFile file = parse(image);
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.get_int("u8"), 200);
  EXPECT_EQ(file.get_int("i8"), -3);
  EXPECT_EQ(file.get_int("u16"), 65535);
  EXPECT_EQ(file.get_int("i16"), -300);
  EXPECT_EQ(file.get_int("u32"), 4000000000);
  EXPECT_EQ(file.get_int("i32"), -5);
  EXPECT_EQ(file.get_float("f32"), 0.5);
  EXPECT_TRUE(file.get_bool("bool"));
  EXPECT_EQ(file.get_string("str"), "héllo");
  EXPECT_EQ(file.get_int("u64"), int64_t{1} << 40);
  EXPECT_EQ(file.get_int("i64"), -7);
  EXPECT_EQ(file.get_float("f64"), 2.25);
  EXPECT_EQ(file.get_float("i32"), -5.0);  // integers read as numbers too
  EXPECT_EQ(file.get_int_array("ints"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(file.get_float_array("floats"), (std::vector<float>{1.5f, -2.5f}));
  EXPECT_EQ(file.get_string_array("strings"), (std::vector<std::string>{"a", "", "c d"}));
  const GgufValue* nested = file.find("nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->arrays.size(), 2u);
  EXPECT_EQ(nested->arrays[0].count, 2u);
  EXPECT_EQ(static_cast<int>(nested->arrays[1].scalar_elements[0]), 3);
  EXPECT_FALSE(file.find_int("absent").has_value());

  ASSERT_EQ(file.tensors().size(), 2u);
  const GgufTensorInfo* w = file.find_tensor("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->ne, (std::vector<int64_t>{4, 2}));
  const TensorView view = w->view();
  EXPECT_EQ(view.shape, (std::vector<int64_t>{2, 4}));  // outermost first
  float last = 0;
  std::memcpy(&last, view.data + 28, 4);
  EXPECT_EQ(last, 8.0f);
  EXPECT_EQ(file.find_tensor("q")->dtype, DType::Q8_0);
  EXPECT_EQ(file.find_tensor("q")->bytes, 34u);
  EXPECT_EQ((file.find_tensor("q")->data - reinterpret_cast<const std::byte*>(image.data())) % 32, 0);
}

TEST(Gguf, TypedGettersNameTheKey) {
  const GgufFile file = parse(sample_file());
  expect_error([&] { file.get_int("missing.key"); }, {"t.gguf", "missing metadata 'missing.key'"});
  expect_error([&] { file.get_string("u32"); }, {"'u32' is u32, expected string"});
  expect_error([&] { file.get_int("str"); }, {"'str' is string, expected an integer"});
  expect_error([&] { file.get_int("u64_huge"); }, {"'u64_huge'", "fits int64"});
  expect_error([&] { file.get_bool("i8"); }, {"'i8' is i8, expected bool"});
  expect_error([&] { file.get_string_array("ints"); }, {"'ints' is an array of i32, expected strings"});
  expect_error([&] { file.get_int_array("str"); }, {"'str' is string, expected an array"});
  expect_error([&] { file.get_float_array("strings"); }, {"expected numbers"});
}

TEST(Gguf, Version2ReadsAndOtherVersionsAreRefused) {
  EXPECT_EQ(parse(sample_file(2)).version(), 2u);
  expect_bad(sample_file(1), {"version 1, this build reads versions 2..3"});
  expect_bad(sample_file(4), {"version 4, this build reads versions 2..3"});
  std::string bad_magic = sample_file();
  bad_magic[0] = 'X';
  expect_bad(bad_magic, {"not a GGUF file"});
}

TEST(GgufBadInput, EveryTruncationIsACleanError) {
  const std::string image = sample_file();
  // Every prefix up to the end of the last tensor's data must fail cleanly (the full file parses).
  for (size_t length = 0; length < image.size(); ++length) {
    try {
      parse(image.substr(0, length));
      ADD_FAILURE() << "prefix of " << length << " bytes parsed";
    } catch (const xpusim::Error& error) {
      EXPECT_NE(std::string(error.what()).find("t.gguf"), std::string::npos);
    }
  }
}

std::string header(uint64_t tensors, uint64_t kvs) {
  return GgufBuilder::raw(uint32_t{0x46554747}) + GgufBuilder::raw(uint32_t{3}) + GgufBuilder::raw(tensors) +
         GgufBuilder::raw(kvs);
}

TEST(GgufBadInput, HostileCountsAreRejectedBeforeAllocating) {
  expect_bad(header(0, uint64_t{1} << 60), {"metadata count", "cannot fit"});
  expect_bad(header(uint64_t{1} << 60, 0), {"tensor count", "cannot fit"});
  const std::string big_array = header(0, 1) + GgufBuilder::str("k") + GgufBuilder::raw(uint32_t{9}) +
                                GgufBuilder::raw(uint32_t{0}) + GgufBuilder::raw(uint64_t{1} << 62);
  expect_bad(big_array, {"'k' claims 4611686018427387904 array elements"});
  const std::string big_string = header(0, 1) + GgufBuilder::raw(~uint64_t{0}) + std::string(16, 'k');
  expect_bad(big_string, {"truncated file", "metadata key"});
  const std::string bad_type = header(0, 1) + GgufBuilder::str("k") + GgufBuilder::raw(uint32_t{13});
  expect_bad(bad_type, {"'k' has unknown value type 13"});
  std::string deep = header(0, 1) + GgufBuilder::str("deep") + GgufBuilder::raw(uint32_t{9});
  for (int i = 0; i < 20; ++i) deep += GgufBuilder::raw(uint32_t{9}) + GgufBuilder::raw(uint64_t{1});
  deep += std::string(64, '\0');
  expect_bad(deep, {"'deep' nests arrays deeper than"});
}

TEST(GgufBadInput, TensorInfoProblems) {
  expect_bad(GgufBuilder().tensor("w", 99, {4}, std::string(16, '\0')).finish(),
             {"tensor 'w' has ggml type id 99"});
  expect_bad(GgufBuilder().tensor("w", 16, {256}, std::string(66, '\0')).finish(),  // IQ2_XXS: not supported
             {"tensor 'w' has ggml type id 16"});
  expect_bad(GgufBuilder().tensor_at("w", 0, {4}, 4, std::string(20, '\0')).finish(),
             {"'w' offset 4 is not a multiple of the alignment 32"});
  expect_bad(GgufBuilder().tensor_at("w", 0, {4}, 64, std::string(16, '\0')).finish(),
             {"'w'", "runs past the end"});
  expect_bad(GgufBuilder().tensor("w", 0, {4}, std::string(12, '\0')).finish(), {"'w'", "runs past the end"});
  expect_bad(GgufBuilder().tensor("w", 0, {uint64_t{1} << 32, uint64_t{1} << 32}, "").finish(),
             {"'w' has too many elements"});
  expect_bad(GgufBuilder().tensor("w", 0, {1, 1, 1, 1, 1}, std::string(4, '\0')).finish(),
             {"'w' has 5 dimensions"});
  expect_bad(GgufBuilder().tensor("w", 2, {16}, std::string(18, '\0')).finish(),
             {"'w': row of 16 elements is not a whole number of Q4_0 blocks"});
  expect_bad(GgufBuilder().tensor_f32("w", {1}, {1}).tensor_f32("w", {1}, {2}).finish(),
             {"duplicate tensor name 'w'"});
  expect_bad(GgufBuilder().kv_u32("k", 1).kv_u32("k", 2).finish(), {"duplicate metadata key 'k'"});
  expect_bad(GgufBuilder().kv_u32("general.alignment", 24).finish(), {"general.alignment is 24"});
}

TEST(Gguf, CustomAlignment) {
  const std::string image = GgufBuilder(3, 64)
                                .kv_u32("general.alignment", 64)
                                .tensor_f32("a", {1}, {1})
                                .tensor_f32("b", {1}, {2})
                                .finish();
  const GgufFile file = parse(image);
  EXPECT_EQ(file.alignment(), 64u);
  EXPECT_EQ(file.find_tensor("b")->offset, 64u);
  float b = 0;
  std::memcpy(&b, file.find_tensor("b")->data, 4);
  EXPECT_EQ(b, 2.0f);
}

}  // namespace
}  // namespace xpusim::model
