// OpenAI-compatible HTTP server over a HostEngine: /v1/models, /v1/completions, /v1/chat/completions (the
// model's chat template), server-sent-event streaming, temperature / top_p / max_tokens / stop / seed / n,
// usage counts plus the simulated timing of the request on the chip ("xpusim" object next to "usage").
// Built on libevent's evhttp: one event-loop thread owns every socket (a slow or idle client costs a socket
// and a few KiB, never a thread), two worker threads parse and tokenize request bodies, the engine thread
// generates; outputs reach the loop through a per-request mailbox.
// Hostile clients (docs/security.md): bodies are limited however framed (Content-Length or chunked;
// compressed bodies are refused), headers and URI are limited, a connection that makes no progress for
// idle_timeout_s is closed, one whose request is not fully read within request_timeout_s gets 408 and is
// closed, connections beyond max_connections and requests beyond the limit in flight get HTTP 429 +
// Retry-After, the listen backlog is large, a port in use is an error, SIGTERM/SIGINT stop within 2 s (an
// open stream ends with a final error event), optional Bearer API key, Host checked when bound to loopback,
// browser Origins refused unless allowed, JSON only. GET /xpusim/stats shows requests in flight and KV held.
// Non-goals: TLS (use a reverse proxy), HTTP/2.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "serving/host_engine.h"
#include "serving/server_request.h"

namespace xpusim::serving {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                   // 0 = any free port (bind() tells which)
  std::string model_name;            // what /v1/models lists and responses echo
  size_t max_body_bytes = 1 << 20;   // request body limit, however framed
  size_t max_header_bytes = 16384;   // request line + headers
  int idle_timeout_s = 5;            // no byte read or written for this long: the connection is closed
  int request_timeout_s = 10;        // from accept (or the end of the previous answer) until the request is
                                     // fully read; past it: 408 and the connection is closed
  int64_t max_connections = 1024;    // open connections served; beyond: HTTP 429 once the request is read,
                                     // and at twice this (or the descriptor limit) accepting pauses
  int listen_backlog = 4096;         // clipped by the kernel's somaxconn
  int64_t max_in_flight = 64;        // generation requests being parsed or run; beyond: HTTP 429
  int64_t max_prompt_tokens = 2048;  // the context
  int64_t max_tokens_limit = 4096;   // largest max_tokens accepted
  int64_t max_n = 8;
  std::string api_key;                     // non-empty: "Authorization: Bearer <key>" required on /v1/*
  std::vector<std::string> allow_origins;  // browser Origins accepted ("*" = any); others get 403
  bool parse_special_in_content = false;   // HF's special-token parsing of message content
};

// 127.x.x.x, ::1 or localhost.
bool is_loopback_address(const std::string& host);

class Server {
 public:
  Server(HostEngine& engine, const model::LoadedModel& model, const runtime::TextCodec& codec,
         ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Binds the socket (xpusim::Error if it cannot, e.g. the port is in use) and returns the port.
  int bind();
  // Serves until SIGTERM / SIGINT or stop(), then shuts down gracefully (blocks).
  void run();
  // Thread-safe; returns at once, run() returns within about a second.
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> m_impl;
};

}  // namespace xpusim::serving
