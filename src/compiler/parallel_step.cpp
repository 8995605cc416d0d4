#include "compiler/parallel_step.h"

#include <algorithm>

#include "compiler/step_timing.h"
#include "core/error.h"

namespace xpusim::compiler {

size_t StepPrograms::max_instructions() const {
  size_t most = 0;
  for (const CompiledProgram& p : engines) most = std::max(most, p.program.size());
  return most;
}

int64_t engines_for(const model::ModelConfig& config, const engine::ChipConfig& chip, int64_t requested) {
  if (requested < 0 || requested > chip.engines)
    fail("--engines {}: chip {} has {} engine{}", requested, chip.name, chip.engines,
         chip.engines == 1 ? "" : "s");
  if (config.is_moe()) return 1;
  return requested == 0 ? chip.engines : requested;
}

StepPrograms compile_step_programs(const DramPlan& plan, const engine::ChipConfig& chip,
                                   const StepRequest& step) {
  StepPrograms out;
  for (int64_t e = 0; e < chip.engines; ++e)
    out.engines.push_back(compile_step(plan, chip, step, EngineShard{e, chip.engines}));
  return out;
}

StepPrograms compile_generic_step_programs(const DramPlan& plan, const engine::ChipConfig& chip,
                                           int64_t rows) {
  StepPrograms out;
  for (int64_t e = 0; e < chip.engines; ++e)
    out.engines.push_back(compile_generic_step(plan, chip, rows, EngineShard{e, chip.engines}));
  return out;
}

engine::RunResult run_step_programs(engine::Simulator& sim, const StepPrograms& programs) {
  for (size_t e = 0; e < programs.engines.size(); ++e)
    sim.load_program(static_cast<int>(e), programs.engines[e].program);
  return sim.run();
}

chips::StepCost step_cost_from_programs(const engine::ChipConfig& chip, const StepPrograms& programs,
                                        const engine::RunResult& run) {
  return step_cost_from_run(chip, std::span<const CompiledProgram>(programs.engines), run);
}

}  // namespace xpusim::compiler
