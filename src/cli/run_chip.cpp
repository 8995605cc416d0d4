#include "cli/run_chip.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>

#include "chips/loader.h"
#include "cli/quant_eval.h"
#include "cli/run_engine.h"
#include "cli/targets.h"
#include "core/error.h"
#include "exec/executor.h"
#include "numerics/format_table.h"
#include "report/html.h"
#include "report/step_trace.h"
#include "report/table.h"
#include "runtime/generate.h"

namespace xpusim::cli {
namespace {

struct StepTotals {
  double seconds = 0, flops = 0, energy_j = 0, offchip_bytes = 0;
  std::map<std::string, double> seconds_by_type;
  void add(const chips::StepCost& cost, const chips::SystemPlan& plan) {
    seconds += cost.seconds;
    flops += cost.flops;
    energy_j += cost.energy.total();
    for (size_t level = 0; level < cost.bytes_per_level.size() && level < plan.levels.size(); ++level)
      if (plan.levels[level].name == plan.weight_level) offchip_bytes += cost.bytes_per_level[level];
    for (const chips::OpCost& op : cost.ops) seconds_by_type[op.op_type] += op.seconds;
  }
};

// Adds one decode step's ops to `sum` op by op (the steps of one run list the same ops in the same order).
void add_step_by_position(chips::StepCost& sum, const chips::StepCost& step) {
  if (sum.ops.empty()) {
    sum = step;
    return;
  }
  sum.seconds += step.seconds;
  sum.flops += step.flops;
  sum.energy += step.energy;
  sum.link_bytes += step.link_bytes;
  for (size_t i = 0; i < step.bytes_per_level.size() && i < sum.bytes_per_level.size(); ++i)
    sum.bytes_per_level[i] += step.bytes_per_level[i];
  for (size_t i = 0; i < step.ops.size() && i < sum.ops.size(); ++i) {
    chips::OpCost& op = sum.ops[i];
    op.seconds += step.ops[i].seconds;
    op.flops += step.ops[i].flops;
    op.energy += step.ops[i].energy;
    op.link_bytes += step.ops[i].link_bytes;
    for (size_t l = 0; l < op.bytes_per_level.size() && l < step.ops[i].bytes_per_level.size(); ++l)
      op.bytes_per_level[l] += step.ops[i].bytes_per_level[l];
  }
}

struct ChipRunHtml {
  chips::ChipSpec chip;
  chips::SystemPlan plan;
  std::string model;
  chips::StepCost prefill, decode;  // decode: every decode step summed op by op
  int64_t prompt_len = 0, generated = 0;
  std::vector<std::string> summary_lines;
  std::string text, prompt;
};

// The --html report of a family-chip run: the terminal's summary lines first, then the family diagram, the
// timeline, roofline and energy of this run (the compare layout with one chip).
void write_chip_run_html(const ChipRunHtml& run, const std::string& path) {
  chips::RunEstimate e;
  e.plan = run.plan;
  e.shape = {1, run.prompt_len, std::max<int64_t>(run.generated, 1)};
  e.prefill = run.prefill;
  e.decode = run.decode;
  const int64_t decode_steps = std::max<int64_t>(run.generated - 1, 0);
  const double total_s = e.prefill.seconds + e.decode.seconds;
  const double tokens = static_cast<double>(std::max<int64_t>(run.generated, 1));
  e.ttft_s = e.prefill.seconds;
  e.tpot_s = decode_steps > 0 ? e.decode.seconds / static_cast<double>(decode_steps) : 0;
  e.tokens_per_s = total_s > 0 ? tokens / total_s : 0;
  e.decode_tokens_per_s = e.tpot_s > 0 ? 1 / e.tpot_s : 0;
  e.energy_per_token = e.prefill.energy;
  e.energy_per_token += e.decode.energy;
  const double joules = e.energy_per_token.total();
  e.energy_per_token = {e.energy_per_token.compute_j / tokens, e.energy_per_token.onchip_memory_j / tokens,
                        e.energy_per_token.offchip_memory_j / tokens, e.energy_per_token.links_j / tokens,
                        e.energy_per_token.static_j / tokens};
  e.energy_per_token_j = joules / tokens;
  e.tokens_per_joule = joules > 0 ? tokens / joules : 0;
  e.utilization = total_s > 0 && e.plan.peak_flops > 0
                      ? (e.prefill.flops + e.decode.flops) / total_s / e.plan.peak_flops
                      : 0;
  e.dominant_bound = e.decode.seconds > e.prefill.seconds ? e.decode.bound : e.prefill.bound;
  report::HtmlReport html;
  html.title = fmt::format("xpusim run: {} on {}", run.model, run.chip.name);
  html.summary_lines = run.summary_lines;
  report::CompareReport compare;
  compare.model = run.model;
  compare.shape = e.shape;
  compare.prompt = run.prompt;
  compare.generated_text = run.text;
  compare.results.push_back({run.chip, e, ""});
  html.compare = std::move(compare);
  html.parameters = {{"command", "run --chip " + run.chip.name}};
  report::write_html(html, path);
}

}  // namespace

void run_on_family_chip(const ChipRunOptions& options) {
  options.check();
  const chips::ChipSpec chip = chips::load_chip(options.chip);
  model::LoadedModel loaded = load_model_for_simulation(options.model, options.timing_only);
  const std::unique_ptr<chips::CostModel> cost_model = make_target_cost_model(
      chip, loaded.config, options.precision, chips::CostOptions{options.kv_dtype, "", {}});
  const chips::SystemPlan& plan = cost_model->plan();

  const runtime::TextCodec codec = runtime::TextCodec::for_model(loaded);
  const std::vector<int32_t> prompt = options.encode(codec);

  // Values: the host executor on the weights as the chip stores them (the plan's weight format).
  runtime::GenerateResult result;
  result.prompt_ids = prompt;
  double host_wall = 0;
  if (!options.timing_only) {
    const std::optional<numerics::Format> format = numerics::format_from_name(plan.weight_format);
    if (!format)
      fail("chip {}: weight format '{}' has no host codec to produce values; use --timing-only", chip.name,
           plan.weight_format);
    loaded.weights = quantize_model_weights(loaded, *format, false);
    if (loaded.synthetic && !options.json && !options.csv && !options.quiet)
      fmt::print(stderr, "note: no real weights for '{}'; using {} weights. The text below is noise.\n",
                 loaded.name, loaded.source);
    exec::Executor executor(
        loaded.config, loaded.weights,
        exec::ExecOptions{options.threads, static_cast<int64_t>(prompt.size()) + options.max_tokens});
    const runtime::GenerateOptions generate_options = options.generate_options(codec, loaded.config);
    const bool streams = !options.json && !options.csv;
    const auto start = std::chrono::steady_clock::now();
    result = runtime::generate(executor, codec, prompt, generate_options, [&](std::string_view piece) {
      if (!streams) return;
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    });
    host_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } else {
    result.output_ids.assign(static_cast<size_t>(options.max_tokens), 0);
    result.stop_reason = "max_tokens";
  }

  // Time: the prefill step, then one decode step per further generated token at its context.
  const auto cost_start = std::chrono::steady_clock::now();
  const auto prompt_len = static_cast<int64_t>(prompt.size());
  const auto generated = static_cast<int64_t>(result.output_ids.size());
  StepTotals prefill, decode;
  // For --html: the prefill step and the decode steps summed op by op (as chips::estimate_run does).
  chips::StepCost prefill_cost, decode_sum;
  std::vector<std::string> level_names;
  for (const chips::LevelInfo& level : plan.levels) level_names.push_back(level.name);
  report::StepTrace trace(level_names);
  for (int64_t k = 0; k < std::max<int64_t>(generated, 1); ++k) {
    const chips::StepCost cost =
        k == 0 ? cost_model->step({{{prompt_len, 0}}}) : cost_model->step({{{1, prompt_len + k - 1}}});
    if (!options.trace_file.empty()) trace.add_step(cost, prefill.seconds + decode.seconds, k);
    (k == 0 ? prefill : decode).add(cost, plan);
    if (options.html_file.empty()) continue;
    if (k == 0) {
      prefill_cost = cost;
    } else {
      add_step_by_position(decode_sum, cost);
    }
  }
  if (!options.trace_file.empty()) trace.write(options.trace_file);
  const double cost_wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - cost_start).count();

  const int64_t decode_steps = std::max<int64_t>(generated - 1, 0);
  const double tpot = decode_steps > 0 ? decode.seconds / static_cast<double>(decode_steps) : 0;
  const double total_s = prefill.seconds + decode.seconds;
  const double tokens = static_cast<double>(std::max<int64_t>(generated, 1));
  std::map<std::string, double> by_type = prefill.seconds_by_type;
  for (const auto& [type, s] : decode.seconds_by_type) by_type[type] += s;
  nlohmann::json breakdown = nlohmann::json::object();
  for (const auto& [type, s] : by_type) breakdown[type] = total_s > 0 ? s / total_s : 0.0;
  const nlohmann::json out = {
      {"model", loaded.name},
      {"chip", chip.name},
      {"family", std::string(chips::family_name(chip.family))},
      {"chips_used", plan.chips_used},
      {"weight_format", plan.weight_format},
      {"compute_precision", std::string(chips::precision_name(plan.compute_precision))},
      {"timing_only", options.timing_only},
      {"text", result.text},
      {"prompt_tokens", prompt.size()},
      {"generated_tokens", generated},
      {"stop_reason", result.stop_reason},
      {"ttft_s", prefill.seconds},
      {"decode_s_per_token", tpot},
      {"decode_tokens_per_s", tpot > 0 ? 1.0 / tpot : 0.0},
      {"tokens_per_s", total_s > 0 ? static_cast<double>(generated) / total_s : 0.0},
      {"utilization_of_peak", total_s > 0 ? (prefill.flops + decode.flops) / total_s / plan.peak_flops : 0.0},
      {"weight_level_bytes_per_decode_token",
       decode_steps > 0 ? decode.offchip_bytes / static_cast<double>(decode_steps) : prefill.offchip_bytes},
      {"energy_per_token_j", (prefill.energy_j + decode.energy_j) / tokens},
      {"time_by_op_type", breakdown},
      {"host_wall_s", host_wall},
      {"cost_model_wall_s", cost_wall},
      {"notes", plan.notes},
  };
  // The summary lines, printed here and shown as they are at the top of the --html report.
  std::vector<std::string> lines;
  lines.push_back(fmt::format("-- {} on {} ({}, {} chip{}) | weights {} | compute {} | {}", loaded.name,
                              chip.name, chips::family_name(chip.family), plan.chips_used,
                              plan.chips_used > 1 ? "s" : "", plan.weight_format,
                              chips::precision_name(plan.compute_precision),
                              options.timing_only ? "timing-only" : "values from the host executor"));
  lines.push_back(fmt::format(
      "-- prompt {} tokens: TTFT {:.3f} ms | decode {} tokens: {:.3f} ms/token, {:.1f} tokens/s | "
      "utilization {:.1f}% of peak",
      prompt.size(), prefill.seconds * 1e3, generated, tpot * 1e3, tpot > 0 ? 1.0 / tpot : 0.0,
      100.0 * out["utilization_of_peak"].get<double>()));
  lines.push_back(fmt::format("-- {} {:.1f} MB per decode token | energy {:.4f} J per token",
                              plan.weight_level,
                              out["weight_level_bytes_per_decode_token"].get<double>() / 1e6,
                              out["energy_per_token_j"].get<double>()));
  std::string parts;
  for (const auto& [type, share] : breakdown.items())
    parts += fmt::format("{}{} {:.1f}%", parts.empty() ? "" : ", ", type, 100.0 * share.get<double>());
  lines.push_back(fmt::format("-- time by op: {}", parts));
  if (!options.html_file.empty()) {
    ChipRunHtml html{chip,       plan,      loaded.name, std::move(prefill_cost), std::move(decode_sum),
                     prompt_len, generated, lines};
    html.text = result.text;
    html.prompt = options.prompt;
    write_chip_run_html(html, options.html_file);
  }
  if (options.json) {
    fmt::print("{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  if (options.csv) {
    fmt::print("{}", report::csv_row({"op_type", "seconds", "share"}));
    for (const auto& [type, s] : by_type)
      fmt::print("{}", report::csv_row({type, fmt::format("{}", s), fmt::format("{}", s / total_s)}));
    return;
  }
  fmt::print("\n\n");
  for (const std::string& line : lines) fmt::print("{}\n", line);
  if (options.timing_only)
    fmt::print("-- on this machine: cost model {:.3f} s\n", cost_wall);
  else
    fmt::print("-- on this machine: host execution {:.2f} s ({:.1f} tokens/s), cost model {:.3f} s\n",
               host_wall, host_wall > 0 ? static_cast<double>(generated) / host_wall : 0.0, cost_wall);
  if (!options.trace_file.empty()) fmt::print("-- trace: {} ({} ops)\n", options.trace_file, trace.slices());
  for (const std::string& note : plan.notes) fmt::print("-- note: {}\n", note);
  if (!options.html_file.empty()) fmt::print("-- HTML report: {}\n", options.html_file);
}

}  // namespace xpusim::cli
