// Running a ledger and summarising it: per row measured / predicted / signed error, per family the runnable
// rows, median |error|, worst row and the rows that could not run (with why); rendered as a text table, JSON,
// CSV, Markdown (docs/validation.md) or a standalone HTML page. The regression guard (validation/guard.toml)
// records the highest median |error| each family may have. Non-goals: the predictions (predict.h).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "validation/points.h"
#include "validation/predict.h"

namespace xpusim::validation {

struct RowResult {
  Point point;
  Prediction prediction;
};

struct FamilySummary {
  std::string family;
  int rows = 0, runnable = 0;
  double median_abs_error = 0;  // over runnable rows
  double worst_error = 0;       // signed, largest |error|
  std::string worst_id;
  std::vector<std::string> unrunnable;  // "V049: why"
};

struct ValidationRun {
  std::string ledger;  // file it came from
  std::vector<RowResult> rows;
  std::vector<FamilySummary> families;  // sorted by name
  int runnable = 0;
  double seconds = 0;  // host wall time of the predictions
};

// Predicts every point whose family matches `family` (empty = all).
ValidationRun run_validation(const std::vector<Point>& points, const std::string& ledger,
                             const std::string& family);
std::vector<FamilySummary> summarise(const std::vector<RowResult>& rows);
// Error bands for predictions outside validate: family -> summary of that family's points (the committed
// ledger).
double median(std::vector<double> values);

std::string render_text(const ValidationRun& run);
std::string render_json(const ValidationRun& run);
std::string render_csv(const ValidationRun& run);
std::string render_markdown(const ValidationRun& run);
std::string render_html(const ValidationRun& run);

// validation/guard.toml: [median_abs_error_max] <family> = fraction. Returns one message per family whose
// median |error| is above its recorded figure (empty = the guard holds); xpusim::Error when the file is bad.
std::map<std::string, double> load_guard(const std::filesystem::path& path);
std::vector<std::string> guard_violations(const ValidationRun& run,
                                          const std::map<std::string, double>& guard);

// The committed ledger and guard: <source dir>/validation/{points.csv,guard.toml} ($XPUSIM_DATA_DIR first).
std::filesystem::path default_points_path();
std::filesystem::path default_guard_path();

}  // namespace xpusim::validation
