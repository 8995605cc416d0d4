// Chat templates written out in C++; each function mirrors its Jinja template line by line
// (tests/data/tokenizers/templates/*.jinja and the SmolLM2 GGUF's tokenizer.chat_template).
#include "model/chat_template.h"

#include <array>
#include <utility>

#include "core/error.h"
#include "model/unicode.h"

namespace xpusim::model {
namespace {

constexpr std::array<std::pair<ChatTemplateFamily, std::string_view>, 6> kFamilyNames = {{
    {ChatTemplateFamily::NONE, "none"},
    {ChatTemplateFamily::CHATML, "chatml"},
    {ChatTemplateFamily::SMOLLM2, "smollm2"},
    {ChatTemplateFamily::QWEN3, "qwen3"},
    {ChatTemplateFamily::LLAMA3, "llama3"},
    {ChatTemplateFamily::GEMMA3, "gemma3"},
}};

// Python str.strip()/lstrip()/rstrip() with no argument (Jinja's |trim).
std::string python_strip(std::string_view text, bool left = true, bool right = true) {
  size_t begin = 0, end = text.size();
  while (left && begin < end) {
    size_t len = 0;
    if (!is_python_space(utf8_decode_at(text, begin, &len))) break;
    begin += len;
  }
  while (right && end > begin) {
    size_t start = end - 1;
    while (start > begin && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
    size_t len = 0;
    if (!is_python_space(utf8_decode_at(text, start, &len))) break;
    end = start;
  }
  return std::string(text.substr(begin, end - begin));
}

// Python str.strip('\n') and friends.
std::string strip_newlines(std::string_view text, bool left, bool right) {
  size_t begin = 0, end = text.size();
  while (left && begin < end && text[begin] == '\n') ++begin;
  while (right && end > begin && text[end - 1] == '\n') --end;
  return std::string(text.substr(begin, end - begin));
}

void check_role(std::string_view family, const ChatMessage& m,
                std::initializer_list<std::string_view> allowed) {
  for (std::string_view role : allowed)
    if (m.role == role) return;
  fail("chat template {}: unsupported message role '{}'", family, m.role);
}

// Appends message content, recording where it lies when the caller asked (ChatOptions::content_spans).
void append_content(std::string& out, std::string_view content, const ChatOptions& options) {
  if (options.content_spans && !content.empty())
    options.content_spans->emplace_back(out.size(), out.size() + content.size());
  out += content;
}

std::string render_chatml(std::span<const ChatMessage> messages, const ChatOptions& options,
                          bool smollm_default) {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    check_role("chatml", messages[i], {"system", "user", "assistant", "tool"});
    if (i == 0 && smollm_default && messages[0].role != "system")
      out +=
          "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
          "Face<|im_end|>\n";
    out += "<|im_start|>" + messages[i].role + "\n";
    append_content(out, messages[i].content, options);
    out += "<|im_end|>\n";
  }
  if (options.add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

std::string render_qwen3(std::span<const ChatMessage> messages, const ChatOptions& options) {
  std::string out;
  if (!messages.empty() && messages[0].role == "system") {
    out += "<|im_start|>system\n";
    append_content(out, messages[0].content, options);
    out += "<|im_end|>\n";
  }
  // The last user message that is not a wrapped tool response; think blocks are kept only after it.
  size_t last_query = messages.empty() ? 0 : messages.size() - 1;
  for (size_t i = messages.size(); i-- > 0;) {
    const std::string& c = messages[i].content;
    if (messages[i].role == "user" &&
        !(c.starts_with("<tool_response>") && c.ends_with("</tool_response>"))) {
      last_query = i;
      break;
    }
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    check_role("qwen3", m, {"system", "user", "assistant", "tool"});
    std::string content = m.content;
    const bool last = i + 1 == messages.size();
    if (m.role == "user" || (m.role == "system" && i != 0)) {
      out += "<|im_start|>" + m.role + "\n";
      append_content(out, content, options);
      out += "<|im_end|>\n";
    } else if (m.role == "assistant") {
      std::string reasoning;
      if (const size_t end_think = content.find("</think>"); end_think != std::string::npos) {
        std::string before = strip_newlines(content.substr(0, end_think), false, true);
        const size_t open = before.rfind("<think>");
        reasoning = strip_newlines(open == std::string::npos ? before : before.substr(open + 7), true, false);
        content = strip_newlines(content.substr(content.rfind("</think>") + 8), true, false);
      }
      if (i > last_query && (last || !reasoning.empty())) {
        out += "<|im_start|>" + m.role + "\n<think>\n";
        append_content(out, strip_newlines(reasoning, true, true), options);
        out += "\n</think>\n\n";
        append_content(out, strip_newlines(content, true, false), options);
      } else {
        out += "<|im_start|>" + m.role + "\n";
        append_content(out, content, options);
      }
      out += "<|im_end|>\n";
    } else if (m.role == "tool") {
      if (i == 0 || messages[i - 1].role != "tool") out += "<|im_start|>user";
      out += "\n<tool_response>\n";
      append_content(out, content, options);
      out += "\n</tool_response>";
      if (last || messages[i + 1].role != "tool") out += "<|im_end|>\n";
    }
  }
  if (options.add_generation_prompt) {
    out += "<|im_start|>assistant\n";
    if (options.enable_thinking.has_value() && !*options.enable_thinking) out += "<think>\n\n</think>\n\n";
  }
  return out;
}

std::string render_llama3(std::span<const ChatMessage> messages, const ChatOptions& options) {
  std::string out = options.bos_token;
  std::string system;
  if (!messages.empty() && messages[0].role == "system") {
    system = python_strip(messages[0].content);
    messages = messages.subspan(1);
  }
  out += "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: " +
         options.date_string + "\n\n";
  append_content(out, system, options);
  out += "<|eot_id|>";
  for (const ChatMessage& m : messages) {
    check_role("llama3", m, {"system", "user", "assistant", "tool", "ipython"});
    if (m.role == "tool" || m.role == "ipython") {
      out += "<|start_header_id|>ipython<|end_header_id|>\n\n";
      append_content(out, m.content, options);
      out += "<|eot_id|>";
    } else {
      out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n";
      append_content(out, python_strip(m.content), options);
      out += "<|eot_id|>";
    }
  }
  if (options.add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

std::string render_gemma3(std::span<const ChatMessage> messages, const ChatOptions& options) {
  std::string out = options.bos_token;
  std::string first_user_prefix;
  if (!messages.empty() && messages[0].role == "system") {
    first_user_prefix = messages[0].content + "\n\n";
    messages = messages.subspan(1);
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if ((m.role == "user") != (i % 2 == 0))
      fail(
          "chat template gemma3: conversation roles must alternate user/assistant/user/assistant/... "
          "(message {} "
          "is '{}')",
          i, m.role);
    check_role("gemma3", m, {"user", "assistant"});
    const std::string role = m.role == "assistant" ? "model" : m.role;
    out += "<start_of_turn>" + role + "\n";
    if (i == 0) append_content(out, first_user_prefix, options);
    append_content(out, python_strip(m.content), options);
    out += "<end_of_turn>\n";
  }
  if (options.add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

}  // namespace

std::string_view chat_template_family_name(ChatTemplateFamily family) {
  for (const auto& [f, name] : kFamilyNames)
    if (f == family) return name;
  return "unknown";
}

std::string render_chat(ChatTemplateFamily family, std::span<const ChatMessage> messages,
                        const ChatOptions& options) {
  switch (family) {
    case ChatTemplateFamily::NONE:
      fail("this tokenizer has no chat template; use a plain prompt");
    case ChatTemplateFamily::CHATML:
      return render_chatml(messages, options, false);
    case ChatTemplateFamily::SMOLLM2:
      return render_chatml(messages, options, true);
    case ChatTemplateFamily::QWEN3:
      return render_qwen3(messages, options);
    case ChatTemplateFamily::LLAMA3:
      return render_llama3(messages, options);
    case ChatTemplateFamily::GEMMA3:
      return render_gemma3(messages, options);
  }
  fail("unknown chat template family");
}

ChatTemplateFamily detect_chat_template(std::string_view text,
                                        const std::function<bool(std::string_view)>& has_token) {
  auto contains = [&](std::string_view needle) { return text.find(needle) != std::string_view::npos; };
  if (!text.empty()) {
    if (contains("<|start_header_id|>")) return ChatTemplateFamily::LLAMA3;
    if (contains("<start_of_turn>")) return ChatTemplateFamily::GEMMA3;
    if (contains("<|im_start|>")) {
      if (contains("<think>") || contains("enable_thinking")) return ChatTemplateFamily::QWEN3;
      if (contains("SmolLM")) return ChatTemplateFamily::SMOLLM2;
      return ChatTemplateFamily::CHATML;
    }
  }
  if (has_token("<|start_header_id|>")) return ChatTemplateFamily::LLAMA3;
  if (has_token("<start_of_turn>")) return ChatTemplateFamily::GEMMA3;
  if (has_token("<|im_start|>"))
    return has_token("<think>") ? ChatTemplateFamily::QWEN3 : ChatTemplateFamily::CHATML;
  return ChatTemplateFamily::NONE;
}

}  // namespace xpusim::model
