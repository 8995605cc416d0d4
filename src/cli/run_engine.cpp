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
#include "report/step_trace.h"
#include "report/table.h"
#include "runtime/generate.h"
#include "runtime/step_runner.h"
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

namespace {

// The simulated engine in the one generation loop: each step's simulated cost is summed (prefill apart from
// decode) and laid out for --trace and --html as it comes.
class EngineStepRunner final : public runtime::StepRunner {
 public:
  EngineStepRunner(compiler::EngineRunner& runner, const model::ModelConfig& config, double clock_mhz,
                   bool values, bool trace, bool html)
      : m_runner(runner),
        m_config(config),
        m_clock_mhz(clock_mhz),
        m_values(values),
        m_trace(trace),
        m_html(html) {}
  const model::ModelConfig& config() const override { return m_config; }
  int64_t position() const override { return m_runner.position(); }
  bool produces_values() const override { return m_values; }
  runtime::StepOutput forward(std::span<const int32_t> tokens, bool greedy_only) override {
    compiler::StepOutput out = m_runner.forward(tokens);
    const double start = prefill.seconds + decode.seconds;
    if (m_trace) trace.add_step(out.cost, start, m_steps);
    if (m_html) append_step_intervals(out.cost, start, m_clock_mhz, html_tracks, html_intervals);
    (m_steps == 0 ? prefill : decode).add(out.cost);
    program_instructions = std::max(program_instructions, out.program_instructions);
    ++m_steps;
    if (greedy_only && out.argmax >= 0) return {{}, out.argmax};
    return {std::move(out.logits), out.argmax};
  }

  Totals prefill, decode;
  size_t program_instructions = 0;
  report::StepTrace trace;
  std::vector<std::string> html_tracks;  // --html: op timeline in cycles, one track per op type
  std::vector<TimelineInterval> html_intervals;

 private:
  compiler::EngineRunner& m_runner;
  const model::ModelConfig& m_config;
  double m_clock_mhz;
  bool m_values, m_trace, m_html;
  int64_t m_steps = 0;
};

// Everything a finished engine run reports from: the loop's result and the runner's simulated totals.
struct EngineRun {
  const EngineRunOptions& options;
  const engine::ChipConfig& chip;
  engine::WeightFormat format;
  const model::LoadedModel& loaded;
  compiler::EngineRunner& runner;
  EngineStepRunner& steps;
  const runtime::GenerateResult& result;
  double wall_s = 0;
};

nlohmann::json run_json(const EngineRun& run, const Totals& all) {
  const Totals& prefill = run.steps.prefill;
  const Totals& decode = run.steps.decode;
  const auto decode_steps = static_cast<double>(run.result.decode_steps);
  const double tpot = decode_steps > 0 ? decode.seconds / decode_steps : 0;
  const double total_s = prefill.seconds + decode.seconds;
  const auto tokens = static_cast<double>(run.result.output_ids.size());
  nlohmann::json breakdown = nlohmann::json::object();
  for (const auto& [type, s] : all.seconds_by_type) breakdown[type] = s / total_s;
  const compiler::ProgramStats& programs = run.runner.program_stats();
  return {
      {"model", run.loaded.name},
      {"chip", run.chip.name},
      {"engines", run.runner.chip().engines},
      {"precision", std::string(engine::weight_format_name(run.format))},
      {"timing_only", run.options.timing_only},
      {"text", run.result.text},
      {"prompt_tokens", run.result.prompt_ids.size()},
      {"generated_tokens", run.result.output_ids.size()},
      {"stop_reason", run.result.stop_reason},
      {"ttft_s", prefill.seconds},
      {"decode_s_per_token", tpot},
      {"decode_tokens_per_s", tpot > 0 ? 1.0 / tpot : 0.0},
      {"tokens_per_s", total_s > 0 ? tokens / total_s : 0.0},
      {"utilization_of_peak", (prefill.flops + decode.flops) / total_s / run.runner.chip().peak_flops()},
      {"dram_bytes_per_decode_token",
       decode_steps > 0 ? decode.dram_bytes / decode_steps : prefill.dram_bytes},
      {"program_instructions", run.steps.program_instructions},
      {"program_bytes", run.steps.program_instructions * engine::kDescriptorBytes},
      {"weight_bytes", run.runner.plan().weight_bytes},
      {"energy_per_token_j", (prefill.energy_j + decode.energy_j) / std::max(tokens, 1.0)},
      {"time_by_op_type", breakdown},
      {"host_wall_s", run.wall_s},
      {"programs_compiled", programs.compiled},
      {"programs_loaded_from_cache", programs.loaded},
      {"program_compile_s", programs.compile_seconds},
      {"program_cache_load_s", programs.load_seconds},
      {"host_tokens_per_s", run.wall_s > 0 ? tokens / run.wall_s : 0.0},
  };
}

void write_engine_html(const EngineRun& run, const nlohmann::json& summary) {
  const EngineRunOptions& options = run.options;
  EngineStepRunner& steps = run.steps;
  report::HtmlReport report;
  report.title = fmt::format("xpusim run: {} on {}", run.loaded.name, run.chip.name);
  report.timeline = build_timeline(fmt::format("{}: {}, prefill + {} decode steps", run.chip.name,
                                               run.loaded.name, run.result.decode_steps),
                                   run.chip.clock_mhz, steps.html_tracks, std::move(steps.html_intervals));
  report.parameters = {
      {"command", "run"},
      {"model", run.loaded.name},
      {"weights", run.loaded.source},
      {"chip", fmt::format("{} ({} MHz, {} of {} engines)", run.chip.name, run.chip.clock_mhz,
                           run.runner.chip().engines, run.chip.engines)},
      {"precision", std::string(engine::weight_format_name(run.format))},
      {"simulation", options.timing_only ? "timing-only" : "functional"},
      {options.chat.empty() ? "prompt" : "chat message",
       options.chat.empty() ? options.prompt : options.chat},
      {"max tokens", fmt::format("{}", options.max_tokens)},
      {"sampling", options.sampling.describe()},
      {"prompt / generated tokens",
       fmt::format("{} / {}", run.result.prompt_ids.size(), run.result.output_ids.size())},
      {"stop", run.result.stop_reason},
      {"TTFT", fmt::format("{:.3f} ms", summary["ttft_s"].get<double>() * 1e3)},
      {"decode", fmt::format("{:.3f} ms/token", summary["decode_s_per_token"].get<double>() * 1e3)},
      {"generated text", options.timing_only ? "(timing-only: no values)" : run.result.text}};
  report::write_html(report, options.html_file);
}

void print_engine_summary(const EngineRun& run, const nlohmann::json& summary) {
  const engine::ChipConfig& chip = run.chip;
  const int64_t engines_used = run.runner.chip().engines;
  fmt::print("\n\n-- {} on {} ({} engine{}{}, {:.1f} MHz) | weights {} {:.1f} MB | {}\n", run.loaded.name,
             chip.name, chip.engines, chip.engines > 1 ? "s" : "",
             chip.engines > 1 ? fmt::format(", {} used", engines_used) : "", chip.clock_mhz,
             engine::weight_format_name(run.format),
             static_cast<double>(run.runner.plan().weight_bytes) / 1e6,
             run.options.timing_only ? "timing-only" : "functional");
  if (run.runner.plan().weights_aliased)
    fmt::print(
        "-- note: the weights exceed the DRAM a program reaches on this chip ({} MiB, at most 4 GiB); "
        "costed as if it were large enough (timing-only: weight reads alias inside the free DRAM, which "
        "never changes timing)\n",
        chip.dram_size_mib);
  const double tpot = summary["decode_s_per_token"].get<double>();
  fmt::print(
      "-- prompt {} tokens: TTFT {:.2f} ms | decode {} tokens: {:.2f} ms/token, {:.2f} tokens/s | overall "
      "{:.2f} tokens/s at the chip's clock | stop: {}\n",
      run.result.prompt_ids.size(), summary["ttft_s"].get<double>() * 1e3, run.result.output_ids.size(),
      tpot * 1e3, tpot > 0 ? 1.0 / tpot : 0.0, summary["tokens_per_s"].get<double>(), run.result.stop_reason);
  fmt::print(
      "-- utilization {:.1f}% of peak | DRAM {:.1f} MB per decode token | energy {:.3f} J per token | "
      "program {} instructions ({:.1f} KiB)\n",
      100.0 * summary["utilization_of_peak"].get<double>(),
      summary["dram_bytes_per_decode_token"].get<double>() / 1e6, summary["energy_per_token_j"].get<double>(),
      run.steps.program_instructions,
      static_cast<double>(run.steps.program_instructions * engine::kDescriptorBytes) / 1024.0);
  std::string parts;
  for (const auto& [type, share] : summary["time_by_op_type"].items())
    parts += fmt::format("{}{} {:.1f}%", parts.empty() ? "" : ", ", type, 100.0 * share.get<double>());
  fmt::print("-- time by op: {}\n", parts);
  const compiler::ProgramStats& programs = run.runner.program_stats();
  fmt::print(
      "-- programs (generic: any position): {} compiled in {:.0f} ms, {} loaded from the program cache "
      "in {:.0f} ms\n",
      programs.compiled, programs.compile_seconds * 1e3, programs.loaded, programs.load_seconds * 1e3);
  const double tokens = static_cast<double>(run.result.output_ids.size());
  fmt::print("-- simulated on this machine in {:.2f} s ({:.2f} tokens/s){}\n", run.wall_s,
             run.wall_s > 0 ? tokens / run.wall_s : 0.0,
             run.options.trace_file.empty() ? "" : " | trace: " + run.options.trace_file);
  if (!run.options.html_file.empty()) fmt::print("-- HTML report: {}\n", run.options.html_file);
}

void report_engine_run(const EngineRun& run) {
  Totals all = run.steps.prefill;
  for (const auto& [type, s] : run.steps.decode.seconds_by_type) all.seconds_by_type[type] += s;
  const nlohmann::json summary = run_json(run, all);
  if (!run.options.trace_file.empty()) run.steps.trace.write(run.options.trace_file);
  if (!run.options.html_file.empty()) write_engine_html(run, summary);
  if (run.options.json) {
    fmt::print("{}\n", summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  if (run.options.csv) {  // the per-op-type breakdown: simulated seconds and share of the whole run
    const double total_s = run.steps.prefill.seconds + run.steps.decode.seconds;
    fmt::print("{}", report::csv_row({"op_type", "seconds", "share"}));
    for (const auto& [type, s] : all.seconds_by_type)
      fmt::print("{}", report::csv_row({type, fmt::format("{}", s), fmt::format("{}", s / total_s)}));
    return;
  }
  print_engine_summary(run, summary);
}

}  // namespace

void run_on_engine(const EngineRunOptions& options) {
  options.check();
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
  const std::vector<int32_t> prompt = options.encode(codec);
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
  if (loaded.synthetic && !options.timing_only && !options.json && !options.csv && !options.quiet)
    fmt::print(stderr, "note: no real weights for '{}'; using {} weights. The text below is noise.\n",
               loaded.name, loaded.source);

  const auto wall_start = std::chrono::steady_clock::now();
  EngineStepRunner steps_runner(runner, loaded.config, chip.clock_mhz, !options.timing_only,
                                !options.trace_file.empty(), !options.html_file.empty());
  const runtime::GenerateOptions generate_options = options.generate_options(codec, loaded.config);
  progress.update(0, steps, "prefill");
  const runtime::GenerateResult result = runtime::generate(
      steps_runner, codec, prompt, generate_options,
      [&](std::string_view piece) {
        if (!streams_text) return;
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
      },
      [&](int64_t index) { progress.update(static_cast<size_t>(index) + 1, steps, "tokens simulated"); });
  progress.finish();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  report_engine_run(EngineRun{options, chip, format, loaded, runner, steps_runner, result, wall});
}

}  // namespace xpusim::cli
