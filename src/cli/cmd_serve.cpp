// `xpusim serve`: an OpenAI-compatible HTTP server (loopback by default) that runs the model on this machine,
// batching concurrent requests with the serving scheduler, and — with --chip — reports each request's
// simulated timing on that chip next to the usage counts. Prints "listening on http://HOST:PORT" once ready.
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include "chips/loader.h"
#include "cli/command.h"
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

serving::Server* g_server = nullptr;

void on_signal(int) {
  if (g_server) g_server->stop();
}

void run_serve(ServeOptions options) {
  if (options.port < 0 || options.port > 65535) fail("--port must be 0..65535 (got {})", options.port);
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
  serving::Server server(engine, loaded, codec, options.server);
  const int port = server.bind();
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server
  g_server = &server;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  if (loaded.synthetic && !options.quiet)
    fmt::print(stderr, "note: {} runs on synthetic weights: its text is noise\n", loaded.name);
  fmt::print("xpusim serve: {} ({}){} | listening on http://{}:{}\n", loaded.name, codec.describe(),
             engine.chip_name().empty() ? "" : " | simulated timing on " + engine.chip_name(), options.host,
             port);
  std::fflush(stdout);
  server.run();
  g_server = nullptr;
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
  command->callback([options] { run_serve(*options); });
}

}  // namespace

XPUSIM_REGISTER_COMMAND(setup_serve);

}  // namespace xpusim::cli
