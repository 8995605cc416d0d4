// PLACEHOLDER until the family models land (the chipmodels helper replaces this file).
#include "chips/cost_model.h"

#include "core/error.h"

namespace xpusim::chips {

std::unique_ptr<CostModel> make_cost_model(const ChipSpec& chip, const model::ModelConfig&,
                                           const std::string&) {
  fail("chip '{}': no cost model yet", chip.name);
}

RunEstimate estimate_run(CostModel&, const RunShape&) { fail("estimate_run: not built yet"); }

}  // namespace xpusim::chips
