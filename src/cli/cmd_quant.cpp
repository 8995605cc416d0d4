// `xpusim quant --model M --formats f1,f2,... [--json]`: what each number format costs in accuracy on a real
// model (quant_eval.h): bits per weight, model bytes, weight MSE/SQNR (overall and worst tensors), logit KL
// and top-1 agreement vs bf16 over a fixed prompt set, and perplexity on a fixed English text. `xpusim quant
// --list` prints the format table (one line per row of numerics/format_table.cpp).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>

#include "cli/command.h"
#include "cli/quant_eval.h"
#include "core/error.h"
#include "numerics/format_table.h"
#include "report/progress.h"
#include "report/table.h"

namespace xpusim::cli {
namespace {

// Default set: the 8-bit and 4-bit weight formats worth comparing (element-only casts like int4 are left out:
// without a scale they zero most weights).
constexpr const char* kDefaultFormats =
    "fp8-e4m3-sat,q8_0,mxfp8,ue-int8,ue-if8,nvfp4,nvfp4-4o6,if4,mxfp4,mxfp4-ceil,ue-int4,ue-fp4,ue-if4,q4_0";

struct QuantCliOptions {
  std::string model = "smollm2-135m";
  std::string formats = kDefaultFormats;
  std::string embeddings = "keep";
  int64_t text_tokens = 256;
  int threads = 0;
  bool json = false;
  bool csv = false;
  bool quiet = false;
  bool list = false;
};

std::vector<numerics::Format> parse_formats(const std::string& list) {
  std::vector<numerics::Format> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, comma - start);
    if (!name.empty()) {
      const auto format = numerics::format_from_name(name);
      if (!format) fail("--formats: unknown format '{}'; known: {}", name, numerics::format_names_joined());
      out.push_back(*format);
    }
    start = comma + 1;
  }
  if (out.empty()) fail("--formats: no format given; known: {}", numerics::format_names_joined());
  return out;
}

void print_list(bool csv) {
  if (csv) fmt::print("{}", report::csv_row({"format", "bits_per_element", "description"}));
  for (const numerics::FormatRow& row : numerics::format_rows()) {
    if (csv) {
      fmt::print("{}", report::csv_row({std::string(row.name), fmt::format("{}", row.bits_per_element()),
                                        std::string(row.description)}));
      continue;
    }
    fmt::print("{:<14} {:>6.4g} bits  {}\n", row.name, row.bits_per_element(), row.description);
  }
}

nlohmann::json to_json(const QuantEvalResult& result) {
  nlohmann::json formats = nlohmann::json::array();
  for (const FormatReport& r : result.reports) {
    nlohmann::json worst = nlohmann::json::array();
    for (const TensorError& t : r.worst)
      worst.push_back({{"tensor", t.name}, {"mse", t.mse}, {"sqnr_db", t.sqnr_db}});
    formats.push_back(
        {{"format", r.format},
         {"bits_per_weight", r.bits_per_weight},
         {"model_bytes", r.model_bytes},
         {"weight_mse", r.weight_mse},
         {"weight_sqnr_db", std::isfinite(r.weight_sqnr_db) ? nlohmann::json(r.weight_sqnr_db) : nullptr},
         {"worst_tensors", worst},
         {"logit_kl", r.logit_kl},
         {"top1_agreement", r.top1_agreement},
         {"perplexity", r.perplexity},
         {"seconds", r.seconds}});
  }
  return {{"model", result.model},
          {"source", result.source},
          {"text", result.text_source},
          {"text_tokens", result.text_tokens},
          {"prompt_positions", result.prompt_positions},
          {"formats", formats}};
}

// One row per format (bf16 reference first); numbers unrounded, the worst tensor by name and SQNR.
void print_csv(const QuantEvalResult& result) {
  fmt::print("{}", report::csv_row({"format", "bits_per_weight", "model_bytes", "weight_mse",
                                    "weight_sqnr_db", "logit_kl", "top1_agreement", "perplexity",
                                    "worst_tensor", "worst_tensor_sqnr_db", "seconds"}));
  for (const FormatReport& r : result.reports) {
    fmt::print("{}", report::csv_row({r.format, fmt::format("{}", r.bits_per_weight),
                                      fmt::format("{}", r.model_bytes), fmt::format("{}", r.weight_mse),
                                      fmt::format("{}", r.weight_sqnr_db), fmt::format("{}", r.logit_kl),
                                      fmt::format("{}", r.top1_agreement), fmt::format("{}", r.perplexity),
                                      r.worst.empty() ? "" : r.worst[0].name,
                                      r.worst.empty() ? "" : fmt::format("{}", r.worst[0].sqnr_db),
                                      fmt::format("{}", r.seconds)}));
  }
}

void print_table(const QuantEvalResult& result) {
  fmt::print("model {} ({})\n", result.model, result.source);
  fmt::print("logits: {} positions over {} fixed prompts; perplexity: first {} tokens of {}\n",
             result.prompt_positions, quant_prompts().size(), result.text_tokens, result.text_source);
  fmt::print("{:<14} {:>8} {:>11} {:>10} {:>9} {:>10} {:>7} {:>9}  {}\n", "format", "bits/w", "model MB",
             "w MSE", "w SQNR", "KL", "top-1", "ppl", "worst tensor (SQNR dB)");
  for (const FormatReport& r : result.reports) {
    const std::string worst =
        r.worst.empty() ? "-" : fmt::format("{} ({:.2f})", r.worst[0].name, r.worst[0].sqnr_db);
    fmt::print("{:<14} {:>8.3f} {:>11.2f} {:>10.3g} {:>9.2f} {:>10.4g} {:>7.3f} {:>9.3f}  {}\n", r.format,
               r.bits_per_weight, r.model_bytes / 1e6, r.weight_mse, r.weight_sqnr_db, r.logit_kl,
               r.top1_agreement, r.perplexity, worst);
  }
}

void run_quant(const QuantCliOptions& options) {
  if (options.json && options.csv) fail("give either --json or --csv, not both");
  if (options.list) {
    print_list(options.csv);
    return;
  }
  if (options.threads < 0) fail("--threads must be >= 0 (got {})", options.threads);
  if (options.embeddings != "keep" && options.embeddings != "quantize") {
    fail("--embeddings must be 'keep' or 'quantize' (got '{}')", options.embeddings);
  }
  QuantEvalOptions eval;
  eval.formats = parse_formats(options.formats);
  eval.quantize_embeddings = options.embeddings == "quantize";
  eval.text_tokens = options.text_tokens;
  eval.threads = options.threads;
  report::ProgressBar progress(!options.quiet && report::ProgressBar::stderr_is_terminal(), "quant");
  progress.update(0, eval.formats.size() + 2, "loading " + options.model);
  const model::LoadedModel loaded = model::load_model(options.model);
  eval.on_progress = [&](size_t done, size_t total, const std::string& what) {
    progress.update(done + 1, total + 1, what);
  };
  if (loaded.synthetic && !options.json && !options.quiet) {
    progress.finish();
    fmt::print(stderr, "note: no real weights for '{}' here; measuring {} weights of its shape.\n",
               loaded.name, loaded.source);
  }
  const QuantEvalResult result = evaluate_formats(loaded, eval);
  progress.finish();
  if (options.json) {
    fmt::print("{}\n", to_json(result).dump(2));
  } else if (options.csv) {
    print_csv(result);
  } else {
    print_table(result);
  }
}

void setup_quant(CLI::App& app) {
  auto options = std::make_shared<QuantCliOptions>();
  CLI::App* cmd =
      app.add_subcommand("quant", "Quantize a model into number formats and measure the accuracy cost");
  cmd->add_option("--model", options->model, "preset name or checkpoint path (default smollm2-135m)");
  cmd->add_option("--formats", options->formats, "comma-separated format names (xpusim quant --list)");
  cmd->add_option("--embeddings", options->embeddings, "token embeddings / LM head: keep (bf16) or quantize");
  cmd->add_option("--text-tokens", options->text_tokens, "perplexity text length in tokens (default 256)");
  cmd->add_option("--threads", options->threads, "threads (0 = all)");
  add_output_flags(*cmd, options->json, options->csv, &options->quiet);
  cmd->add_flag("--list", options->list, "list the number formats and exit");
  cmd->callback([options] { run_quant(*options); });
}

}  // namespace

XPUSIM_REGISTER_COMMAND(setup_quant);

}  // namespace xpusim::cli
