// Functional semantics of the data-path instructions: one function per instruction, referenced from the
// ISA table (isa_table.cpp). Each computes exactly the engine numerics of engine_numerics.h.
// Control and register instructions are executed by the simulator core (simulator.cpp).
// HOWTO add an op: declare it here, implement it in the ops_<family>.cpp that fits, reference it in its row.
#pragma once

#include "engine/isa.h"
#include "engine/state.h"

namespace xpusim::engine {

void op_dma_load(EngineState& state, const Decoded& instr);
void op_dma_store(EngineState& state, const Decoded& instr);
void op_matmul(EngineState& state, const Decoded& instr);
void op_vadd(EngineState& state, const Decoded& instr);
void op_vsub(EngineState& state, const Decoded& instr);
void op_vmul(EngineState& state, const Decoded& instr);
void op_vmax(EngineState& state, const Decoded& instr);
void op_vact(EngineState& state, const Decoded& instr);
void op_vreduce(EngineState& state, const Decoded& instr);
void op_softmax(EngineState& state, const Decoded& instr);
void op_context(EngineState& state, const Decoded& instr);
void op_transpose(EngineState& state, const Decoded& instr);
void op_quantize(EngineState& state, const Decoded& instr);
void op_dequantize(EngineState& state, const Decoded& instr);
void op_topk(EngineState& state, const Decoded& instr);

// Effective row strides (0 in the descriptor means the natural width).
inline int64_t stride_or(int64_t stride, int64_t natural) { return stride == 0 ? natural : stride; }

}  // namespace xpusim::engine
