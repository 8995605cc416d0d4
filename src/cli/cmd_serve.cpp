// `xpusim serve`: an OpenAI-compatible HTTP server (loopback by default) that runs the model on this machine,
// batching concurrent requests with the serving scheduler, and — with --chip — reports each request's
// simulated timing on that chip next to the usage counts. Prints "listening on http://HOST:PORT" once ready.
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "chips/loader.h"
#include "cli/command.h"
#include "cli/limits.h"
#include "cli/targets.h"
#include "core/error.h"
#include "model/loader.h"
#include "serving/server.h"

namespace xpusim::cli {
namespace {

struct ServeOptions {
  std::string model = "smollm2-135m";
  std::string chip;
  std::string precision;
  std::string host = "127.0.0.1";
  int port = 8000;
  serving::HostEngineOptions engine;
  serving::ServerOptions server;
  bool quiet = false;
};

// Stated limits of the sizing flags (docs/security.md): values past them are refused with a message.
constexpr int64_t kMaxRequestsLimit = 4096;
constexpr size_t kMaxBodyLimit = 64u << 20;
constexpr int64_t kMaxConnectionsLimit = 65536;

void validate(ServeOptions& options) {
  if (options.port < 0 || options.port > 65535) fail("serve: --port must be 0..65535 (got {})", options.port);
  check_range("--max-running", options.engine.max_running, 1, 256);
  check_range("--max-requests", options.engine.max_requests, 1, kMaxRequestsLimit);
  check_range("--max-batched-tokens", options.engine.max_batched_tokens, 1, 1 << 20);
  check_range("--max-model-len", options.engine.max_model_len, 1, 1 << 20);
  check_range("--kv-capacity", options.engine.kv_capacity_tokens, 1, int64_t{1} << 24);
  check_range("--max-tokens-limit", options.server.max_tokens_limit, 1, 1 << 20);
  check_threads("--threads", options.engine.threads);
  check_range("--max-body-bytes", static_cast<int64_t>(options.server.max_body_bytes), 1024, kMaxBodyLimit);
  check_range("--idle-timeout", options.server.idle_timeout_s, 1, 3600);
  check_range("--request-timeout", options.server.request_timeout_s, 1, 3600);
  check_range("--max-connections", options.server.max_connections, 1, kMaxConnectionsLimit);
  if (options.server.api_key.empty()) {
    if (const char* key = std::getenv("XPUSIM_API_KEY")) options.server.api_key = key;
  }
}

void run_serve(ServeOptions options) {
  validate(options);
  model::LoadedModel loaded = model::load_model(options.model);
  runtime::TextCodec codec = runtime::TextCodec::for_model(loaded);
  std::unique_ptr<chips::CostModel> cost;
  if (!options.chip.empty()) {
    cost = make_target_cost_model(chips::load_chip(options.chip), loaded.config, options.precision);
  }
  options.engine.max_model_len = std::min(options.engine.max_model_len, loaded.config.max_positions);
  serving::HostEngine engine(loaded, codec, options.engine, std::move(cost));
  options.server.host = options.host;
  options.server.port = options.port;
  options.server.model_name = options.model;
  options.server.max_in_flight = options.engine.max_requests;
  options.server.max_prompt_tokens = options.engine.max_model_len;
  serving::Server server(engine, loaded, codec, options.server);
  const int port = server.bind();  // a port in use is an error (no SO_REUSEPORT)
  std::signal(SIGPIPE, SIG_IGN);   // a client that hangs up must not kill the server
  // SIGTERM / SIGINT: the server's event loop catches them and shuts down gracefully.
  if (!options.quiet && !serving::is_loopback_address(options.host) && options.server.api_key.empty())
    fmt::print(stderr, "warning: listening on {} without --api-key: anyone who reaches it can use it\n",
               options.host);
  if (loaded.synthetic && !options.quiet)
    fmt::print(stderr, "note: {} runs on synthetic weights: its text is noise\n", loaded.name);
  fmt::print("xpusim serve: {} ({}){} | listening on http://{}:{}\n", loaded.name, codec.describe(),
             engine.chip_name().empty() ? "" : " | simulated timing on " + engine.chip_name(), options.host,
             port);
  std::fflush(stdout);
  server.run();
}

void setup_serve(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* command =
      app.add_subcommand("serve", "OpenAI-compatible HTTP server running the model on this machine");
  command->footer(
      "Examples:\n"
      "  xpusim serve --model smollm2-135m --port 8000\n"
      "  xpusim serve --model smollm2-135m --chip gpu-h100-sxm   # + simulated timing per request\n"
      "  curl http://127.0.0.1:8000/v1/chat/completions -d "
      "'{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}'\n"
      "Endpoints: /v1/models, /v1/completions, /v1/chat/completions (stream: true for SSE), /health.");
  command->add_option("--model,-m", options->model, "Preset name, checkpoint folder or .gguf")
      ->capture_default_str();
  command->add_option("--chip,-c", options->chip, "Also time every step on this chip (simulated timing)");
  command->add_option("--precision", options->precision, "Weight format for the chip's timing");
  command->add_option("--host", options->host, "Address to listen on (loopback by default)")
      ->capture_default_str();
  command->add_option("--port,-p", options->port, "Port (0 = any free port)")->capture_default_str();
  command->add_option("--max-running", options->engine.max_running, "Sequences stepped together")
      ->capture_default_str();
  command->add_option("--max-requests", options->engine.max_requests, "Requests in flight before HTTP 429")
      ->capture_default_str();
  command->add_option("--max-batched-tokens", options->engine.max_batched_tokens, "Token budget per step")
      ->capture_default_str();
  command->add_option("--max-model-len", options->engine.max_model_len, "Context limit per sequence")
      ->capture_default_str();
  command
      ->add_option("--kv-capacity", options->engine.kv_capacity_tokens, "KV tokens of the scheduler's pool")
      ->capture_default_str();
  command->add_option("--max-tokens-limit", options->server.max_tokens_limit, "Largest max_tokens accepted")
      ->capture_default_str();
  command->add_flag("--quiet,-q", options->quiet, "No notes on stderr");
  command->add_option("--threads", options->engine.threads, "Executor threads, 0 = one per core")
      ->capture_default_str();
  command->add_option("--api-key", options->server.api_key,
                      "Require 'Authorization: Bearer KEY' (default: $XPUSIM_API_KEY; prefer the variable, "
                      "command lines are visible to other users)");
  command->add_option("--allow-origin", options->server.allow_origins,
                      "Browser Origin allowed to call the server (repeatable; '*' = any). Others get 403");
  command->add_flag("--parse-special-tokens", options->server.parse_special_in_content,
                    "Parse special-token text typed in chat messages as control tokens (HF's behaviour; lets "
                    "a user forge roles)");
  command
      ->add_option("--max-body-bytes", options->server.max_body_bytes, "Request body limit (however framed)")
      ->capture_default_str();
  command
      ->add_option("--idle-timeout", options->server.idle_timeout_s,
                   "Seconds without progress before a connection is closed")
      ->capture_default_str();
  command
      ->add_option("--request-timeout", options->server.request_timeout_s,
                   "Seconds to receive a whole request (from connect or the previous answer); then 408")
      ->capture_default_str();
  command
      ->add_option("--max-connections", options->server.max_connections,
                   "Open connections served; beyond, HTTP 429 (at twice this, new ones wait in the backlog)")
      ->capture_default_str();
  command->callback([options] { run_serve(*options); });
}

}  // namespace

XPUSIM_REGISTER_COMMAND(setup_serve);

}  // namespace xpusim::cli
