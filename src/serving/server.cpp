#include "serving/server.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <deque>

#include "core/error.h"

namespace xpusim::serving {
namespace {

using nlohmann::json;

// A parameter problem the client must fix: HTTP 400.
struct BadRequest {
  std::string message;
};
[[noreturn]] void bad(std::string message) { throw BadRequest{std::move(message)}; }

struct Parsed {
  std::vector<int32_t> prompt;
  int64_t max_tokens = 16;
  int64_t n = 1;
  runtime::SamplingParams sampling;
  std::vector<std::string> stops;
  bool stream = false;
  bool include_usage = false;
};

// Everything a handler thread and the engine thread share for one request.
struct Channel {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<StreamDelta> deltas;
  bool done = false;
  RequestSummary summary;
};

json error_body(const std::string& message, const char* type) {
  return {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}};
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(error_body(message, status == 429 ? "rate_limit_error" : "invalid_request_error").dump(),
                  "application/json");
}

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
  if (!body[key].is_number_integer()) bad(fmt::format("'{}' must be an integer", key));
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
      if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") ||
          !part["text"].is_string()) {
        bad(fmt::format("messages[{}].content: only text parts are supported", index));
      }
      text += part["text"].get<std::string>();
    }
    return text;
  }
  bad(fmt::format("messages[{}].content must be a string", index));
}

}  // namespace

Server::Server(HostEngine& engine, const model::LoadedModel& model, const runtime::TextCodec& codec,
               ServerOptions options)
    : m_engine(engine),
      m_model(model),
      m_codec(codec),
      m_options(std::move(options)),
      m_http(std::make_unique<httplib::Server>()) {
  if (model.gguf_tokenizer)
    m_chat_tokenizer = model::Tokenizer::from_gguf_data(*model.gguf_tokenizer);
  else if (!model.tokenizer_json.empty())
    m_chat_tokenizer = model::Tokenizer::from_hf_json(model.tokenizer_json);
  if (m_options.model_name.empty()) m_options.model_name = model.name;
  m_http->set_payload_max_length(m_options.max_body_bytes);
  const int threads = std::max(2, m_options.threads);
  m_http->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  install_routes();
}

Server::~Server() = default;

int Server::bind() {
  if (m_options.port == 0) {
    const int port = m_http->bind_to_any_port(m_options.host);
    if (port <= 0) fail("serve: cannot bind {} on any port", m_options.host);
    return port;
  }
  if (!m_http->bind_to_port(m_options.host, m_options.port)) {
    fail("serve: cannot bind {}:{} (in use, or not an address of this machine?)", m_options.host,
         m_options.port);
  }
  return m_options.port;
}

void Server::run() { m_http->listen_after_bind(); }
void Server::stop() { m_http->stop(); }

void Server::install_routes() {
  const std::string model_name = m_options.model_name;
  m_http->Get("/health",
              [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  // Not OpenAI: what the engine holds right now (tests check that a disconnect frees everything).
  m_http->Get("/xpusim/stats", [this](const httplib::Request&, httplib::Response& res) {
    const KvUsage usage = m_engine.kv_usage();
    json body = {{"active_requests", m_engine.active_requests()},
                 {"steps", m_engine.total_steps()},
                 {"kv_reserved_tokens", usage.reserved_tokens},
                 {"kv_capacity_tokens", usage.capacity_tokens}};
    res.set_content(body.dump(), "application/json");
  });
  m_http->Get("/v1/models", [model_name](const httplib::Request&, httplib::Response& res) {
    json body = {{"object", "list"},
                 {"data", json::array({{{"id", model_name},
                                        {"object", "model"},
                                        {"created", static_cast<int64_t>(std::time(nullptr))},
                                        {"owned_by", "xpusim"}}})}};
    res.set_content(body.dump(), "application/json");
  });

  auto parse_common = [this, model_name](const json& body, Parsed& parsed) {
    if (body.contains("model") && !body["model"].is_null()) {
      if (!body["model"].is_string()) bad("'model' must be a string");
      if (body["model"].get<std::string>() != model_name) {
        bad(fmt::format("model '{}' is not served here (this server serves '{}')",
                        body["model"].get<std::string>(), model_name));
      }
    }
    int64_t max_tokens = integer_in(body, "max_tokens", 1, m_options.max_tokens_limit, 16);
    parsed.max_tokens = integer_in(body, "max_completion_tokens", 1, m_options.max_tokens_limit, max_tokens);
    parsed.n = integer_in(body, "n", 1, m_options.max_n, 1);
    parsed.sampling.temperature = number_in(body, "temperature", 0, 2, 1.0);
    parsed.sampling.top_p = number_in(body, "top_p", 1e-9, 1, 1.0);
    parsed.sampling.top_k = 0;
    parsed.sampling.min_p = 0;
    parsed.sampling.seed = static_cast<uint64_t>(integer_in(body, "seed", INT64_MIN, INT64_MAX, 42));
    if (body.contains("stop") && !body["stop"].is_null()) {
      const json& stop = body["stop"];
      if (stop.is_string())
        parsed.stops.push_back(stop.get<std::string>());
      else if (stop.is_array() && stop.size() <= 4) {
        for (const json& s : stop) {
          if (!s.is_string()) bad("'stop' must be a string or an array of up to 4 strings");
          parsed.stops.push_back(s.get<std::string>());
        }
      } else {
        bad("'stop' must be a string or an array of up to 4 strings");
      }
      for (const std::string& s : parsed.stops) {
        if (s.empty()) bad("'stop' strings must not be empty");
      }
    }
    if (body.contains("stream") && !body["stream"].is_null()) {
      if (!body["stream"].is_boolean()) bad("'stream' must be true or false");
      parsed.stream = body["stream"].get<bool>();
    }
    if (body.contains("stream_options") && body["stream_options"].is_object()) {
      parsed.include_usage = body["stream_options"].value("include_usage", false);
    }
  };

  auto handle = [this, parse_common, model_name](const httplib::Request& req, httplib::Response& res,
                                                 bool chat) {
    Parsed parsed;
    try {
      json body = json::parse(req.body, nullptr, false);
      if (body.is_discarded()) bad("the body is not valid JSON");
      if (!body.is_object()) bad("the body must be a JSON object");
      parse_common(body, parsed);
      if (chat) {
        if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty()) {
          bad("'messages' must be a non-empty array");
        }
        if (!m_chat_tokenizer ||
            m_chat_tokenizer->chat_template_family() == model::ChatTemplateFamily::NONE) {
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
        std::string rendered;
        try {
          rendered = m_chat_tokenizer->apply_chat_template(messages);
        } catch (const Error& error) {
          bad(error.what());
        }
        parsed.prompt = m_chat_tokenizer->encode(rendered, /*add_special_tokens=*/false);
      } else {
        if (!body.contains("prompt")) bad("'prompt' is required");
        const json& prompt = body["prompt"];
        if (prompt.is_string()) {
          parsed.prompt = m_codec.encode_prompt(prompt.get<std::string>());
        } else if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string()) {
          parsed.prompt = m_codec.encode_prompt(prompt[0].get<std::string>());
        } else if (prompt.is_array() && !prompt.empty() && prompt[0].is_number_integer()) {
          for (const json& id : prompt) {
            if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
                id.get<int64_t>() >= m_model.config.vocab_size) {
              bad("'prompt' token ids must be integers below the vocabulary size");
            }
            parsed.prompt.push_back(id.get<int32_t>());
          }
        } else {
          bad("'prompt' must be a string, an array of one string, or an array of token ids");
        }
      }
      if (parsed.prompt.empty()) bad("the prompt is empty");
    } catch (const BadRequest& error) {
      send_error(res, 400, error.message);
      return;
    }

    auto channel = std::make_shared<Channel>();
    HostRequest request;
    request.prompt = parsed.prompt;
    request.max_tokens = parsed.max_tokens;
    request.n = parsed.n;
    request.sampling = parsed.sampling;
    request.stop_strings = parsed.stops;
    request.on_delta = [channel](const StreamDelta& delta) {
      std::lock_guard lock(channel->mutex);
      channel->deltas.push_back(delta);
      channel->ready.notify_all();
    };
    request.on_done = [channel](const RequestSummary& summary) {
      std::lock_guard lock(channel->mutex);
      channel->done = true;
      channel->summary = summary;
      channel->ready.notify_all();
    };
    int64_t id = 0;
    try {
      id = m_engine.submit(std::move(request));
    } catch (const Error& error) {
      const std::string message = error.what();
      send_error(res, message.rfind("the server is busy", 0) == 0 ? 429 : 400, message);
      return;
    }

    const std::string response_id = fmt::format("{}-{}", chat ? "chatcmpl" : "cmpl", id);
    const int64_t created = static_cast<int64_t>(std::time(nullptr));
    const std::string chip = m_engine.chip_name();
    auto usage_json = [](const RequestSummary& s) {
      return json{{"prompt_tokens", s.prompt_tokens},
                  {"completion_tokens", s.completion_tokens},
                  {"total_tokens", s.prompt_tokens + s.completion_tokens}};
    };
    auto timing_json = [chip](const RequestSummary& s) {
      json timing = {{"steps", s.steps}};
      if (!chip.empty()) {
        timing["chip"] = chip;
        timing["simulated_ttft_s"] = s.simulated_ttft_s;
        timing["simulated_e2e_s"] = s.simulated_e2e_s;
      }
      return timing;
    };
    HostEngine* engine = &m_engine;
    const int64_t n = parsed.n;
    const bool stream = parsed.stream;
    const bool include_usage = parsed.include_usage;
    auto texts = std::make_shared<std::vector<std::string>>(static_cast<size_t>(n));
    auto reasons = std::make_shared<std::vector<std::string>>(static_cast<size_t>(n), "length");
    auto provider = [=](size_t, httplib::DataSink& sink) -> bool {
      std::unique_lock lock(channel->mutex);
      channel->ready.wait_for(lock, std::chrono::milliseconds(50),
                              [&] { return channel->done || !channel->deltas.empty(); });
      std::deque<StreamDelta> deltas;
      deltas.swap(channel->deltas);
      const bool done = channel->done;
      const RequestSummary summary = channel->summary;
      lock.unlock();
      auto write = [&](const std::string& data) { return sink.write(data.data(), data.size()); };
      if (!sink.is_writable()) {  // client gone: free its KV now
        engine->cancel(id);
        return false;
      }
      for (const StreamDelta& delta : deltas) {
        (*texts)[static_cast<size_t>(delta.index)] += delta.text;
        if (delta.finished) (*reasons)[static_cast<size_t>(delta.index)] = delta.finish_reason;
        if (!stream) continue;
        json choice = {{"index", delta.index},
                       {"finish_reason", delta.finished ? json(delta.finish_reason) : json(nullptr)}};
        if (chat)
          choice["delta"] = {{"role", "assistant"}, {"content", delta.text}};
        else
          choice["text"] = delta.text;
        json chunk = {{"id", response_id},
                      {"object", chat ? "chat.completion.chunk" : "text_completion"},
                      {"created", created},
                      {"model", model_name},
                      {"choices", json::array({choice})}};
        if (!write("data: " + chunk.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n")) {
          engine->cancel(id);
          return false;
        }
      }
      if (!done) return true;
      if (stream) {
        if (include_usage) {
          json chunk = {{"id", response_id},
                        {"object", chat ? "chat.completion.chunk" : "text_completion"},
                        {"created", created},
                        {"model", model_name},
                        {"choices", json::array()},
                        {"usage", usage_json(summary)},
                        {"xpusim", timing_json(summary)}};
          write("data: " + chunk.dump() + "\n\n");
        }
        write("data: [DONE]\n\n");
      } else {
        json choices = json::array();
        for (int64_t i = 0; i < n; ++i) {
          json choice = {{"index", i}, {"finish_reason", (*reasons)[static_cast<size_t>(i)]}};
          if (chat)
            choice["message"] = {{"role", "assistant"}, {"content", (*texts)[static_cast<size_t>(i)]}};
          else {
            choice["text"] = (*texts)[static_cast<size_t>(i)];
            choice["logprobs"] = nullptr;
          }
          choices.push_back(choice);
        }
        json body = {{"id", response_id},
                     {"object", chat ? "chat.completion" : "text_completion"},
                     {"created", created},
                     {"model", model_name},
                     {"choices", choices},
                     {"usage", usage_json(summary)},
                     {"xpusim", timing_json(summary)}};
        write(body.dump(-1, ' ', false, json::error_handler_t::replace));
      }
      sink.done();
      return true;
    };
    res.set_chunked_content_provider(stream ? "text/event-stream" : "application/json", provider,
                                     [engine, id](bool success) {
                                       if (!success) engine->cancel(id);
                                     });
  };
  m_http->Post("/v1/completions",
               [handle](const httplib::Request& req, httplib::Response& res) { handle(req, res, false); });
  m_http->Post("/v1/chat/completions",
               [handle](const httplib::Request& req, httplib::Response& res) { handle(req, res, true); });
  m_http->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      res.set_content(error_body(fmt::format("HTTP {}", res.status), "invalid_request_error").dump(),
                      "application/json");
    }
  });
}

}  // namespace xpusim::serving
