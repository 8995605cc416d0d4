#include "report/compare_data.h"

#include <exception>

#include "core/error.h"

namespace xpusim::report {

void run_compare(CompareReport& report, const std::vector<chips::ChipSpec>& chip_list,
                 const model::ModelConfig& config, const CostModelFactory& factory,
                 const ProgressFn& progress) {
  report.results.clear();
  for (size_t i = 0; i < chip_list.size(); ++i) {
    ChipResult result;
    result.chip = chip_list[i];
    try {
      std::unique_ptr<chips::CostModel> model = factory(chip_list[i], config, report.precision);
      if (!model) fail("{}: no cost model for this chip", chip_list[i].name);
      result.estimate = chips::estimate_run(*model, report.shape);
    } catch (const std::exception& error) {
      // One chip that cannot run (KV does not fit, model not implemented) must not kill the table.
      result.error = error.what();
    }
    report.results.push_back(std::move(result));
    if (progress) progress(i + 1, chip_list.size(), chip_list[i].name);
  }
}

namespace {
template <typename Key>
std::optional<size_t> best_by(const CompareReport& report, Key key) {
  std::optional<size_t> best;
  for (size_t i = 0; i < report.results.size(); ++i) {
    if (!report.results[i].estimate) continue;
    if (!best || key(*report.results[i].estimate) > key(*report.results[*best].estimate)) best = i;
  }
  return best;
}
}  // namespace

std::optional<size_t> fastest_chip(const CompareReport& report) {
  return best_by(report, [](const chips::RunEstimate& e) { return e.tokens_per_s; });
}

std::optional<size_t> most_efficient_chip(const CompareReport& report) {
  return best_by(report, [](const chips::RunEstimate& e) { return e.tokens_per_joule; });
}

}  // namespace xpusim::report
