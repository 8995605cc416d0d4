#include "cli/targets.h"

#include "compiler/cost_model.h"

namespace xpusim::cli {

std::unique_ptr<chips::CostModel> make_target_cost_model(const chips::ChipSpec& chip,
                                                         const model::ModelConfig& config,
                                                         const std::string& precision) {
  if (chip.family == chips::Family::UE) return compiler::make_engine_cost_model(chip, config, precision);
  return chips::make_cost_model(chip, config, precision);
}

}  // namespace xpusim::cli
