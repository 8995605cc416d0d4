// `xpusim validate`: predicts every row of a validation ledger (validation/points.csv: public measurements
// plus how xpusim expresses each one) in-process and prints measured, predicted and signed error per row and,
// per chip family, the runnable rows, median |error|, worst row and the rows it could not run. --markdown
// prints the tables of docs/validation.md (scripts/make-validation.sh); --check fails when a family's median
// |error| is above the figure recorded in validation/guard.toml.
#include <fmt/format.h>

#include <fstream>
#include <memory>

#include "cli/command.h"
#include "core/error.h"
#include "validation/summary.h"

namespace xpusim::cli {
namespace {

struct ValidateOptions {
  std::string points, family, html, guard;
  bool json = false, csv = false, markdown = false, check = false;
};

void run_validate(const ValidateOptions& options) {
  if (static_cast<int>(options.json) + static_cast<int>(options.csv) + static_cast<int>(options.markdown) > 1)
    fail("give one of --json, --csv, --markdown");
  const std::filesystem::path path =
      options.points.empty() ? validation::default_points_path() : std::filesystem::path(options.points);
  const std::vector<validation::Point> points = validation::load_points(path);
  const validation::ValidationRun run = validation::run_validation(points, path.string(), options.family);
  if (options.json)
    fmt::print("{}", validation::render_json(run));
  else if (options.csv)
    fmt::print("{}", validation::render_csv(run));
  else if (options.markdown)
    fmt::print("{}", validation::render_markdown(run));
  else
    fmt::print("{}", validation::render_text(run));
  if (!options.html.empty()) {
    std::ofstream out(options.html, std::ios::binary);
    if (!out) fail("--html: cannot write '{}'", options.html);
    out << validation::render_html(run);
    if (!out) fail("--html: writing '{}' failed", options.html);
  }
  if (options.check) {
    const std::filesystem::path guard_path =
        options.guard.empty() ? validation::default_guard_path() : std::filesystem::path(options.guard);
    const auto violations = validation::guard_violations(run, validation::load_guard(guard_path));
    if (!violations.empty())
      fail("validation guard ({}): {}", guard_path.string(), fmt::join(violations, "; "));
  }
}

void setup_validate(CLI::App& app) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* command =
      app.add_subcommand("validate", "Check the chip models against a ledger of public measurements");
  command->footer(
      "Examples:\n"
      "  xpusim validate                       # the committed ledger, validation/points.csv\n"
      "  xpusim validate --family gpu-datacenter --html validation.html\n"
      "  xpusim validate --points my-points.csv --json\n"
      "Columns of a ledger and how each row is run: docs/validation.md.");
  command->add_option("--points", options->points, "Ledger CSV (default: validation/points.csv)");
  command->add_option("--family", options->family,
                      "Only rows of this family (gpu-datacenter, tpu, npu, ...)");
  add_output_flags(*command, options->json, options->csv);
  command->add_flag("--markdown", options->markdown, "Print the Markdown tables of docs/validation.md");
  command->add_option("--html", options->html, "Also write a standalone HTML page here");
  command->add_flag("--check", options->check,
                    "Fail when a family's median |error| is above validation/guard.toml (or --guard)");
  command->add_option("--guard", options->guard, "Guard file for --check");
  command->callback([options] { run_validate(*options); });
}

}  // namespace

XPUSIM_REGISTER_COMMAND(setup_validate);

}  // namespace xpusim::cli
