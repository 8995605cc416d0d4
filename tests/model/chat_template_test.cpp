// Chat templates vs transformers' apply_chat_template goldens (tests/data/tokenizers/chat_templates.json):
// exact rendered text, and exact ids of that text through the family's tokenizer.
#include <gtest/gtest.h>

#include "core/error.h"
#include "model/chat_template.h"
#include "model/tokenizer.h"
#include "tokenizer_test_util.h"

namespace xpusim::model {
namespace {

using testing::printable;
using testing::read_json;
using testing::tokenizer_data_dir;

TEST(ChatTemplate, MatchesTransformersGoldens) {
  const auto golden = read_json(tokenizer_data_dir() + "/chat_templates.json");
  std::map<std::string, std::unique_ptr<Tokenizer>> tokenizers;
  size_t checked = 0;
  for (const auto& c : golden["cases"]) {
    const std::string family = c["family"].get<std::string>();
    auto& tokenizer = tokenizers[family];
    if (!tokenizer)
      tokenizer = Tokenizer::from_hf_json(tokenizer_data_dir() + "/" + family + "/tokenizer.json");
    std::vector<ChatMessage> messages;
    for (const auto& m : c["messages"])
      messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    ChatOptions options;
    options.add_generation_prompt = c["add_generation_prompt"].get<bool>();
    if (!c["enable_thinking"].is_null()) options.enable_thinking = c["enable_thinking"].get<bool>();
    const std::string where = family + " case #" + std::to_string(checked);
    if (c.contains("error")) {
      EXPECT_THROW(tokenizer->apply_chat_template(messages, options), Error) << where;
      continue;
    }
    const std::string text = tokenizer->apply_chat_template(messages, options);
    ASSERT_EQ(text, c["text"].get<std::string>()) << where << "\n  got: " << printable(text, 400);
    ASSERT_EQ(tokenizer->encode(text, false), c["ids"].get<std::vector<int32_t>>()) << where;
    ++checked;
  }
  EXPECT_GE(checked, 50u);
}

TEST(ChatTemplate, GemmaRequiresAlternatingRoles) {
  const std::vector<ChatMessage> messages = {{"user", "a"}, {"user", "b"}};
  EXPECT_THROW(render_chat(ChatTemplateFamily::GEMMA3, messages, {}), Error);
  const std::vector<ChatMessage> starts_with_model = {{"assistant", "a"}};
  EXPECT_THROW(render_chat(ChatTemplateFamily::GEMMA3, starts_with_model, {}), Error);
}

TEST(ChatTemplate, UnknownRoleAndNoTemplateAreErrors) {
  const std::vector<ChatMessage> messages = {{"narrator", "x"}};
  EXPECT_THROW(render_chat(ChatTemplateFamily::CHATML, messages, {}), Error);
  const std::vector<ChatMessage> user = {{"user", "x"}};
  EXPECT_THROW(render_chat(ChatTemplateFamily::NONE, user, {}), Error);
}

TEST(ChatTemplate, DetectionFromTemplateTextAndTokens) {
  auto none = [](std::string_view) { return false; };
  EXPECT_EQ(detect_chat_template("{{ '<|start_header_id|>' }}", none), ChatTemplateFamily::LLAMA3);
  EXPECT_EQ(detect_chat_template("<start_of_turn>", none), ChatTemplateFamily::GEMMA3);
  EXPECT_EQ(detect_chat_template("<|im_start|> enable_thinking", none), ChatTemplateFamily::QWEN3);
  EXPECT_EQ(detect_chat_template("<|im_start|> named SmolLM", none), ChatTemplateFamily::SMOLLM2);
  EXPECT_EQ(detect_chat_template("<|im_start|>", none), ChatTemplateFamily::CHATML);
  EXPECT_EQ(detect_chat_template("", none), ChatTemplateFamily::NONE);
  auto qwen_tokens = [](std::string_view t) { return t == "<|im_start|>" || t == "<think>"; };
  EXPECT_EQ(detect_chat_template("", qwen_tokens), ChatTemplateFamily::QWEN3);
  EXPECT_EQ(chat_template_family_name(ChatTemplateFamily::LLAMA3), "llama3");
}

}  // namespace
}  // namespace xpusim::model
