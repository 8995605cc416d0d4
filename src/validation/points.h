// validation::Point: one row of a validation ledger (validation/points.csv): a public measurement (the
// columns of shared/reference/validation-points.csv) plus the x_* columns that say how xpusim expresses it
// (chip preset, model preset or config folder, weight format, activation and KV dtypes, chip count, replicas,
// software stack, static batch or serving throughput, batch, lengths, requests) or why it cannot (x_skip).
// Any CSV with these columns is a ledger; extra columns are ignored. Non-goals: predicting (predict.h),
// summarising (summary.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xpusim::validation {

// Columns a ledger must have. Ledger columns first, then xpusim's.
const std::vector<std::string>& ledger_columns();
const std::vector<std::string>& xpusim_columns();

enum class Mode { STATIC, SERVING };

struct Point {
  int line = 0;  // 1-based line of the row in its file
  // From the measurement.
  std::string id, family, chip_text, model_text, stack_text, metric, unit, source, notes;
  double measured = 0;
  std::optional<double> measured_power_w;
  // How xpusim runs it.
  std::string chip, model, weights, activations, kv_dtype, stack;
  int chips = 0;     // 0 = the preset's own count (auto-sized LPU systems size themselves)
  int cores = 0;     // cpu: cores (threads) used; 0 = all of the preset's
  int replicas = 1;  // data-parallel copies; throughput metrics are multiplied by this
  Mode mode = Mode::STATIC;
  int64_t batch = 1, input = 128, output = 128;
  bool sharegpt = false;    // serving lengths drawn from the ShareGPT distribution (input/output = max)
  int64_t requests = 0;     // serving: requests queued at t = 0 (0 = 8 x batch)
  int64_t step_tokens = 0;  // serving: tokens per step (0 = 8192)
  std::string skip;         // non-empty: why xpusim cannot express the row
};

// Parses a ledger (RFC 4180 CSV with a header row). `source` names the file in errors, which give the line
// and column of the problem.
std::vector<Point> parse_points(std::string_view csv_text, const std::string& source);
std::vector<Point> load_points(const std::filesystem::path& path);
// RFC 4180 records (quoted fields may hold commas, quotes as "" and newlines); each record with its first
// line.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};
std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& source);

}  // namespace xpusim::validation
