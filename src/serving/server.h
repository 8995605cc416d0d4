// OpenAI-compatible HTTP server over a HostEngine: /v1/models, /v1/completions, /v1/chat/completions (the
// model's chat template), server-sent-event streaming, temperature / top_p / max_tokens / stop / seed / n,
// usage counts plus the simulated timing of the request on the chip ("xpusim" object next to "usage").
// Limits: body size, prompt length (the context), n, max_tokens, requests in flight (HTTP 429). Malformed
// JSON or bad parameters get HTTP 400 with an OpenAI-style error object. A client that disconnects (streaming
// or not) has its request cancelled: its KV blocks are freed before the next step. GET /xpusim/stats shows
// requests in flight and KV held. Non-goals: TLS, auth,
// logprobs, tools, embeddings.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "serving/host_engine.h"

namespace httplib {
class Server;
}

namespace xpusim::serving {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                  // 0 = any free port (bound_port() tells which)
  std::string model_name;           // what /v1/models lists and responses echo
  size_t max_body_bytes = 1 << 20;  // request body limit
  int64_t max_tokens_limit = 4096;  // largest max_tokens accepted
  int64_t max_n = 8;
  int threads = 16;  // HTTP worker threads (each open connection holds one)
};

class Server {
 public:
  Server(HostEngine& engine, const model::LoadedModel& model, const runtime::TextCodec& codec,
         ServerOptions options);
  ~Server();
  // Binds the socket (xpusim::Error if it cannot) and returns the port.
  int bind();
  // Serves until stop() (blocks).
  void run();
  void stop();

 private:
  void install_routes();

  HostEngine& m_engine;
  const model::LoadedModel& m_model;
  const runtime::TextCodec& m_codec;
  std::unique_ptr<model::Tokenizer> m_chat_tokenizer;  // for multi-message chat templates
  ServerOptions m_options;
  std::unique_ptr<httplib::Server> m_http;
};

}  // namespace xpusim::serving
