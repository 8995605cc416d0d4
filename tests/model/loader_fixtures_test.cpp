// Files written by the reference Python packages (tools/make_loader_fixtures.py: safetensors 0.8.0, gguf
// 0.19.0) read by our loaders: checks the readers against the real formats rather than against our own test
// writers.
#include <gtest/gtest.h>

#include <cstring>

#include "model/checkpoint.h"
#include "model/gguf.h"
#include "model/safetensors.h"

namespace xpusim::model {
namespace {

const std::filesystem::path kData = std::filesystem::path(XPUSIM_TEST_DATA) / "loaders";

TEST(LoaderFixtures, SafetensorsFromThePythonPackage) {
  const SafetensorsFile file = open_safetensors(kData / "all_dtypes.safetensors");
  EXPECT_EQ(file.metadata.at("format"), "pt");
  std::map<std::string, const TensorView*> by_name;
  for (const TensorView& view : file.tensors) by_name[view.name] = &view;
  const std::map<std::string, std::string> expected_dtype = {
      {"f64", "F64"},         {"f32", "F32"},         {"f16", "F16"},  {"bf16", "BF16"}, {"i64", "I64"},
      {"i32", "I32"},         {"i16", "I16"},         {"i8", "I8"},    {"u8", "U8"},     {"bool", "BOOL"},
      {"f8_e4m3", "F8_E4M3"}, {"f8_e5m2", "F8_E5M2"}, {"u16", "U16"},  {"u32", "U32"},   {"u64", "U64"},
      {"c64", "C64"},         {"scalar", "F32"},      {"empty", "F32"}};
  for (const auto& [name, dtype] : expected_dtype) {
    ASSERT_TRUE(by_name.count(name)) << name;
    EXPECT_EQ(dtype_name(by_name[name]->dtype), dtype) << name;
  }
  if (by_name.count("float8_e8m0fnu")) {
    EXPECT_EQ(by_name["float8_e8m0fnu"]->dtype, DType::F8_E8M0);
  }
  EXPECT_EQ(by_name["f32"]->shape, (std::vector<int64_t>{2, 4}));
  EXPECT_TRUE(by_name["scalar"]->shape.empty());
  EXPECT_EQ(by_name["empty"]->shape, (std::vector<int64_t>{0, 3}));
  float f32[8];
  std::memcpy(f32, by_name["f32"]->data, sizeof(f32));
  EXPECT_EQ(f32[0], -3.0f);
  EXPECT_EQ(f32[7], 4.0f);
  uint16_t bf16 = 0;
  std::memcpy(&bf16, by_name["bf16"]->data + 14, 2);
  EXPECT_EQ(bf16, 0x4080);  // 4.0 in bf16
}

TEST(LoaderFixtures, GgufFromThePythonPackage) {
  const GgufFile file = GgufFile::open(kData / "tiny_llama.gguf");
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.get_int("test.u8"), 200);
  EXPECT_EQ(file.get_int("test.i8"), -3);
  EXPECT_EQ(file.get_int("test.u16"), 65535);
  EXPECT_EQ(file.get_int("test.i16"), -300);
  EXPECT_EQ(file.get_int("test.u32"), 4000000000);
  EXPECT_EQ(file.get_int("test.i32"), -5);
  EXPECT_EQ(file.get_float("test.f32"), 0.5);
  EXPECT_EQ(file.get_int("test.u64"), int64_t{1} << 40);
  EXPECT_EQ(file.get_int("test.i64"), -7);
  EXPECT_EQ(file.get_float("test.f64"), 2.25);
  EXPECT_TRUE(file.get_bool("test.bool"));
  EXPECT_EQ(file.get_string("test.string"), "héllo");
  const GgufValue* nested = file.find("test.nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->arrays.size(), 2u);
  EXPECT_EQ(nested->arrays[0].count, 2u);
  EXPECT_EQ(nested->arrays[1].count, 1u);

  const GgufCheckpoint model = load_gguf_checkpoint(kData / "tiny_llama.gguf");
  EXPECT_EQ(model.config.family, Family::LLAMA);
  EXPECT_EQ(model.config.head_dim, 8);
  EXPECT_EQ(model.config.n_kv_heads, 2);
  EXPECT_EQ(model.config.vocab_size, 16);
  EXPECT_TRUE(model.config.tied_embeddings);
  EXPECT_EQ(model.weights.get("token_embd.weight", {16, 32}).dtype, DType::Q8_0);
  EXPECT_EQ(model.weights.get("blk.0.attn_k.weight", {16, 32}).dtype, DType::F16);
  EXPECT_EQ(model.weights.get("blk.0.ffn_down.weight", {32, 64}).dtype, DType::F16);
  EXPECT_EQ(model.tokenizer.tokens.size(), 16u);
  EXPECT_EQ(model.tokenizer.merges, (std::vector<std::string>{"t o", "to k"}));
  EXPECT_EQ(model.tokenizer.chat_template, "{{ bos_token }}");
  EXPECT_EQ(model.tokenizer.bos_token_id, 1);
}

}  // namespace
}  // namespace xpusim::model
