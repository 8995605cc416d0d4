// Tokenizers built from GGUF-style metadata (GgufTokenizerData) must tokenize exactly like the HF goldens:
// "gpt2" models via tokenizer.ggml.pre (smollm, llama-bpe, qwen2, gpt-2) and "llama" SPM models by score.
#include <gtest/gtest.h>

#include "core/error.h"
#include "model/tokenizer.h"
#include "tokenizer_test_util.h"

namespace xpusim::model {
namespace {

using testing::gguf_data_from_hf_json;
using testing::printable;
using testing::read_json;
using testing::tokenizer_data_dir;

void expect_ids_match(const Tokenizer& tokenizer, const std::string& family) {
  const auto golden = read_json(tokenizer_data_dir() + "/" + family + "/golden.json");
  size_t index = 0;
  for (const auto& c : golden["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    ASSERT_EQ(tokenizer.encode(text), want)
        << family << " case #" << index << ": \"" << printable(text) << "\"";
    ASSERT_EQ(tokenizer.decode(want), c["decoded"].get<std::string>()) << family << " case #" << index;
    ++index;
  }
}

struct ByteLevelCase {
  const char* family;
  const char* pre;
  bool add_bos;
};

class GgufByteLevel : public ::testing::TestWithParam<ByteLevelCase> {};

TEST_P(GgufByteLevel, MatchesHuggingFace) {
  const ByteLevelCase& p = GetParam();
  auto tokenizer = Tokenizer::from_gguf_data(gguf_data_from_hf_json(p.family, p.pre, p.add_bos));
  expect_ids_match(*tokenizer, p.family);
}

INSTANTIATE_TEST_SUITE_P(Pre, GgufByteLevel,
                         ::testing::Values(ByteLevelCase{"smollm2", "smollm", false},
                                           ByteLevelCase{"llama3", "llama-bpe", true},
                                           ByteLevelCase{"qwen3", "qwen2", false},
                                           ByteLevelCase{"gpt2", "gpt-2", false}),
                         [](const auto& param_info) { return std::string(param_info.param.family); });

GgufTokenizerData spm_data(const std::string& family) {
  const auto j = read_json(tokenizer_data_dir() + "/" + family + "/gguf_spm.json");
  GgufTokenizerData data;
  data.source = family + "/gguf_spm.json";
  data.model = j["model"].get<std::string>();
  data.tokens = j["tokens"].get<std::vector<std::string>>();
  data.scores = j["scores"].get<std::vector<float>>();
  data.token_types = j["token_types"].get<std::vector<int32_t>>();
  data.bos_token_id = j["bos_token_id"].get<int64_t>();
  data.eos_token_id = j["eos_token_id"].get<int64_t>();
  data.unknown_token_id = j["unknown_token_id"].get<int64_t>();
  data.add_bos_token = j["add_bos_token"].get<bool>();
  data.add_space_prefix = j["add_space_prefix"].get<bool>();
  return data;
}

TEST(GgufSpm, MixtralStyleMatchesHuggingFace) {
  expect_ids_match(*Tokenizer::from_gguf_data(spm_data("mixtral")), "mixtral");
}

TEST(GgufSpm, GemmaStyleMatchesHuggingFace) {
  expect_ids_match(*Tokenizer::from_gguf_data(spm_data("gemma3")), "gemma3");
}

TEST(GgufSpm, ChatTemplateFamilyFromMetadata) {
  GgufTokenizerData data = gguf_data_from_hf_json("smollm2", "smollm", false);
  data.chat_template = "{% for message in messages %}<|im_start|>... SmolLM ...";
  EXPECT_EQ(Tokenizer::from_gguf_data(data)->chat_template_family(), ChatTemplateFamily::SMOLLM2);
}

TEST(GgufErrors, BadMetadataNamesTheKey) {
  auto expect_error = [](const GgufTokenizerData& data, const std::string& needle) {
    try {
      Tokenizer::from_gguf_data(data);
      FAIL() << "expected an error mentioning " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  GgufTokenizerData data = gguf_data_from_hf_json("gpt2", "gpt-2", false);
  GgufTokenizerData bad = data;
  bad.pre = "no-such-pre";
  expect_error(bad, "tokenizer.ggml.pre");
  bad = data;
  bad.model = "bert";
  expect_error(bad, "tokenizer.ggml.model");
  bad = data;
  bad.merges.push_back("notatoken alsonot");
  expect_error(bad, "tokenizer.ggml.merges");
  bad = data;
  bad.merges.push_back("nospace");
  expect_error(bad, "tokenizer.ggml.merges");
  bad = data;
  bad.eos_token_id = 1 << 30;
  expect_error(bad, "eos_token_id");
  bad = data;
  bad.token_types.pop_back();
  expect_error(bad, "token_type");
  bad = data;
  bad.tokens.clear();
  bad.token_types.clear();
  expect_error(bad, "tokenizer.ggml.tokens");
  GgufTokenizerData spm = spm_data("mixtral");
  spm.scores.pop_back();
  expect_error(spm, "tokenizer.ggml.scores");
}

}  // namespace
}  // namespace xpusim::model
