// `xpusim sweep SPEC.toml`: a design-space study (docs/sweep.md). The spec's points are evaluated in-process
// on local threads through the same cost-model dispatch as `compare` (cli/targets.h); the rows go to CSV or
// JSON, the fronts to an HTML page, and a summary (best points under the constraints) to the terminal.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "cli/command.h"
#include "cli/targets.h"
#include "core/error.h"
#include "report/progress.h"
#include "sweep/evaluate.h"
#include "sweep/html.h"
#include "sweep/output.h"

namespace xpusim::cli {
namespace {

struct SweepOptions {
  std::string spec_path, json_path, csv_path, html_path;
  int workers = 0;
  bool quiet = false;
};

void write_file(const std::string& path, const std::string& text) {
  if (path == "-") {
    fmt::print("{}", text);
    return;
  }
  std::ofstream out(path, std::ios::binary);
  if (!out) fail("cannot write '{}'", path);
  out << text;
  if (!out) fail("error writing '{}'", path);
}

void run_sweep(const SweepOptions& options) {
  if (options.workers < 0) fail("--workers must be >= 0 (0 = all cores; got {})", options.workers);
  const sweep::SweepSpec spec = sweep::load_spec(options.spec_path);
  const sweep::SweepEvaluator evaluator(
      spec,
      [](const chips::ChipSpec& chip, const model::ModelConfig& config, const std::string& precision,
         const chips::CostOptions& cost) { return make_target_cost_model(chip, config, precision, cost); });
  report::ProgressBar progress(!options.quiet && report::ProgressBar::stderr_is_terminal(), "sweep");
  const sweep::SweepResult result = evaluator.run(options.workers, [&](size_t done, size_t total) {
    progress.update(done, total, fmt::format("{} points", done));
  });
  progress.finish();
  if (!options.csv_path.empty()) write_file(options.csv_path, sweep::to_csv(result));
  if (!options.json_path.empty())
    write_file(options.json_path,
               sweep::to_json(result).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  if (!options.html_path.empty()) write_file(options.html_path, sweep::to_html(result));
  const bool stdout_taken = options.csv_path == "-" || options.json_path == "-" || options.html_path == "-";
  if (!options.quiet) fmt::print(stdout_taken ? stderr : stdout, "{}", sweep::summary_text(result));
}

void setup_sweep(CLI::App& app) {
  auto options = std::make_shared<SweepOptions>();
  CLI::App* command = app.add_subcommand(
      "sweep", "Design-space sweep: many models x chips x chip-key overrides x run shapes, Pareto fronts");
  command->footer(
      "Examples:\n"
      "  xpusim sweep examples/sweep-h100-like.toml --csv points.csv --html front.html\n"
      "  xpusim sweep study.toml --json - --workers 2 -q\n"
      "The spec format is in docs/sweep.md.");
  command->add_option("spec", options->spec_path, "Sweep spec (TOML; docs/sweep.md)")->required();
  command->add_option("--json", options->json_path,
                      "Write every row, the front and the best points as JSON (- = stdout)");
  command->add_option("--csv", options->csv_path, "Write one CSV row per point (- = stdout)");
  command->add_option("--html", options->html_path,
                      "Write a self-contained HTML page with the Pareto front(s)");
  command->add_option("--workers,-j", options->workers, "Local worker threads (0 = all cores)")
      ->capture_default_str();
  command->add_flag("--quiet,-q", options->quiet, "No progress bar or summary");
  command->callback([options] { run_sweep(*options); });
}

}  // namespace

XPUSIM_REGISTER_COMMAND(setup_sweep);

}  // namespace xpusim::cli
