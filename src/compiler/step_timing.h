// compiler::time_step: runs a compiled step program on the engine simulator (timing-only or functional)
// and turns the result into chips::StepCost figures attributed per op group: an op's time is how far it
// moves the end of the critical path (the latest `ready` cycle of its instructions beyond everything before
// it), so the per-op times add up to the simulated cycles; its bytes, MACs and energy come from the
// simulator's own operand plans; its bound compares its time with its DRAM and compute times.
// Non-goals: choosing what to compile (cost_model.cpp, runners).
#pragma once

#include <span>

#include "chips/cost_model.h"
#include "compiler/emitter.h"
#include "engine/chip_config.h"
#include "engine/simulator.h"

namespace xpusim::compiler {

// Achievable DRAM bandwidth of the chip (bytes/s): the channel or the DMA ports, times burst efficiency.
double achievable_dram_bandwidth(const engine::ChipConfig& chip);

// Per-op costs from a simulation result that recorded its trace (RunOptions::record_trace).
chips::StepCost step_cost_from_run(const engine::ChipConfig& chip, const CompiledProgram& compiled,
                                   const engine::RunResult& run);
// The same for one program per engine (a tensor-parallel step): time attributed along engine 0's program,
// work (MACs, bytes, energy) summed over all engines' op groups.
chips::StepCost step_cost_from_run(const engine::ChipConfig& chip, std::span<const CompiledProgram> programs,
                                   const engine::RunResult& run);

}  // namespace xpusim::compiler
