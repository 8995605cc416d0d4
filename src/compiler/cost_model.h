// compiler::make_engine_cost_model: the chips::CostModel of a unified-engine chip (family ue). Each step is
// compiled for the model and timed by the engine's cycle-level simulator (timing-only), so its figures are
// the same the functional simulation would report. Non-goals: generating text (compiler/engine_runner.h runs
// programs functionally).
#pragma once

#include <memory>
#include <string>

#include "chips/chip_spec.h"
#include "chips/cost_model.h"
#include "model/config.h"

namespace xpusim::compiler {

// precision: numerics format of the weights (an ue-* format, bf16, ...); empty = the chip's default.
// Throws xpusim::Error (naming the layer and the limit) when the model cannot be compiled for the chip.
std::unique_ptr<chips::CostModel> make_engine_cost_model(const chips::ChipSpec& chip,
                                                         const model::ModelConfig& config,
                                                         const std::string& precision);

}  // namespace xpusim::compiler
