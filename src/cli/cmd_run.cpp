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
#include "cli/run_request.h"
#include "cli/run_speculative.h"
#include "core/error.h"
#include "exec/executor.h"
#include "model/loader.h"
#include "numerics/format_table.h"
#include "report/progress.h"
#include "runtime/generate.h"

namespace xpusim::cli {
namespace {

struct RunOptions {
  RunRequest request;    // what every target is asked (cli/run_request.h)
  std::string kv_dtype;  // --kv-dtype: family chips only
  int64_t engines = 0;   // --engines: tensor parallel over this many of a ue-* chip's engines (0: all)
  bool no_program_cache = false;  // --no-program-cache: compile the engine programs afresh
  std::string trace;
  std::string html;
  SpeculativeRequest speculative;  // --speculative, --draft-tokens, --no-baseline: host only
};

bool is_host_chip(std::string_view chip) { return chip.empty() || chip == "host"; }
bool is_engine_chip(const std::string& chip) { return chips::load_chip(chip).family == chips::Family::UE; }

// Longest generation any path accepts; the host path also holds prompt + tokens within the model's context.
constexpr int64_t kMaxGeneratedTokens = 1 << 16;

void print_json(const nlohmann::json& out) {
  // Invalid UTF-8 (possible mid-character when generation stops) is replaced rather than failing the dump.
  fmt::print("{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

model::LoadedModel load_for_host(const RunRequest& request) {
  // Loading (and quantizing) is the slow part before the first token; the generated text streams to stdout
  // afterwards, so the bar is gone by then.
  report::ProgressBar progress(!request.quiet && report::ProgressBar::stderr_is_terminal(), "run");
  progress.update(0, 2, "loading " + request.model);
  model::LoadedModel loaded = model::load_model(request.model);
  if (!request.precision.empty()) {
    progress.update(1, 2, "quantizing to " + request.precision);
    const auto format = numerics::format_from_name(request.precision);
    if (!format) {
      fail("--precision: unknown format '{}'; known: {}", request.precision, numerics::format_names_joined());
    }
    loaded.weights = quantize_model_weights(loaded, *format, false);
  }
  progress.finish();
  if (loaded.synthetic && !request.json && !request.quiet) {
    fmt::print(stderr,
               "note: no real weights for '{}' here; using {} weights of its exact shape. The text below is "
               "noise.\n",
               loaded.name, loaded.source);
  }
  return loaded;
}

void print_cuda_run(const RunRequest& request, const model::LoadedModel& loaded,
                    const runtime::GenerateResult& result, const CudaRunInfo& info) {
  if (request.json) {
    nlohmann::json out = generation_json(loaded, result);
    out["chip"] = "cuda";
    out["device"] = info.device;
    out["device_weight_bytes"] = info.device_weight_bytes;
    print_json(out);
    return;
  }
  if (request.quiet) {
    fmt::print("\n");
    return;
  }
  fmt::print(
      "\n\n-- {} on {} | prompt: {} tokens, {:.1f} tokens/s | decode: {} tokens, {:.1f} tokens/s | stop: "
      "{}\n",
      loaded.name, info.device, result.prompt_ids.size(), result.prompt_tokens_per_second(),
      result.output_ids.size(), result.decode_tokens_per_second(), result.stop_reason);
}

void print_host_run(const RunRequest& request, const model::LoadedModel& loaded,
                    const runtime::TextCodec& codec, const runtime::GenerateResult& result, int threads) {
  const size_t peak = runtime::peak_memory_bytes();
  const std::string precision = request.precision.empty() ? "checkpoint" : request.precision;
  if (request.json) {
    nlohmann::json out = generation_json(loaded, result);
    out["family"] = model::family_name(loaded.config.family);
    out["source"] = loaded.source;
    out["synthetic"] = loaded.synthetic;
    out["tokenizer"] = codec.describe();
    out["peak_memory_bytes"] = peak;
    out["weight_bytes"] = loaded.weights.total_bytes();
    out["precision"] = precision;
    out["threads"] = threads;
    out["sampling"] = request.sampling.describe();
    print_json(out);
    return;
  }
  // -q: stdout is the generated text alone (plus a final newline) and stderr stays empty: no summary.
  if (request.quiet) {
    fmt::print("\n");
    return;
  }
  fmt::print("\n\n-- {} | {}\n", loaded.name,
             loaded.synthetic ? loaded.source + " weights (output is noise)" : "weights: " + loaded.source);
  fmt::print("-- prompt: {} tokens, {:.1f} tokens/s | decode: {} tokens, {:.1f} tokens/s | stop: {}\n",
             result.prompt_ids.size(), result.prompt_tokens_per_second(), result.output_ids.size(),
             result.decode_tokens_per_second(), result.stop_reason);
  fmt::print("-- peak memory {:.1f} MB | weights {:.1f} MB ({}) | {} threads | {}\n",
             static_cast<double>(peak) / 1e6, static_cast<double>(loaded.weights.total_bytes()) / 1e6,
             request.precision.empty() ? "as stored" : request.precision, threads,
             request.sampling.describe());
}

// Real execution: the host executor or, with --chip cuda, the GPU; both through the one generation loop.
void run_real(const RunRequest& request, const SpeculativeRequest& speculative) {
  const bool on_cuda = is_cuda_chip(request.chip);
  if (request.csv)
    fail("--csv prints the per-op-type table of a simulated --chip; the host run has no table");
  if (request.timing_only) fail("--timing-only needs a simulated --chip (ue-* or any other chip preset)");
  if (on_cuda && !cuda_target_built())
    fail("--chip cuda: this xpusim was built without CUDA (no nvcc found)");
  request.check();
  const model::LoadedModel loaded = load_for_host(request);
  const runtime::TextCodec codec = runtime::TextCodec::for_model(loaded);
  const std::vector<int32_t> prompt_ids = request.encode(codec);
  // Memory follows prompt + max_tokens (the KV cache): past the context the model has no positions anyway.
  const int64_t context = loaded.config.max_positions;
  if (static_cast<int64_t>(prompt_ids.size()) + request.max_tokens > context) {
    fail("--max-tokens {} with a {}-token prompt exceeds {}'s context of {} tokens (at most {} here)",
         request.max_tokens, prompt_ids.size(), loaded.name, context,
         std::max<int64_t>(0, context - static_cast<int64_t>(prompt_ids.size())));
  }
  const runtime::GenerateOptions generate_options = request.generate_options(codec, loaded.config);
  auto on_text = [&](std::string_view piece) {
    if (request.json) return;
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  };
  if (!speculative.spec.empty()) {
    if (on_cuda) fail("--speculative runs on the host executor (leave out --chip, or --chip host)");
    run_speculative_host(request, speculative, loaded, codec, prompt_ids, generate_options, on_text);
    return;
  }
  if (on_cuda) {
    CudaRunInfo info;
    const runtime::GenerateResult result =
        run_generate_cuda(loaded, codec, prompt_ids, generate_options, &info, on_text);
    print_cuda_run(request, loaded, result, info);
    return;
  }
  exec::Executor executor(
      loaded.config, loaded.weights,
      exec::ExecOptions{request.threads, static_cast<int64_t>(prompt_ids.size()) + request.max_tokens});
  const runtime::GenerateResult result =
      runtime::generate(executor, codec, prompt_ids, generate_options, on_text);
  print_host_run(request, loaded, codec, result, executor.threads());
}

void run_run(const RunOptions& options) {
  const RunRequest& request = options.request;
  check_range("--max-tokens", request.max_tokens, 1, kMaxGeneratedTokens);
  check_threads("--threads", request.threads);
  check_range("--engines", options.engines, 0, 1024);
  const bool real = is_host_chip(request.chip) || is_cuda_chip(request.chip);
  check_range("--draft-tokens", options.speculative.draft_tokens, 1, 64);
  if (!options.speculative.spec.empty() && !is_host_chip(request.chip)) {
    fail("--speculative runs on the host executor; for a chip's view use `xpusim compare --speculative`");
  }
  if (!real && !is_engine_chip(request.chip)) {
    run_on_family_chip(ChipRunOptions{request, options.kv_dtype, options.trace, options.html});
    return;
  }
  if (!options.kv_dtype.empty()) fail("--kv-dtype applies to --chip with a cpu/gpu/tpu/npu/lpu chip preset");
  if (!real) {
    run_on_engine(
        EngineRunOptions{request, options.trace, options.html, options.engines, !options.no_program_cache});
    return;
  }
  if (!options.trace.empty() || !options.html.empty())
    fail("--trace and --html need a simulated --chip (ue-* or any other chip preset)");
  run_real(request, options.speculative);
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
      "  xpusim run --chat \"Summarize: ...\" --temperature 0 --speculative ngram --draft-tokens 4\n"
      "  xpusim run --chat \"Hi\" --temperature 0 --speculative self:q4_0 --draft-tokens 3\n"
      "A preset name without its real checkpoint in the model cache runs synthetic weights (labelled).");
  command
      ->add_option("--model,-m", options->request.model,
                   "Preset name (see `xpusim models`), checkpoint folder or .gguf")
      ->capture_default_str();
  command->add_option("--prompt,-p", options->request.prompt, "Plain text prompt");
  command->add_option("--chat,-c", options->request.chat,
                      "A user message, formatted with the model's chat template");
  command->add_option("--max-tokens,-n", options->request.max_tokens, "Most tokens to generate")
      ->capture_default_str();
  command->add_option("--temperature,-t", options->request.sampling.temperature, "0 = greedy")
      ->capture_default_str();
  command->add_option("--top-k", options->request.sampling.top_k, "0 = off")->capture_default_str();
  command->add_option("--top-p", options->request.sampling.top_p, "1 = off")->capture_default_str();
  command->add_option("--min-p", options->request.sampling.min_p, "0 = off")->capture_default_str();
  command
      ->add_option("--repeat-penalty", options->request.sampling.repeat_penalty,
                   "1 = off (HF repetition_penalty)")
      ->capture_default_str();
  command->add_option("--seed", options->request.sampling.seed, "Sampling seed")->capture_default_str();
  command->add_option("--stop", options->request.stops, "Stop when this text appears (repeatable)");
  command->add_flag("--json", options->request.json,
                    "Print one JSON object at the end, nothing else on stdout");
  command->add_flag("--csv", options->request.csv,
                    "With --chip ue-*: print the time-by-op-type table as CSV, nothing else on stdout");
  command->add_flag("--quiet,-q", options->request.quiet, "No progress bar or notes on stderr");
  command->add_option(
      "--kv-dtype", options->kv_dtype,
      "--chip cpu/gpu/tpu/npu/lpu: KV-cache type the timing assumes (bf16, fp8-e4m3, int8, fp32)");
  command->add_option("--precision", options->request.precision,
                      "Run with linear weights quantized into this number format (xpusim quant --list)");
  command->add_option("--chip", options->request.chip,
                      "host (default), cuda (an NVIDIA GPU, when built with CUDA), a ue-* chip (the "
                      "simulated unified engine) or any other chip preset (values from the host, time and "
                      "energy from the chip's model; `xpusim chips`)");
  command->add_flag(
      "--timing-only", options->request.timing_only,
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
  command->add_option(
      "--html", options->html,
      "With --chip: write a self-contained HTML report (ue-*: op timeline in cycles per op type; "
      "other presets: the summary, the chip diagram, timeline, roofline and energy)");
  command->add_option("--speculative", options->speculative.spec,
                      "Speculative decoding on the host: ngram (prompt lookup), draft:MODEL (a smaller model "
                      "with the same tokenizer) or self:FORMAT (this checkpoint in a cheaper number format, "
                      "e.g. q4_0, mxfp4, nvfp4); prints acceptance, tokens per verify step and the speedup "
                      "over plain decoding of the same prompt (docs/speculative.md)");
  command
      ->add_option("--draft-tokens", options->speculative.draft_tokens,
                   "With --speculative: tokens drafted per verify step (k)")
      ->capture_default_str();
  command->add_flag(
      "--no-baseline", [options](int64_t) { options->speculative.baseline = false; },
      "With --speculative: skip the plain-decoding run (no speedup reported)");
  command->add_option("--threads", options->request.threads, "Worker threads, 0 = one per core")
      ->capture_default_str();
  command->callback([options] { run_run(*options); });
}

}  // namespace

XPUSIM_REGISTER_COMMAND(setup_run);

}  // namespace xpusim::cli
