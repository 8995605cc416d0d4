// Malformed tokenizer.json / tokenizer_config.json: xpusim::Error naming the file and the field.
#include <gtest/gtest.h>

#include "core/error.h"
#include "model/tokenizer.h"
#include "tokenizer_test_util.h"

namespace xpusim::model {
namespace {

constexpr const char* kSource = "/models/x/tokenizer.json";

// A tiny valid byte-level BPE tokenizer.json; the tests break one field at a time.
nlohmann::json minimal_tokenizer() {
  return nlohmann::json::parse(R"({
    "added_tokens": [{"id": 5, "content": "<|end|>", "special": true}],
    "normalizer": null,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
    "decoder": {"type": "ByteLevel"},
    "post_processor": null,
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4}, "merges": ["a b", "Ġ ab"]}
  })");
}

void expect_error(const nlohmann::json& json, const std::vector<std::string>& needles,
                  const std::string& config = "") {
  try {
    Tokenizer::from_hf_json_text(json.dump(), kSource, config);
    FAIL() << "expected an error for " << json.dump();
  } catch (const Error& e) {
    for (const std::string& needle : needles)
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
          << "'" << needle << "' not in: " << e.what();
  }
}

TEST(TokenizerJson, MinimalTokenizerWorks) {
  auto tokenizer = Tokenizer::from_hf_json_text(minimal_tokenizer().dump(), kSource);
  EXPECT_EQ(tokenizer->encode("ab ab<|end|>"), (std::vector<int32_t>{2, 4, 5}));
  const std::vector<int32_t> ids = {2, 4, 5};
  EXPECT_EQ(tokenizer->decode(ids), "ab ab<|end|>");
  EXPECT_EQ(tokenizer->decode(ids, true), "ab ab");
  EXPECT_EQ(tokenizer->eos_id(), -1);
}

TEST(TokenizerJson, NotJson) { expect_error(nlohmann::json("x"), {kSource, "tokenizer must be an object"}); }

TEST(TokenizerJson, UnparsableText) {
  EXPECT_THROW(Tokenizer::from_hf_json_text("{\"model\": ", kSource), Error);
}

TEST(TokenizerJson, MissingFile) {
  try {
    Tokenizer::from_hf_json("/nonexistent/dir/tokenizer.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/tokenizer.json"), std::string::npos);
  }
}

TEST(TokenizerJson, MissingModel) {
  auto j = minimal_tokenizer();
  j.erase("model");
  expect_error(j, {kSource, "tokenizer.model is missing"});
}

TEST(TokenizerJson, UnsupportedModelType) {
  auto j = minimal_tokenizer();
  j["model"]["type"] = "Unigram";
  expect_error(j, {kSource, "model.type", "Unigram"});
}

TEST(TokenizerJson, MergeWithUnknownToken) {
  auto j = minimal_tokenizer();
  j["model"]["merges"].push_back("a zz");
  expect_error(j, {kSource, "model.merges[2]", "'zz' is not in model.vocab"});
}

TEST(TokenizerJson, MergeWithoutSeparator) {
  auto j = minimal_tokenizer();
  j["model"]["merges"].push_back("ab");
  expect_error(j, {kSource, "model.merges[2]"});
}

TEST(TokenizerJson, BadRegex) {
  auto j = minimal_tokenizer();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  expect_error(j, {kSource, "pre_tokenizer.pattern.Regex", "does not compile"});
}

TEST(TokenizerJson, WrongTypes) {
  auto j = minimal_tokenizer();
  j["model"]["vocab"]["a"] = "zero";
  expect_error(j, {kSource, "model.vocab.a"});
  j = minimal_tokenizer();
  j["model"]["vocab"] = nlohmann::json::array();
  expect_error(j, {kSource, "model.vocab must be an object"});
  j = minimal_tokenizer();
  j["added_tokens"][0]["special"] = "yes";
  expect_error(j, {kSource, "added_tokens[0].special", "true or false"});
  j = minimal_tokenizer();
  j["added_tokens"][0]["id"] = -3;
  expect_error(j, {kSource, "added_tokens[0].id", "out of range"});
  j = minimal_tokenizer();
  j["model"]["byte_fallback"] = 1;
  expect_error(j, {kSource, "model.byte_fallback"});
}

TEST(TokenizerJson, UnknownComponents) {
  auto j = minimal_tokenizer();
  j["normalizer"] = {{"type", "Lowercase"}};
  expect_error(j, {kSource, "normalizer.type", "Lowercase"});
  j = minimal_tokenizer();
  j["decoder"] = {{"type", "Sequence"}, {"decoders", {{{"type", "WordPiece"}}}}};
  expect_error(j, {kSource, "decoder.decoders[0].type", "WordPiece"});
  j = minimal_tokenizer();
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single", {{{"SpecialToken", {{"id", "<s>"}}}}}},
                         {"special_tokens", nlohmann::json::object()}};
  expect_error(j, {kSource, "post_processor.special_tokens.<s> is missing"});
  j = minimal_tokenizer();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Sideways"}};
  expect_error(j, {kSource, "pre_tokenizer.behavior", "Sideways"});
}

TEST(TokenizerJson, BadConfigNamesConfigFile) {
  expect_error(minimal_tokenizer(),
               {"/models/x/tokenizer_config.json", "tokenizer_config.eos_token", "<nope>"},
               R"({"eos_token": "<nope>"})");
  expect_error(minimal_tokenizer(), {"/models/x/tokenizer_config.json", "chat_template"},
               R"({"chat_template": 3})");
  auto ok = Tokenizer::from_hf_json_text(
      minimal_tokenizer().dump(), kSource,
      R"({"eos_token": {"content": "<|end|>"}, "chat_template": "<|im_start|>"})");
  EXPECT_EQ(ok->eos_id(), 5);
  EXPECT_EQ(ok->chat_template_family(), ChatTemplateFamily::CHATML);
}

}  // namespace
}  // namespace xpusim::model
