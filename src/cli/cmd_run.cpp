// `xpusim run`: generate text with a model on the host (the reference executor), streaming it as it comes,
// then print prompt and decode speed, peak memory and where the weights came from. --json prints one JSON
// object at the end and nothing else on stdout.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "chips/loader.h"
#include "cli/command.h"
#include "cli/cuda_target.h"
#include "cli/limits.h"
#include "cli/quant_eval.h"
#include "cli/run_chip.h"
#include "cli/run_engine.h"
#include "core/error.h"
#include "exec/executor.h"
#include "model/loader.h"
#include "numerics/format_table.h"
#include "report/progress.h"
#include "runtime/generate.h"

namespace xpusim::cli {
namespace {

struct RunOptions {
  std::string model = "smollm2-135m";
  std::string prompt;
  std::string chat;
  int64_t max_tokens = 128;
  runtime::SamplingParams sampling;
  std::vector<std::string> stops;
  bool json = false;
  bool csv = false;  // --chip ue-*: the per-op-type breakdown
  bool quiet = false;
  int threads = 0;
  std::string precision;  // a numerics format name: weights quantized into it (cli/quant_eval.h)
  std::string chip;       // ue-* chip: run on the engine simulator (cli/run_engine.h)
  bool timing_only = false;
  int64_t engines = 0;  // --engines: tensor parallel over this many of a ue-* chip's engines (0: all)
  bool no_program_cache = false;  // --no-program-cache: compile the engine programs afresh
  std::string trace;
  std::string html;
  std::string kv_dtype;  // --kv-dtype: family chips only
};

bool is_host_chip(std::string_view chip) { return chip.empty() || chip == "host"; }
bool is_engine_chip(const std::string& chip) { return chips::load_chip(chip).family == chips::Family::UE; }

// Longest generation any path accepts; the host path also holds prompt + tokens within the model's context.
constexpr int64_t kMaxGeneratedTokens = 1 << 16;

void run_run(const RunOptions& options) {
  check_range("--max-tokens", options.max_tokens, 1, kMaxGeneratedTokens);
  check_threads("--threads", options.threads);
  check_range("--engines", options.engines, 0, 1024);
  if (!is_host_chip(options.chip) && !is_cuda_chip(options.chip) && !is_engine_chip(options.chip)) {
    if (!options.trace.empty() || !options.html.empty()) fail("--trace and --html need --chip ue-*");
    run_on_family_chip(ChipRunOptions{options.model, options.chip, options.precision, options.prompt,
                                      options.chat, options.max_tokens, options.sampling, options.stops,
                                      options.threads, options.timing_only, options.json, options.csv,
                                      options.quiet, options.kv_dtype});
    return;
  }
  if (!options.kv_dtype.empty()) fail("--kv-dtype applies to --chip with a cpu/gpu/tpu/npu/lpu chip preset");
  if (!is_host_chip(options.chip) && !is_cuda_chip(options.chip)) {
    run_on_engine(EngineRunOptions{options.model, options.chip, options.precision, options.prompt,
                                   options.chat, options.trace, options.html, options.max_tokens,
                                   options.sampling, options.timing_only, options.json, options.csv,
                                   options.quiet, options.engines, !options.no_program_cache});
    return;
  }
  if (options.csv)
    fail("--csv prints the per-op-type table of a simulated --chip; the host run has no table");
  if (!options.trace.empty() || !options.html.empty()) fail("--trace and --html need --chip ue-*");
  if (options.timing_only) fail("--timing-only needs a simulated --chip (ue-* or any other chip preset)");
  const bool on_cuda = is_cuda_chip(options.chip);
  if (on_cuda && !cuda_target_built())
    fail("--chip cuda: this xpusim was built without CUDA (no nvcc found)");
  if (!options.prompt.empty() && !options.chat.empty()) fail("give either --prompt or --chat, not both");
  if (options.prompt.empty() && options.chat.empty()) fail("give a --prompt TEXT or a --chat MESSAGE");
  options.sampling.validate();

  // Loading (and quantizing) is the slow part before the first token; the generated text streams to stdout
  // afterwards, so the bar is gone by then.
  report::ProgressBar progress(!options.quiet && report::ProgressBar::stderr_is_terminal(), "run");
  progress.update(0, 2, "loading " + options.model);
  model::LoadedModel loaded = model::load_model(options.model);
  if (!options.precision.empty()) {
    progress.update(1, 2, "quantizing to " + options.precision);
    const auto format = numerics::format_from_name(options.precision);
    if (!format) {
      fail("--precision: unknown format '{}'; known: {}", options.precision, numerics::format_names_joined());
    }
    loaded.weights = quantize_model_weights(loaded, *format, false);
  }
  progress.finish();
  if (loaded.synthetic && !options.json && !options.quiet) {
    fmt::print(stderr,
               "note: no real weights for '{}' here; using {} weights of its exact shape. The text below is "
               "noise.\n",
               loaded.name, loaded.source);
  }
  runtime::TextCodec codec = runtime::TextCodec::for_model(loaded);
  std::vector<int32_t> prompt_ids =
      options.chat.empty() ? codec.encode_prompt(options.prompt) : codec.encode_chat(options.chat);
  // Memory follows prompt + max_tokens (the KV cache): past the context the model has no positions anyway.
  const int64_t context = loaded.config.max_positions;
  if (static_cast<int64_t>(prompt_ids.size()) + options.max_tokens > context) {
    fail("--max-tokens {} with a {}-token prompt exceeds {}'s context of {} tokens (at most {} here)",
         options.max_tokens, prompt_ids.size(), loaded.name, context,
         std::max<int64_t>(0, context - static_cast<int64_t>(prompt_ids.size())));
  }

  runtime::GenerateOptions generate_options;
  generate_options.max_tokens = options.max_tokens;
  generate_options.sampling = options.sampling;
  generate_options.stop_strings = options.stops;
  generate_options.stop_ids = codec.stop_ids(loaded.config);
  if (on_cuda) {
    CudaRunInfo info;
    const runtime::GenerateResult result =
        run_generate_cuda(loaded, codec, prompt_ids, generate_options, &info);
    if (options.json) {
      const nlohmann::json out = {{"model", loaded.name},
                                  {"chip", "cuda"},
                                  {"device", info.device},
                                  {"text", result.text},
                                  {"output_ids", result.output_ids},
                                  {"stop_reason", result.stop_reason},
                                  {"prompt_tokens", result.prompt_ids.size()},
                                  {"generated_tokens", result.output_ids.size()},
                                  {"prompt_seconds", result.prompt_seconds},
                                  {"decode_seconds", result.decode_seconds},
                                  {"device_weight_bytes", info.device_weight_bytes}};
      fmt::print("{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
      return;
    }
    fmt::print(
        "{}\n\n-- {} on {} | prompt: {} tokens, {:.1f} tokens/s | decode: {} tokens, {:.1f} tokens/s | "
        "stop: {}\n",
        result.text, loaded.name, info.device, result.prompt_ids.size(), result.prompt_tokens_per_second(),
        result.output_ids.size(), result.decode_tokens_per_second(), result.stop_reason);
    return;
  }
  exec::Executor executor(
      loaded.config, loaded.weights,
      exec::ExecOptions{options.threads, static_cast<int64_t>(prompt_ids.size()) + options.max_tokens});

  auto on_text = [&](std::string_view piece) {
    if (options.json) return;
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  };
  runtime::GenerateResult result = runtime::generate(executor, codec, prompt_ids, generate_options, on_text);
  const size_t peak = runtime::peak_memory_bytes();

  if (options.json) {
    nlohmann::json out = {
        {"model", loaded.name},
        {"family", model::family_name(loaded.config.family)},
        {"source", loaded.source},
        {"synthetic", loaded.synthetic},
        {"tokenizer", codec.describe()},
        {"text", result.text},
        {"prompt_ids", result.prompt_ids},
        {"output_ids", result.output_ids},
        {"stop_reason", result.stop_reason},
        {"prompt_tokens", result.prompt_ids.size()},
        {"generated_tokens", result.output_ids.size()},
        {"prompt_seconds", result.prompt_seconds},
        {"decode_seconds", result.decode_seconds},
        {"prompt_tokens_per_s", result.prompt_tokens_per_second()},
        {"decode_tokens_per_s", result.decode_tokens_per_second()},
        {"peak_memory_bytes", peak},
        {"weight_bytes", loaded.weights.total_bytes()},
        {"precision", options.precision.empty() ? "checkpoint" : options.precision},
        {"threads", executor.threads()},
        {"sampling", options.sampling.describe()},
    };
    // Invalid UTF-8 (possible mid-character when generation stops) is replaced rather than failing the dump.
    fmt::print("{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  // -q: stdout is the generated text alone (plus a final newline) and stderr stays empty: no summary.
  if (options.quiet) {
    fmt::print("\n");
    return;
  }
  std::FILE* summary = stdout;
  fmt::print(summary, "\n\n-- {} | {}\n", loaded.name,
             loaded.synthetic ? loaded.source + " weights (output is noise)" : "weights: " + loaded.source);
  fmt::print(summary,
             "-- prompt: {} tokens, {:.1f} tokens/s | decode: {} tokens, {:.1f} tokens/s | stop: {}\n",
             result.prompt_ids.size(), result.prompt_tokens_per_second(), result.output_ids.size(),
             result.decode_tokens_per_second(), result.stop_reason);
  fmt::print(summary, "-- peak memory {:.1f} MB | weights {:.1f} MB ({}) | {} threads | {}\n",
             static_cast<double>(peak) / 1e6, static_cast<double>(loaded.weights.total_bytes()) / 1e6,
             options.precision.empty() ? "as stored" : options.precision, executor.threads(),
             options.sampling.describe());
}

void setup_run(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand("run", "Generate text with a model on this machine (host executor)");
  command->footer(
      "Examples:\n"
      "  xpusim run --model smollm2-135m --chat \"What is the capital of France?\" --temperature 0\n"
      "  xpusim run --model gpt2 --prompt \"Once upon a time\" --max-tokens 32 --seed 7\n"
      "  xpusim run --model ./my-checkpoint/ --prompt \"Hello\" --stop \"\\n\" --json\n"
      "  xpusim run --model smollm2-135m --chip ue-ku5p --precision ue-if4 --chat \"Hi\" --temperature 0\n"
      "  xpusim run --model smollm2-135m --chip gpu-h100-sxm --chat \"Hi\" --temperature 0\n"
      "A preset name without its real checkpoint in the model cache runs synthetic weights (labelled).");
  command
      ->add_option("--model,-m", options->model,
                   "Preset name (see `xpusim models`), checkpoint folder or .gguf")
      ->capture_default_str();
  command->add_option("--prompt,-p", options->prompt, "Plain text prompt");
  command->add_option("--chat,-c", options->chat, "A user message, formatted with the model's chat template");
  command->add_option("--max-tokens,-n", options->max_tokens, "Most tokens to generate")
      ->capture_default_str();
  command->add_option("--temperature,-t", options->sampling.temperature, "0 = greedy")->capture_default_str();
  command->add_option("--top-k", options->sampling.top_k, "0 = off")->capture_default_str();
  command->add_option("--top-p", options->sampling.top_p, "1 = off")->capture_default_str();
  command->add_option("--min-p", options->sampling.min_p, "0 = off")->capture_default_str();
  command->add_option("--repeat-penalty", options->sampling.repeat_penalty, "1 = off (HF repetition_penalty)")
      ->capture_default_str();
  command->add_option("--seed", options->sampling.seed, "Sampling seed")->capture_default_str();
  command->add_option("--stop", options->stops, "Stop when this text appears (repeatable)");
  command->add_flag("--json", options->json, "Print one JSON object at the end, nothing else on stdout");
  command->add_flag("--csv", options->csv,
                    "With --chip ue-*: print the time-by-op-type table as CSV, nothing else on stdout");
  command->add_flag("--quiet,-q", options->quiet, "No progress bar or notes on stderr");
  command->add_option(
      "--kv-dtype", options->kv_dtype,
      "--chip cpu/gpu/tpu/npu/lpu: KV-cache type the timing assumes (bf16, fp8-e4m3, int8, fp32)");
  command->add_option("--precision", options->precision,
                      "Run with linear weights quantized into this number format (xpusim quant --list)");
  command->add_option("--chip", options->chip,
                      "host (default), cuda (an NVIDIA GPU, when built with CUDA), a ue-* chip (the "
                      "simulated unified engine) or any other chip preset (values from the host, time and "
                      "energy from the chip's model; `xpusim chips`)");
  command->add_flag(
      "--timing-only", options->timing_only,
      "With --chip: simulate timing without values (same cycles; any preset, no weights needed)");
  command->add_flag("--no-program-cache", options->no_program_cache,
                    "With --chip ue-*: neither load nor store compiled programs in the on-disk program cache "
                    "($XPUSIM_CACHE_DIR/programs or ~/.cache/xpusim/programs; XPUSIM_PROGRAM_CACHE=0 also "
                    "disables it)");
  command->add_option("--engines", options->engines,
                      "With --chip ue-*: split each step over this many engines (default: all of the "
                      "chip's)");
  command->add_option("--trace", options->trace,
                      "With --chip: write a Chrome/Perfetto trace of the ops here");
  command->add_option("--html", options->html,
                      "With --chip ue-*: write a self-contained HTML report (op timeline in cycles per op "
                      "type, run parameters, generated text)");
  command->add_option("--threads", options->threads, "Worker threads, 0 = one per core")
      ->capture_default_str();
  command->callback([options] { run_run(*options); });
}

}  // namespace

XPUSIM_REGISTER_COMMAND(setup_run);

}  // namespace xpusim::cli
