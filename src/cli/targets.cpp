#include "cli/targets.h"

#include "compiler/cost_model.h"
#include "core/error.h"

namespace xpusim::cli {

std::unique_ptr<chips::CostModel> make_target_cost_model(const chips::ChipSpec& chip,
                                                         const model::ModelConfig& config,
                                                         const std::string& precision) {
  if (chip.family == chips::Family::UE) return compiler::make_engine_cost_model(chip, config, precision);
  return chips::make_cost_model(chip, config, precision);
}

std::unique_ptr<chips::CostModel> make_target_cost_model(const chips::ChipSpec& chip,
                                                         const model::ModelConfig& config,
                                                         const std::string& precision,
                                                         const chips::CostOptions& options) {
  if (chip.family == chips::Family::UE) {
    if (!options.kv_dtype.empty())
      fail("chip '{}' (family ue): --kv-dtype is not supported (the engine compiler places its KV cache)",
           chip.name);
    return compiler::make_engine_cost_model(chip, config, precision);
  }
  return chips::make_cost_model(chip, config, precision, options);
}

}  // namespace xpusim::cli
