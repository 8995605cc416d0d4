// PLACEHOLDER until the compiler lands (the compiler helper replaces this file).
#include "compiler/cost_model.h"

#include "core/error.h"

namespace xpusim::compiler {

std::unique_ptr<chips::CostModel> make_engine_cost_model(const chips::ChipSpec& chip,
                                                         const model::ModelConfig&, const std::string&) {
  fail("chip '{}': the engine compiler is not built yet", chip.name);
}

}  // namespace xpusim::compiler
