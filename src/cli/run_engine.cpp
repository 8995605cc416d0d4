#include "cli/run_engine.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>

#include <unistd.h>

#include "cli/html_timeline.h"
#include "compiler/engine_runner.h"
#include "compiler/program_cache.h"
#include "core/error.h"
#include "engine/chip_config.h"
#include "model/loader.h"
#include "model/presets.h"
#include "report/html.h"
#include "report/progress.h"
#include "report/table.h"
#include "runtime/text_codec.h"

namespace xpusim::cli {
namespace {

struct Totals {
  double seconds = 0, flops = 0, dram_bytes = 0, energy_j = 0;
  std::map<std::string, double> seconds_by_type;
  void add(const chips::StepCost& cost) {
    seconds += cost.seconds;
    flops += cost.flops;
    dram_bytes += cost.bytes_per_level.size() > 1 ? cost.bytes_per_level[1] : 0;
    energy_j += cost.energy.total();
    for (const chips::OpCost& op : cost.ops) seconds_by_type[op.op_type] += op.seconds;
  }
};

// Chrome trace events: one slice per op of every step, laid end to end in simulated time.
void append_trace(nlohmann::json& events, const chips::StepCost& cost, double start_s, int64_t step) {
  double t = start_s;
  for (const chips::OpCost& op : cost.ops) {
    if (op.seconds <= 0) continue;
    events.push_back(
        {{"name", op.label},
         {"cat", op.op_type},
         {"ph", "X"},
         {"ts", t * 1e6},
         {"dur", op.seconds * 1e6},
         {"pid", 0},
         {"tid", 0},
         {"args", {{"step", step}, {"layer", op.layer}, {"bound", chips::bound_name(op.bound)}}}});
    t += op.seconds;
  }
}

}  // namespace

model::LoadedModel load_model_for_simulation(const std::string& model_name, bool timing_only) {
  if (timing_only) {
    if (auto config = model::find_config_only_folder(model_name)) {
      model::LoadedModel loaded;
      loaded.name = config->name;
      loaded.config = *config;
      loaded.synthetic = true;
      loaded.source = "config.json only (timing-only)";
      return loaded;
    }
  }
  const auto preset = model::find_preset(model_name);
  if (!timing_only || !preset || model::find_cached_checkpoint(*preset)) return model::load_model(model_name);
  model::LoadedModel loaded;
  loaded.name = model_name;
  loaded.config = preset->config;
  loaded.synthetic = true;
  loaded.source = "none (timing-only)";
  return loaded;
}

void run_on_engine(const EngineRunOptions& options) {
  if (options.json && options.csv) fail("give either --json or --csv, not both");
  if (!options.prompt.empty() && !options.chat.empty()) fail("give either --prompt or --chat, not both");
  if (options.prompt.empty() && options.chat.empty()) fail("give a --prompt TEXT or a --chat MESSAGE");
  if (options.max_tokens < 1) fail("--max-tokens must be >= 1 (got {})", options.max_tokens);
  options.sampling.validate();
  const engine::ChipConfig chip = engine::load_chip(options.chip);
  const engine::WeightFormat format = compiler::engine_format_from_name(options.precision);

  // The text streams to stdout as it comes; a bar on the same terminal would overwrite it, so the bar is
  // drawn only when no text streams there (--json, --csv, --timing-only or stdout redirected).
  const bool streams_text = !options.json && !options.csv && !options.timing_only;
  report::ProgressBar progress(!options.quiet && report::ProgressBar::stderr_is_terminal() &&
                                   !(streams_text && isatty(STDOUT_FILENO) == 1),
                               "run");
  const size_t steps = static_cast<size_t>(options.max_tokens) + 1;  // compile + prefill, then tokens
  progress.update(0, steps, "loading " + options.model);
  const model::LoadedModel loaded = load_model_for_simulation(options.model, options.timing_only);
  const runtime::TextCodec codec = runtime::TextCodec::for_model(loaded);
  const std::vector<int32_t> prompt =
      options.chat.empty() ? codec.encode_prompt(options.prompt) : codec.encode_chat(options.chat);
  if (prompt.empty()) fail("the prompt encodes to no tokens");
  const int64_t capacity = static_cast<int64_t>(prompt.size()) + options.max_tokens;
  progress.update(0, steps, "compiling for " + chip.name);
  compiler::EngineRunner runner(
      chip, loaded.config, options.timing_only ? nullptr : &loaded.weights,
      {.format = format,
       .kv_capacity = capacity,
       .max_step_tokens = 64,
       .functional = !options.timing_only,
       .engines = options.engines,
       .program_cache_dir = options.program_cache ? compiler::default_program_cache_dir() : std::string()});
  const int64_t engines_used = runner.chip().engines;  // steps split over these (compiler/tensor_parallel.h)
  if (loaded.synthetic && !options.timing_only && !options.json && !options.csv && !options.quiet)
    fmt::print(stderr, "note: no real weights for '{}'; using {} weights. The text below is noise.\n",
               loaded.name, loaded.source);

  const auto wall_start = std::chrono::steady_clock::now();
  nlohmann::json trace = nlohmann::json::array();
  Totals prefill, decode;
  runtime::Sampler sampler(options.sampling);
  runtime::TextCodec::Stream stream = codec.stream();
  const std::vector<int32_t> stop_ids = codec.stop_ids(loaded.config);
  std::vector<int32_t> history = prompt, generated;
  std::string text, stop_reason = "max_tokens";
  size_t program_instructions = 0;
  std::vector<std::string> html_tracks;  // --html: op timeline in cycles, one track per op type
  std::vector<TimelineInterval> html_intervals;
  const bool html = !options.html_file.empty();

  progress.update(0, steps, "prefill");
  compiler::StepOutput out = runner.forward(prompt);
  prefill.add(out.cost);
  program_instructions = out.program_instructions;
  if (!options.trace_file.empty()) append_trace(trace, out.cost, 0, 0);
  if (html) append_step_intervals(out.cost, 0, chip.clock_mhz, html_tracks, html_intervals);
  for (int64_t step = 0; step < options.max_tokens; ++step) {
    int32_t next = 0;
    if (!options.timing_only) {
      next = options.sampling.greedy() ? out.argmax : sampler.sample(out.logits, history);
      if (std::find(stop_ids.begin(), stop_ids.end(), next) != stop_ids.end()) {
        stop_reason = "eos";
        break;
      }
      const std::string piece = stream.step(next);
      text += piece;
      if (streams_text) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
      }
    }
    generated.push_back(next);
    history.push_back(next);
    progress.update(static_cast<size_t>(step) + 1, steps, "tokens simulated");
    if (step + 1 == options.max_tokens) break;
    out = runner.forward(std::span<const int32_t>(&next, 1));
    if (!options.trace_file.empty())
      append_trace(trace, out.cost, prefill.seconds + decode.seconds, step + 1);
    if (html)
      append_step_intervals(out.cost, prefill.seconds + decode.seconds, chip.clock_mhz, html_tracks,
                            html_intervals);
    decode.add(out.cost);
    program_instructions = std::max(program_instructions, out.program_instructions);
  }
  if (!options.timing_only) {
    const std::string tail = stream.flush();
    text += tail;
    if (streams_text) std::fwrite(tail.data(), 1, tail.size(), stdout);
  }
  progress.finish();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (!options.trace_file.empty()) {
    std::ofstream file(options.trace_file);
    if (!file) fail("--trace: cannot write '{}'", options.trace_file);
    file << nlohmann::json{{"traceEvents", trace}, {"displayTimeUnit", "ms"}}.dump();
  }

  const auto decode_steps = static_cast<double>(std::max<size_t>(generated.size(), 1) - 1);
  const double tpot = decode_steps > 0 ? decode.seconds / decode_steps : 0;
  const double total_s = prefill.seconds + decode.seconds;
  const double peak = runner.chip().peak_flops();  // of the engines used
  const auto tokens = static_cast<double>(generated.size());
  nlohmann::json breakdown = nlohmann::json::object();
  Totals all = prefill;
  for (const auto& [type, s] : decode.seconds_by_type) all.seconds_by_type[type] += s;
  for (const auto& [type, s] : all.seconds_by_type) breakdown[type] = s / total_s;
  const nlohmann::json result = {
      {"model", loaded.name},
      {"chip", chip.name},
      {"engines", engines_used},
      {"precision", std::string(engine::weight_format_name(format))},
      {"timing_only", options.timing_only},
      {"text", text},
      {"prompt_tokens", prompt.size()},
      {"generated_tokens", generated.size()},
      {"stop_reason", stop_reason},
      {"ttft_s", prefill.seconds},
      {"decode_s_per_token", tpot},
      {"decode_tokens_per_s", tpot > 0 ? 1.0 / tpot : 0.0},
      {"tokens_per_s", total_s > 0 ? tokens / total_s : 0.0},
      {"utilization_of_peak", (prefill.flops + decode.flops) / total_s / peak},
      {"dram_bytes_per_decode_token",
       decode_steps > 0 ? decode.dram_bytes / decode_steps : prefill.dram_bytes},
      {"program_instructions", program_instructions},
      {"program_bytes", program_instructions * engine::kDescriptorBytes},
      {"weight_bytes", runner.plan().weight_bytes},
      {"energy_per_token_j", (prefill.energy_j + decode.energy_j) / std::max(tokens, 1.0)},
      {"time_by_op_type", breakdown},
      {"host_wall_s", wall},
      {"programs_compiled", runner.program_stats().compiled},
      {"programs_loaded_from_cache", runner.program_stats().loaded},
      {"program_compile_s", runner.program_stats().compile_seconds},
      {"program_cache_load_s", runner.program_stats().load_seconds},
      {"host_tokens_per_s", wall > 0 ? tokens / wall : 0.0},
  };
  if (html) {
    report::HtmlReport report;
    report.title = fmt::format("xpusim run: {} on {}", loaded.name, chip.name);
    report.timeline =
        build_timeline(fmt::format("{}: {}, prefill + {} decode steps", chip.name, loaded.name, decode_steps),
                       chip.clock_mhz, html_tracks, std::move(html_intervals));
    report.parameters = {
        {"command", "run"},
        {"model", loaded.name},
        {"weights", loaded.source},
        {"chip",
         fmt::format("{} ({} MHz, {} of {} engines)", chip.name, chip.clock_mhz, engines_used, chip.engines)},
        {"precision", std::string(engine::weight_format_name(format))},
        {"simulation", options.timing_only ? "timing-only" : "functional"},
        {options.chat.empty() ? "prompt" : "chat message",
         options.chat.empty() ? options.prompt : options.chat},
        {"max tokens", fmt::format("{}", options.max_tokens)},
        {"sampling", options.sampling.describe()},
        {"prompt / generated tokens", fmt::format("{} / {}", prompt.size(), generated.size())},
        {"stop", stop_reason},
        {"TTFT", fmt::format("{:.3f} ms", prefill.seconds * 1e3)},
        {"decode", fmt::format("{:.3f} ms/token", tpot * 1e3)},
        {"generated text", options.timing_only ? "(timing-only: no values)" : text}};
    report::write_html(report, options.html_file);
  }
  if (options.json) {
    fmt::print("{}\n", result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  if (options.csv) {  // the per-op-type breakdown: simulated seconds and share of the whole run
    fmt::print("{}", report::csv_row({"op_type", "seconds", "share"}));
    for (const auto& [type, s] : all.seconds_by_type)
      fmt::print("{}", report::csv_row({type, fmt::format("{}", s), fmt::format("{}", s / total_s)}));
    return;
  }
  fmt::print("\n\n-- {} on {} ({} engine{}{}, {:.1f} MHz) | weights {} {:.1f} MB | {}\n", loaded.name,
             chip.name, chip.engines, chip.engines > 1 ? "s" : "",
             chip.engines > 1 ? fmt::format(", {} used", engines_used) : "", chip.clock_mhz,
             engine::weight_format_name(format), static_cast<double>(runner.plan().weight_bytes) / 1e6,
             options.timing_only ? "timing-only" : "functional");
  if (runner.plan().weights_aliased)
    fmt::print(
        "-- note: the weights exceed the DRAM a program reaches on this chip ({} MiB, at most 4 GiB); "
        "costed as if it were large enough (timing-only: weight reads alias inside the free DRAM, which "
        "never changes timing)\n",
        chip.dram_size_mib);
  fmt::print(
      "-- prompt {} tokens: TTFT {:.2f} ms | decode {} tokens: {:.2f} ms/token, {:.2f} tokens/s | overall "
      "{:.2f} tokens/s at the chip's clock\n",
      prompt.size(), prefill.seconds * 1e3, generated.size(), tpot * 1e3, tpot > 0 ? 1.0 / tpot : 0.0,
      total_s > 0 ? tokens / total_s : 0.0);
  fmt::print(
      "-- utilization {:.1f}% of peak | DRAM {:.1f} MB per decode token | energy {:.3f} J per token | "
      "program {} instructions ({:.1f} KiB)\n",
      100.0 * result["utilization_of_peak"].get<double>(),
      result["dram_bytes_per_decode_token"].get<double>() / 1e6, result["energy_per_token_j"].get<double>(),
      program_instructions, static_cast<double>(program_instructions * engine::kDescriptorBytes) / 1024.0);
  std::string parts;
  for (const auto& [type, share] : breakdown.items())
    parts += fmt::format("{}{} {:.1f}%", parts.empty() ? "" : ", ", type, 100.0 * share.get<double>());
  fmt::print("-- time by op: {}\n", parts);
  const compiler::ProgramStats& programs = runner.program_stats();
  fmt::print(
      "-- programs (generic: any position): {} compiled in {:.0f} ms, {} loaded from the program cache "
      "in {:.0f} ms\n",
      programs.compiled, programs.compile_seconds * 1e3, programs.loaded, programs.load_seconds * 1e3);
  fmt::print("-- simulated on this machine in {:.2f} s ({:.2f} tokens/s){}\n", wall,
             wall > 0 ? tokens / wall : 0.0,
             options.trace_file.empty() ? "" : " | trace: " + options.trace_file);
  if (html) fmt::print("-- HTML report: {}\n", options.html_file);
}

}  // namespace xpusim::cli
