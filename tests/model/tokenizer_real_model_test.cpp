// The real default model's tokenizer, read from its GGUF (tokenizer.ggml.*, pre = "smollm"), must tokenize
// the corpus exactly like HF `tokenizers` with SmolLM2's tokenizer.json (smollm2 goldens), and its embedded
// chat template must be detected as SmolLM2's. Skipped when the GGUF is not on this machine.
#include <gtest/gtest.h>

#include <cstdlib>

#include "model/gguf.h"
#include "model/gguf_model.h"
#include "model/tokenizer.h"
#include "tokenizer_test_util.h"

namespace xpusim::model {
namespace {

std::filesystem::path find_smollm2_gguf() {
  const std::string name = "SmolLM2-135M-Instruct.Q4_1.gguf";
  std::vector<std::filesystem::path> candidates;
  if (const char* dir = std::getenv("XPUSIM_MODEL_DIR"); dir && *dir)
    candidates = {std::filesystem::path(dir) / name, std::filesystem::path(dir) / "smollm2-135m" / name};
  if (const char* home = std::getenv("HOME"); home && *home)
    candidates.push_back(std::filesystem::path(home) / ".cache/xpusim/models/smollm2-135m" / name);
  for (const auto& path : candidates)
    if (std::filesystem::exists(path)) return path;
  return {};
}

TEST(TokenizerRealModel, SmolLM2GgufMatchesHuggingFace) {
  const auto path = find_smollm2_gguf();
  if (path.empty())
    GTEST_SKIP() << "SmolLM2-135M-Instruct.Q4_1.gguf not found (XPUSIM_MODEL_DIR or ~/.cache/xpusim)";
  const GgufTokenizerData data = tokenizer_from_gguf(GgufFile::open(path));
  auto tokenizer = Tokenizer::from_gguf_data(data);
  EXPECT_EQ(tokenizer->vocab_size(), 49152);
  EXPECT_EQ(tokenizer->chat_template_family(), ChatTemplateFamily::SMOLLM2);
  const auto golden = testing::read_json(testing::tokenizer_data_dir() + "/smollm2/golden.json");
  size_t index = 0;
  for (const auto& c : golden["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    ASSERT_EQ(tokenizer->encode(text), want)
        << "case #" << index << ": \"" << testing::printable(text) << "\"";
    ASSERT_EQ(tokenizer->decode(want), c["decoded"].get<std::string>()) << "case #" << index;
    ++index;
  }
  const std::vector<ChatMessage> chat = {{"user", "What is the capital of France?"}};
  const std::string prompt = tokenizer->apply_chat_template(chat);
  EXPECT_EQ(
      prompt,
      "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
      "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n");
  const auto stops = tokenizer->stop_token_ids();
  EXPECT_NE(std::find(stops.begin(), stops.end(), 2), stops.end());  // <|im_end|>
}

}  // namespace
}  // namespace xpusim::model
