// Tokenizer vs Hugging Face `tokenizers` goldens (tests/data/tokenizers/<family>/golden.json): exact ids and
// exact decoded text for every corpus case. smollm2/llama3/qwen3 use real vocabularies (reduced to the
// corpus), gpt2/gemma3/mixtral are structure-faithful stand-ins; see tools/make_tokenizer_goldens.py.
#include <gtest/gtest.h>

#include "core/error.h"
#include "model/tokenizer.h"
#include "tokenizer_test_util.h"

namespace xpusim::model {
namespace {

using testing::printable;
using testing::read_json;
using testing::tokenizer_data_dir;

std::string describe_ids(const std::vector<int32_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < 40; ++i) {
    if (i > 0) out += ' ';
    out += std::to_string(ids[i]);
  }
  return ids.size() > 40 ? out + " ..." : out;
}

// Checks every golden case; reports the first mismatch of each kind with the case text.
void expect_matches_golden(const Tokenizer& tokenizer, const nlohmann::json& golden) {
  size_t checked = 0;
  for (const auto& c : golden["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> got = tokenizer.encode(text);
    ASSERT_EQ(got, want) << "first mismatching case #" << checked << ": \"" << printable(text)
                         << "\"\n  got:  " << describe_ids(got) << "\n  want: " << describe_ids(want);
    ASSERT_EQ(tokenizer.decode(want), c["decoded"].get<std::string>())
        << "decode, case #" << checked << ": \"" << printable(text) << "\"";
    ASSERT_EQ(tokenizer.decode(want, true), c["decoded_skip_special"].get<std::string>())
        << "decode(skip_special_tokens), case #" << checked << ": \"" << printable(text) << "\"";
    ++checked;
  }
  EXPECT_GT(checked, 50u);
}

class TokenizerGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerGolden, EncodeAndDecodeMatchHuggingFace) {
  const std::string dir = tokenizer_data_dir() + "/" + GetParam();
  auto tokenizer = Tokenizer::from_hf_json(dir + "/tokenizer.json");
  expect_matches_golden(*tokenizer, read_json(dir + "/golden.json"));
}

TEST_P(TokenizerGolden, StreamDecodingConcatenatesToFullDecode) {
  const std::string dir = tokenizer_data_dir() + "/" + GetParam();
  auto tokenizer = Tokenizer::from_hf_json(dir + "/tokenizer.json");
  const auto golden = read_json(dir + "/golden.json");
  for (const auto& c : golden["cases"]) {
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    for (bool skip : {false, true}) {
      StreamDecoder stream(*tokenizer, skip);
      std::string streamed;
      for (int32_t id : ids) {
        const std::string piece = stream.step(id);
        EXPECT_FALSE(piece.ends_with("\xEF\xBF\xBD")) << "emitted an incomplete character";
        streamed += piece;
      }
      streamed += stream.flush();
      ASSERT_EQ(streamed, tokenizer->decode(ids, skip)) << printable(c["text"].get<std::string>());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, TokenizerGolden,
                         ::testing::Values("smollm2", "llama3", "qwen3", "gpt2", "gemma3", "mixtral"));

TEST(Tokenizer, SpecialIdsAndFamilies) {
  const std::string dir = tokenizer_data_dir();
  auto smollm = Tokenizer::from_hf_json(dir + "/smollm2/tokenizer.json");
  EXPECT_EQ(smollm->token_to_id("<|im_start|>"), 1);
  EXPECT_EQ(smollm->bos_id(), 1);
  EXPECT_EQ(smollm->eos_id(), 2);
  EXPECT_TRUE(smollm->is_special(0));
  EXPECT_FALSE(smollm->is_special(100));
  EXPECT_EQ(smollm->chat_template_family(), ChatTemplateFamily::SMOLLM2);

  auto llama = Tokenizer::from_hf_json(dir + "/llama3/tokenizer.json");
  EXPECT_EQ(llama->bos_id(), 128000);
  EXPECT_EQ(llama->eos_id(), 128009);
  EXPECT_EQ(llama->chat_template_family(), ChatTemplateFamily::LLAMA3);
  EXPECT_EQ(llama->vocab_size(), 128256);
  const auto stops = llama->stop_token_ids();
  EXPECT_NE(std::find(stops.begin(), stops.end(), 128001), stops.end());
  EXPECT_EQ(llama->token_to_text(128006), "<|start_header_id|>");
  EXPECT_EQ(llama->encode("Hi", false), std::vector<int32_t>{13347});
  EXPECT_EQ(llama->encode("Hi").front(), 128000);

  auto qwen = Tokenizer::from_hf_json(dir + "/qwen3/tokenizer.json");
  EXPECT_EQ(qwen->chat_template_family(), ChatTemplateFamily::QWEN3);
  EXPECT_EQ(qwen->token_to_id("<think>"), 151667);
  EXPECT_FALSE(qwen->is_special(151667));  // <think> is an added but not a special token in Qwen3
  EXPECT_TRUE(qwen->is_special(151644));
  EXPECT_EQ(qwen->bos_id(), -1);

  auto gemma = Tokenizer::from_hf_json(dir + "/gemma3/tokenizer.json");
  EXPECT_EQ(gemma->chat_template_family(), ChatTemplateFamily::GEMMA3);
  EXPECT_EQ(gemma->bos_id(), 2);
  auto gpt2 = Tokenizer::from_hf_json(dir + "/gpt2/tokenizer.json");
  EXPECT_EQ(gpt2->chat_template_family(), ChatTemplateFamily::NONE);
  EXPECT_EQ(gpt2->eos_id(), gpt2->token_to_id("<|endoftext|>"));
}

TEST(Tokenizer, InvalidUtf8IsReplacedLikeLossyDecoding) {
  auto tokenizer = Tokenizer::from_hf_json(tokenizer_data_dir() + "/smollm2/tokenizer.json");
  EXPECT_EQ(tokenizer->encode("a\xFF"
                              "b",
                              false),
            tokenizer->encode("a\xEF\xBF\xBD"
                              "b",
                              false));
  const std::vector<int32_t> none;
  EXPECT_EQ(tokenizer->decode(none), "");
  const std::vector<int32_t> out_of_range = {-5, 1 << 30};
  EXPECT_EQ(tokenizer->decode(out_of_range), "");
}

TEST(Tokenizer, StreamDecoderHoldsBackSplitCharacters) {
  auto tokenizer = Tokenizer::from_hf_json(tokenizer_data_dir() + "/gemma3/tokenizer.json");
  // A character that the stand-in vocabulary only has as byte-fallback tokens: 3 bytes, 3 ids.
  const std::vector<int32_t> ids = tokenizer->encode("ꙮ", false);
  ASSERT_EQ(ids.size(), 3u);
  StreamDecoder stream(*tokenizer);
  EXPECT_EQ(stream.step(ids[0]), "");
  EXPECT_EQ(stream.step(ids[1]), "");
  EXPECT_EQ(stream.step(ids[2]), "ꙮ");
  EXPECT_EQ(stream.flush(), "");
}

}  // namespace
}  // namespace xpusim::model
