// A sweep's rows as CSV or JSON: one row per point (its configuration, every run-report counter, the
// objectives, whether it meets the constraints and lies on the Pareto front), then (JSON) the front and the
// best points per constraint. Numbers are printed shortest-round-trip, so the same rows always give the same
// bytes.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <variant>
#include <vector>

#include "sweep/evaluate.h"

namespace xpusim::sweep {

using Cell = std::variant<std::monostate, std::string, double, int64_t, bool>;

std::vector<std::string> column_names(const SweepResult& result);
std::vector<Cell> row_cells(const SweepResult& result, size_t row);
// The point's configuration in words ("llama-3.2-1b on gpu-h100-sxm[...], fp8-e4m3, kv default, 128+128,
// batch 8").
std::string describe_point(const SweepResult& result, size_t row);

std::string to_csv(const SweepResult& result);
nlohmann::json to_json(const SweepResult& result);
// A short plain-text summary: points, how many ran / meet the constraints / are on the front, the best
// points.
std::string summary_text(const SweepResult& result);

}  // namespace xpusim::sweep
