// `xpusim compare`: one model on several chips, one row per chip (TTFT, TPOT, tokens/s, tokens/J, energy per
// token by component, utilization, bound), a plain-language explanation of who wins and why, and optionally
// JSON, CSV or a self-contained HTML report. With real weights in the model cache the model's answer to a
// fixed prompt is generated once on the host (greedy) and shown once: every chip runs the same numerics.
// With no arguments: smollm2-135m on one preset per family plus the unified engine (the README's first
// command).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "chips/loader.h"
#include "cli/command.h"
#include "cli/targets.h"
#include "core/error.h"
#include "engine/chip_config.h"
#include "exec/executor.h"
#include "model/loader.h"
#include "model/presets.h"
#include "numerics/format_table.h"
#include "report/compare_data.h"
#include "report/html.h"
#include "report/progress.h"
#include "report/speculative_compare.h"
#include "report/table.h"
#include "runtime/generate.h"
#include "validation/summary.h"

namespace xpusim::cli {
namespace {

constexpr const char* kDefaultChips = "cpu-host,gpu-h100-sxm,tpu-v5e,npu-apple-m4,lpu-groq,ue-ku5p";
constexpr const char* kPrompt = "What is the capital of France?";
constexpr int64_t kGeneratedTokens = 32;

struct CompareOptions {
  std::string model = "smollm2-135m";
  std::string chips = kDefaultChips;
  std::string precision;
  int64_t batch = 1, prompt_len = 128, gen_len = 128;
  bool json = false, csv = false, quiet = false;
  std::string html, kv_dtype;
  std::string speculative;  // --speculative: ngram | self:FORMAT | draft:MODEL | tidar
  int64_t draft_tokens = 4;
  double acceptance = 0.7;
};

// A model's config for costing only: a preset, a config-only folder, or a checkpoint's header.
model::ModelConfig config_of(const std::string& name) {
  if (auto config = model::find_config_only_folder(name)) return *config;
  if (const auto preset = model::find_preset(name)) return preset->config;
  return model::load_model(name).config;
}

// --speculative's drafter, checked before anything is costed.
report::SpeculativeSpec speculative_spec(const CompareOptions& options, const model::ModelConfig& target) {
  report::SpeculativeSpec spec;
  spec.drafter = options.speculative;
  spec.draft_tokens = options.draft_tokens;
  spec.acceptance = options.acceptance;
  const std::string& drafter = options.speculative;
  if (drafter == "ngram" || drafter == "tidar") return spec;
  if (drafter.starts_with("self:")) {
    spec.draft_precision = drafter.substr(5);
    if (!numerics::format_from_name(spec.draft_precision)) {
      fail("--speculative self:FORMAT: unknown format '{}'; known: {}", spec.draft_precision,
           numerics::format_names_joined());
    }
    spec.draft_config = target;
    return spec;
  }
  if (drafter.starts_with("draft:") && drafter.size() > 6) {
    spec.draft_config = config_of(drafter.substr(6));
    spec.draft_precision = options.precision;
    if (spec.draft_config->vocab_size != target.vocab_size) {
      fail("--speculative {}: vocabulary {} differs from {}'s {}; a draft model needs the target's tokenizer",
           drafter, spec.draft_config->vocab_size, target.name, target.vocab_size);
    }
    return spec;
  }
  fail("--speculative: unknown drafter '{}'; give ngram, self:FORMAT, draft:MODEL or tidar", drafter);
}

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> names;
  std::stringstream stream(list);
  std::string name;
  while (std::getline(stream, name, ','))
    if (!name.empty()) names.push_back(name);
  if (names.empty()) fail("--chips: give at least one chip name (see `xpusim chips`)");
  return names;
}

// The model's config, and its generated answer when real weights are at hand. A preset whose checkpoint is
// not in the cache is timed from its config alone (synthetic weights would make the text noise and cost
// memory).
model::ModelConfig prepare_model(const CompareOptions& options, report::CompareReport& out) {
  if (auto config = model::find_config_only_folder(options.model)) {
    out.model = config->name;
    out.model_source = "config only (a config.json folder without weights: no text generated)";
    out.params = config->param_count();
    return *config;
  }
  const auto preset = model::find_preset(options.model);
  if (preset && !model::find_cached_checkpoint(*preset)) {
    out.model = options.model;
    out.model_source = "config only (real weights not in the model cache: no text generated)";
    out.params = preset->config.param_count();
    return preset->config;
  }
  model::LoadedModel loaded = model::load_model(options.model);
  out.model = loaded.name;
  out.model_source = loaded.source;
  out.params = loaded.config.param_count();
  if (loaded.synthetic) return loaded.config;
  runtime::TextCodec codec = runtime::TextCodec::for_model(loaded);
  const std::vector<int32_t> prompt_ids = codec.encode_chat(kPrompt);
  runtime::GenerateOptions generate_options;
  generate_options.max_tokens = kGeneratedTokens;
  generate_options.sampling.temperature = 0;
  generate_options.stop_ids = codec.stop_ids(loaded.config);
  exec::Executor executor(loaded.config, loaded.weights,
                          exec::ExecOptions{0, static_cast<int64_t>(prompt_ids.size()) + kGeneratedTokens});
  out.prompt = kPrompt;
  out.generated_text = runtime::generate(executor, codec, prompt_ids, generate_options).text;
  return loaded.config;
}

// Each chip's validated error band for the HTML report: the guard's median |error| of the validation family
// whose ledger rows run on that chip. A checkout without the ledger (or a chip without rows) gets none.
void add_error_bands(report::CompareReport& report) {
  std::vector<validation::Point> points;
  std::map<std::string, double> guard;
  try {
    points = validation::load_points(validation::default_points_path());
    guard = validation::load_guard(validation::default_guard_path());
  } catch (const std::exception&) {
    return;  // no ledger next to this binary: the report says "not validated"
  }
  for (report::ChipResult& result : report.results) {
    for (const validation::Point& point : points) {
      if (point.chip != result.chip.name) continue;
      if (const auto band = guard.find(point.family); band != guard.end()) {
        result.error_band = band->second;
        result.error_band_family = point.family;
      }
      break;
    }
  }
}

nlohmann::json speculative_json(const std::vector<report::SpeculativeChipResult>& results,
                                const report::SpeculativeSpec& spec) {
  nlohmann::json out{{"drafter", spec.drafter},
                     {"draft_tokens", spec.draft_tokens},
                     {"acceptance", spec.acceptance},
                     {"tokens_per_step", spec.expected_tokens_per_step()},
                     {"tokens_per_pass", spec.verify_tokens()},
                     {"chips", nlohmann::json::array()}};
  for (const report::SpeculativeChipResult& r : results) {
    if (!r.error.empty()) {
      out["chips"].push_back({{"chip", r.chip}, {"error", r.error}});
      continue;
    }
    out["chips"].push_back({{"chip", r.chip},
                            {"decode_step_s", r.decode_step_s},
                            {"verify_step_s", r.verify_step_s},
                            {"draft_step_s", r.draft_step_s},
                            {"plain_tpot_s", r.plain_tpot_s},
                            {"spec_tpot_s", r.spec_tpot_s},
                            {"plain_tokens_per_s", r.plain_tokens_per_s},
                            {"spec_tokens_per_s", r.spec_tokens_per_s},
                            {"plain_tokens_per_j", r.plain_tokens_per_j},
                            {"spec_tokens_per_j", r.spec_tokens_per_j},
                            {"speedup", r.speedup()},
                            {"decode_bound", chips::bound_name(r.decode_bound)},
                            {"verify_bound", chips::bound_name(r.verify_bound)},
                            {"break_even_batch", r.break_even_batch},
                            {"largest_batch_costed", r.largest_batch},
                            {"why", r.why}});
  }
  return out;
}

void run_compare(const CompareOptions& options) {
  if (options.json && options.csv) fail("give either --json or --csv, not both");
  if (options.batch < 1) fail("--batch must be >= 1 (got {})", options.batch);
  if (options.prompt_len < 1) fail("--prompt-len must be >= 1 (got {})", options.prompt_len);
  if (options.gen_len < 1) fail("--gen-len must be >= 1 (got {})", options.gen_len);
  if (!options.precision.empty() && !numerics::format_from_name(options.precision))
    fail("--precision: unknown format '{}'; known: {}", options.precision, numerics::format_names_joined());
  // Chips first: a typo in --chips fails before the model is loaded.
  std::vector<chips::ChipSpec> chip_list;
  for (const std::string& name : split_names(options.chips)) {
    chip_list.push_back(chips::load_chip(name));
    // A unified-engine chip file has a second part (the engine) read by its cost model: an error there is
    // invalid input (exit 1), not a chip that "cannot run" this model (a table row).
    const chips::ChipSpec& chip = chip_list.back();
    if (chip.family == chips::Family::UE)
      (void)engine::load_chip(chip.source_path.empty() ? chip.name : chip.source_path);
  }

  report::CompareReport result;
  result.precision = options.precision;
  result.shape = {options.batch, options.prompt_len, options.gen_len};
  report::ProgressBar progress(!options.quiet && report::ProgressBar::stderr_is_terminal(), "compare");
  progress.update(0, chip_list.size() + 1, "loading " + options.model);
  const model::ModelConfig config = prepare_model(options, result);
  chips::CostOptions cost_options;
  cost_options.kv_dtype = options.kv_dtype;
  cost_options.kv_reserve_tokens = options.batch * (options.prompt_len + options.gen_len);
  if (!options.kv_dtype.empty())
    chips::kv_dtype_bytes(options.kv_dtype);  // a typo fails before any chip runs
  const report::CostModelFactory factory = [&](const chips::ChipSpec& chip, const model::ModelConfig& cfg,
                                               const std::string& precision) {
    return make_target_cost_model(chip, cfg, precision, cost_options);
  };
  report::run_compare(result, chip_list, config, factory,
                      [&](size_t done, size_t total, const std::string& chip) {
                        progress.update(done + 1, total + 1, chip);
                      });
  std::vector<report::SpeculativeChipResult> speculative;
  std::optional<report::SpeculativeSpec> spec;
  if (!options.speculative.empty()) {
    spec = speculative_spec(options, config);
    progress.update(chip_list.size(), chip_list.size() + 1, "speculative decoding");
    speculative =
        report::run_speculative_compare(chip_list, config, options.precision, result.shape, *spec, factory);
  }
  progress.finish();
  const bool any_ran = std::any_of(result.results.begin(), result.results.end(),
                                   [](const report::ChipResult& r) { return r.estimate.has_value(); });
  // The table is printed either way; a run in which no chip could run the model is still a failure.
  auto check_any_ran = [&] {
    if (!any_ran)
      fail("compare: none of the {} chips could run {} (see the table)", chip_list.size(), result.model);
  };

  if (!options.html.empty()) {
    add_error_bands(result);
    report::HtmlReport html;
    html.title = fmt::format("xpusim compare: {} on {} chips", result.model, chip_list.size());
    html.compare = result;
    report::write_html(html, options.html);
    if (!options.quiet) fmt::print(stderr, "HTML report written to {}\n", options.html);
  }
  if (options.json) {
    nlohmann::json out = report::to_json(result);
    if (spec) out["speculative"] = speculative_json(speculative, *spec);
    fmt::print("{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return check_any_ran();
  }
  if (options.csv) {
    fmt::print("{}", report::to_csv(result));
    return check_any_ran();
  }
  fmt::print("{} ({} parameters) | batch {}, prompt {}, generate {} | precision {}\n", result.model,
             result.params, options.batch, options.prompt_len, options.gen_len,
             options.precision.empty() ? "each chip's default" : options.precision);
  fmt::print("{}\n", report::format_table(result, isatty(STDOUT_FILENO) == 1));
  for (const std::string& line : report::explain(result)) fmt::print("{}\n", line);
  if (spec) fmt::print("\n{}", report::format_speculative_table(speculative, *spec, options.batch));
  if (!result.generated_text.empty())
    fmt::print("\nThe model's answer to \"{}\" (greedy, same numerics on every chip):\n{}\n", result.prompt,
               result.generated_text);
  else if (!options.quiet)
    fmt::print("\nweights: {}\n", result.model_source);
  check_any_ran();
}

void setup_compare(CLI::App& app) {
  auto options = std::make_shared<CompareOptions>();
  CLI::App* command =
      app.add_subcommand("compare", "Time one model on several chips and explain who wins and why");
  command->footer(
      "Examples:\n"
      "  xpusim compare\n"
      "  xpusim compare --model llama-3.2-1b --chips gpu-h100-sxm,tpu-v5e,lpu-groq --prompt-len 512\n"
      "  xpusim compare --precision fp8-e4m3 --json\n"
      "  xpusim compare --html report.html\n"
      "  xpusim compare --model llama-3.1-8b --speculative draft:llama-3.2-1b --draft-tokens 4 --acceptance "
      "0.7");
  command
      ->add_option("--model,-m", options->model,
                   "Preset name (see `xpusim models`), checkpoint folder or .gguf")
      ->capture_default_str();
  command->add_option("--chips", options->chips, "Comma-separated chip presets or .toml paths (xpusim chips)")
      ->capture_default_str();
  command->add_option("--precision", options->precision,
                      "Weight number format for every chip (xpusim quant --list); default: each chip's own");
  command->add_option("--kv-dtype", options->kv_dtype,
                      "KV-cache type (bf16, fp16, fp8-e4m3, int8, fp32); default: each chip's");
  command->add_option("--batch", options->batch, "Identical requests run together")->capture_default_str();
  command->add_option("--prompt-len", options->prompt_len, "Prompt tokens per request")
      ->capture_default_str();
  command->add_option("--gen-len", options->gen_len, "Generated tokens per request")->capture_default_str();
  add_output_flags(*command, options->json, options->csv, &options->quiet);
  command->add_option("--html", options->html, "Also write a self-contained HTML report to this file");
  command->add_option("--speculative", options->speculative,
                      "Also cost speculative decoding per chip: ngram, self:FORMAT, draft:MODEL or tidar "
                      "(a verify step = one (k+1)-token step plus the draft's steps; docs/speculative.md)");
  command->add_option("--draft-tokens", options->draft_tokens, "With --speculative: draft length k")
      ->capture_default_str();
  command
      ->add_option("--acceptance", options->acceptance,
                   "With --speculative: per-position acceptance a (docs/speculative.md has measured values)")
      ->capture_default_str();
  command->callback([options] { run_compare(*options); });
}

}  // namespace

XPUSIM_REGISTER_COMMAND(setup_compare);

}  // namespace xpusim::cli
