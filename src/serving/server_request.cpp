#include "serving/server_request.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace xpusim::serving {
namespace {

using nlohmann::json;

[[noreturn]] void bad(std::string message) { throw BadRequest{std::move(message)}; }

double number_in(const json& body, const char* key, double low, double high, double fallback) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  if (!body[key].is_number()) bad(fmt::format("'{}' must be a number", key));
  const double value = body[key].get<double>();
  if (!(value >= low && value <= high))
    bad(fmt::format("'{}' must be in [{}, {}] (got {})", key, low, high, value));
  return value;
}

int64_t integer_in(const json& body, const char* key, int64_t low, int64_t high, int64_t fallback) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  // Unsigned JSON integers above INT64_MAX would wrap in get<int64_t>().
  if (!body[key].is_number_integer() ||
      (body[key].is_number_unsigned() && body[key].get<uint64_t>() > INT64_MAX))
    bad(fmt::format("'{}' must be an integer in [{}, {}]", key, low, high));
  const int64_t value = body[key].get<int64_t>();
  if (value < low || value > high)
    bad(fmt::format("'{}' must be in [{}, {}] (got {})", key, low, high, value));
  return value;
}

std::string text_content(const json& content, size_t index) {
  if (content.is_string()) return content.get<std::string>();
  if (content.is_array()) {  // [{"type": "text", "text": "..."}]
    std::string text;
    for (const json& part : content) {
      if (!part.is_object() || !part.contains("type") || part["type"] != "text" || !part.contains("text") ||
          !part["text"].is_string()) {
        bad(fmt::format("messages[{}].content: only text parts are supported", index));
      }
      text += part["text"].get<std::string>();
    }
    return text;
  }
  bad(fmt::format("messages[{}].content must be a string", index));
}

void parse_common(const json& body, const RequestLimits& limits, GenerationRequest& parsed) {
  if (body.contains("model") && !body["model"].is_null()) {
    if (!body["model"].is_string()) bad("'model' must be a string");
    if (body["model"].get<std::string>() != limits.model_name) {
      bad(fmt::format("model '{}' is not served here (this server serves '{}')",
                      body["model"].get<std::string>(), limits.model_name));
    }
  }
  const int64_t max_tokens = integer_in(body, "max_tokens", 1, limits.max_tokens_limit, 16);
  parsed.max_tokens = integer_in(body, "max_completion_tokens", 1, limits.max_tokens_limit, max_tokens);
  parsed.n = integer_in(body, "n", 1, limits.max_n, 1);
  parsed.sampling.temperature = number_in(body, "temperature", 0, 2, 1.0);
  parsed.sampling.top_p = number_in(body, "top_p", 1e-9, 1, 1.0);
  parsed.sampling.top_k = 0;
  parsed.sampling.min_p = 0;
  parsed.sampling.seed = static_cast<uint64_t>(integer_in(body, "seed", INT64_MIN, INT64_MAX, 42));
  if (body.contains("stop") && !body["stop"].is_null()) {
    const json& stop = body["stop"];
    if (stop.is_string()) {
      parsed.stops.push_back(stop.get<std::string>());
    } else if (stop.is_array() && stop.size() <= 4) {
      for (const json& s : stop) {
        if (!s.is_string()) bad("'stop' must be a string or an array of up to 4 strings");
        parsed.stops.push_back(s.get<std::string>());
      }
    } else {
      bad("'stop' must be a string or an array of up to 4 strings");
    }
    for (const std::string& s : parsed.stops) {
      if (s.empty()) bad("'stop' strings must not be empty");
      if (s.size() > 256) bad("'stop' strings must be at most 256 bytes");
    }
  }
  if (body.contains("stream") && !body["stream"].is_null()) {
    if (!body["stream"].is_boolean()) bad("'stream' must be true or false");
    parsed.stream = body["stream"].get<bool>();
  }
  if (body.contains("stream_options") && body["stream_options"].is_object()) {
    const json& options = body["stream_options"];
    if (options.contains("include_usage")) {
      if (!options["include_usage"].is_boolean()) bad("'stream_options.include_usage' must be true or false");
      parsed.include_usage = options["include_usage"].get<bool>();
    }
  }
}

std::vector<int32_t> chat_prompt(const json& body, const RequestContext& context) {
  if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
    bad("'messages' must be a non-empty array");
  if (static_cast<int64_t>(body["messages"].size()) > context.limits.max_messages)
    bad(fmt::format("at most {} messages per request", context.limits.max_messages));
  if (!context.chat_tokenizer ||
      context.chat_tokenizer->chat_template_family() == model::ChatTemplateFamily::NONE) {
    bad("this model has no chat template; use /v1/completions");
  }
  std::vector<model::ChatMessage> messages;
  for (size_t i = 0; i < body["messages"].size(); ++i) {
    const json& message = body["messages"][i];
    if (!message.is_object() || !message.contains("role") || !message["role"].is_string() ||
        !message.contains("content")) {
      bad(fmt::format("messages[{}] needs a string 'role' and a 'content'", i));
    }
    messages.push_back({message["role"].get<std::string>(), text_content(message["content"], i)});
  }
  try {
    return context.chat_tokenizer->encode_chat(messages, context.limits.parse_special_in_content);
  } catch (const Error& error) {
    bad(error.what());
  }
}

std::vector<int32_t> completion_prompt(const json& body, const RequestContext& context) {
  if (!body.contains("prompt")) bad("'prompt' is required");
  const json& prompt = body["prompt"];
  if (prompt.is_string()) return context.codec->encode_prompt(prompt.get<std::string>());
  if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string())
    return context.codec->encode_prompt(prompt[0].get<std::string>());
  if (prompt.is_array() && !prompt.empty() && prompt[0].is_number_integer()) {
    if (static_cast<int64_t>(prompt.size()) > context.limits.max_prompt_tokens)
      bad(fmt::format("the prompt has {} tokens; the limit is {}", prompt.size(),
                      context.limits.max_prompt_tokens));
    std::vector<int32_t> ids;
    for (const json& id : prompt) {
      if (!id.is_number_integer() || (id.is_number_unsigned() && id.get<uint64_t>() > INT64_MAX) ||
          id.get<int64_t>() < 0 || id.get<int64_t>() >= context.vocab_size) {
        bad("'prompt' token ids must be integers below the vocabulary size");
      }
      ids.push_back(static_cast<int32_t>(id.get<int64_t>()));
    }
    return ids;
  }
  bad("'prompt' must be a string, an array of one string, or an array of token ids");
}

}  // namespace

GenerationRequest parse_generation_request(std::string_view text, bool chat, const RequestContext& context) {
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded()) bad("the body is not valid JSON");
  if (!body.is_object()) bad("the body must be a JSON object");
  GenerationRequest parsed;
  parse_common(body, context.limits, parsed);
  parsed.prompt = chat ? chat_prompt(body, context) : completion_prompt(body, context);
  if (parsed.prompt.empty()) bad("the prompt is empty");
  if (static_cast<int64_t>(parsed.prompt.size()) > context.limits.max_prompt_tokens) {
    bad(fmt::format("the prompt has {} tokens; the context limit is {}", parsed.prompt.size(),
                    context.limits.max_prompt_tokens));
  }
  return parsed;
}

}  // namespace xpusim::serving
