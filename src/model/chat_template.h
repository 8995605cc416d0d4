// Chat templates: the exact text the instruct families' Jinja templates produce for a list of messages,
// written as C++ (no Jinja engine). Golden strings come from transformers' apply_chat_template
// (tests/data/tokenizers/chat_templates.json, tools/make_tokenizer_goldens.py).
// Families: CHATML (plain <|im_start|>role\ncontent<|im_end|>\n), SMOLLM2 (ChatML + default system message),
// QWEN3 (ChatML + think blocks, tool role, enable_thinking), LLAMA3 (Llama 3.1/3.2 with the Cutting Knowledge
// system block), GEMMA3 (<start_of_turn>, no system role, alternating turns).
// Non-goals: tool definitions / tool calls in messages, multimodal content, arbitrary Jinja.
// HOWTO add a family: one enum value + name in chat_template.cpp's table, one render function there, a
// detection rule in detect_chat_template(), and goldens for it in the tools script.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xpusim::model {

enum class ChatTemplateFamily { NONE, CHATML, SMOLLM2, QWEN3, LLAMA3, GEMMA3 };

std::string_view chat_template_family_name(ChatTemplateFamily family);

struct ChatMessage {
  std::string role;  // "system", "user", "assistant" ("tool" for QWEN3)
  std::string content;
};

struct ChatOptions {
  bool add_generation_prompt = true;
  std::optional<bool> enable_thinking;  // QWEN3: false appends an empty <think> block to the prompt
  std::string date_string =
      "26 Jul 2024";      // LLAMA3 "Today Date" (the template's own fallback; deterministic)
  std::string bos_token;  // LLAMA3 / GEMMA3 start with it (text form, e.g. "<bos>")
  // When set, receives the [begin, end) byte range of every piece of message content in the rendered text,
  // so that the caller can encode that text without special-token parsing (a user cannot forge roles).
  std::vector<std::pair<size_t, size_t>>* content_spans = nullptr;
};

// Renders the conversation. Fails (xpusim::Error) on roles the family does not accept.
std::string render_chat(ChatTemplateFamily family, std::span<const ChatMessage> messages,
                        const ChatOptions& options);

// Picks the family from the Jinja text (if any), else from which special tokens exist.
ChatTemplateFamily detect_chat_template(std::string_view template_text,
                                        const std::function<bool(std::string_view)>& has_token);

}  // namespace xpusim::model
