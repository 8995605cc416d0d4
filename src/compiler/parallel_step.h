// compiler::StepPrograms: one forward step compiled for every engine of a tensor-parallel step (the split
// and the barriers are described in compiler/tensor_parallel.h), loaded onto the simulator's engines and
// costed as one step. One engine is the degenerate case (one program, no barriers): the same code path.
// Non-goals: choosing the engine count (runners and the cost model do, with engines_for()), run-time
// registers (runners set them on every engine).
#pragma once

#include <cstdint>
#include <vector>

#include "chips/cost_model.h"
#include "compiler/emitter.h"
#include "compiler/lower_step.h"
#include "compiler/memory_plan.h"
#include "engine/chip_config.h"
#include "engine/simulator.h"
#include "model/config.h"

namespace xpusim::compiler {

struct StepPrograms {
  std::vector<CompiledProgram> engines;  // index = engine
  size_t max_instructions() const;       // the largest engine program
};

// Engines a model's steps are split over on `chip`: `requested` (0: all of the chip's engines), 1 for MoE
// models (expert parallelism is not compiled). xpusim::Error when requested exceeds the chip's engines.
int64_t engines_for(const model::ModelConfig& config, const engine::ChipConfig& chip, int64_t requested);

// compile_step for engines 0 .. chip.engines - 1 (the chip passed in decides how many engines).
StepPrograms compile_step_programs(const DramPlan& plan, const engine::ChipConfig& chip,
                                   const StepRequest& step);
StepPrograms compile_generic_step_programs(const DramPlan& plan, const engine::ChipConfig& chip,
                                           int64_t rows);

// Loads every engine's program and runs them together (after Simulator::restart() where needed).
engine::RunResult run_step_programs(engine::Simulator& sim, const StepPrograms& programs);

chips::StepCost step_cost_from_programs(const engine::ChipConfig& chip, const StepPrograms& programs,
                                        const engine::RunResult& run);

}  // namespace xpusim::compiler
