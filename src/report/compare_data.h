// report::CompareReport: the plain data of one `xpusim compare` run (model, run shape, one result per chip,
// the generated text) and run_compare(), which fills it through any CostModel factory. Everything the
// terminal table, JSON/CSV and the HTML report show is read from this struct, so the renderers never call a
// cost model themselves and tests can feed them a fake one.
// Non-goals: choosing chips or loading models (src/cli/cmd_compare.cpp), text generation (runtime).
// HOWTO add a column: add the figure to chips::RunEstimate (or derive it here), then one entry in
// table.cpp's column list; JSON and CSV follow from that list.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chips/chip_spec.h"
#include "chips/cost_model.h"
#include "model/config.h"

namespace xpusim::report {

struct ChipResult {
  chips::ChipSpec chip;
  std::optional<chips::RunEstimate> estimate;  // absent when the chip's model threw
  std::string error;                           // why there is no estimate
  // The validated error band of the chip's figures: the median |error| recorded for the validation family
  // whose ledger rows run on this chip (validation/guard.toml); 0 = no validation rows for this chip.
  double error_band = 0;
  std::string error_band_family;  // "gpu-datacenter"
};

struct CompareReport {
  std::string model;         // preset or checkpoint name
  std::string model_source;  // checkpoint path, or "config only (no weights loaded)"
  int64_t params = 0;
  std::string precision;  // requested weight format, empty = each chip's default
  chips::RunShape shape;
  std::string prompt;          // the prompt used for the generated text (empty when none was generated)
  std::string generated_text;  // greedy host generation, identical on every chip sharing the numerics
  std::string version = XPUSIM_VERSION;
  std::vector<ChipResult> results;
};

using CostModelFactory = std::function<std::unique_ptr<chips::CostModel>(
    const chips::ChipSpec&, const model::ModelConfig&, const std::string& precision)>;
// Called after each chip with (done, total, chip name).
using ProgressFn = std::function<void(size_t, size_t, const std::string&)>;

// Estimates `shape` on every chip. A chip whose factory or step throws xpusim::Error (or any std::exception)
// gets a ChipResult with the message instead of an estimate; the others still run.
void run_compare(CompareReport& report, const std::vector<chips::ChipSpec>& chips,
                 const model::ModelConfig& config, const CostModelFactory& factory,
                 const ProgressFn& progress = {});

// Index of the fastest (highest tokens/s) and most efficient (highest tokens/J) chips; nullopt when no
// chip has an estimate.
std::optional<size_t> fastest_chip(const CompareReport& report);
std::optional<size_t> most_efficient_chip(const CompareReport& report);

// Plain-language explanation, computed from the numbers: why the fastest and the most efficient chips win,
// and what bounds the others. One sentence per element.
std::vector<std::string> explain(const CompareReport& report);

}  // namespace xpusim::report
