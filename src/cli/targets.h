// Where a chip name becomes something that can be timed: the analytic family models (src/chips) for cpu, gpu,
// tpu, npu and lpu chips, the engine compiler + simulator (src/compiler) for ue chips. Every command that
// times a model on a chip (compare, serve-sim, run --chip) goes through here so the dispatch lives in one
// place.
#pragma once

#include <memory>
#include <string>

#include "chips/chip_spec.h"
#include "chips/cost_model.h"
#include "model/config.h"

namespace xpusim::cli {

std::unique_ptr<chips::CostModel> make_target_cost_model(const chips::ChipSpec& chip,
                                                         const model::ModelConfig& config,
                                                         const std::string& precision);
// With run options (--kv-dtype, a stack): the family models take them; ue chips refuse a KV dtype they cannot
// store (the engine compiler places its own KV cache).
std::unique_ptr<chips::CostModel> make_target_cost_model(const chips::ChipSpec& chip,
                                                         const model::ModelConfig& config,
                                                         const std::string& precision,
                                                         const chips::CostOptions& options);

}  // namespace xpusim::cli
