#include "compiler/runtime_registers.h"

#include "compiler/emitter.h"
#include "compiler/memory_plan.h"

namespace xpusim::compiler {

void emit_runtime_prologue(Emitter& emit, const DramPlan& plan, int64_t rows) {
  const model::ModelConfig& c = plan.config;
  emit.set_runtime_register(kPositionRegister, 0, static_cast<uint32_t>(plan.shape.kv_capacity - rows));
  emit.set_runtime_register(kNewTokensRegister, 1, static_cast<uint32_t>(rows));
  emit.begin_group("control", "runtime_registers", -1);
  emit.scalar_imm(engine::Opcode::muli, kRopeOffsetRegister, kPositionRegister, c.head_dim);
  emit.scalar_imm(engine::Opcode::muli, kKvOffsetRegister, kPositionRegister, c.head_dim * 2);
  emit.scalar_imm(engine::Opcode::addi, kLastRowRegister, kNewTokensRegister, -1);
  emit.scalar_imm(engine::Opcode::muli, kLastRowRegister, kLastRowRegister, c.hidden * 2);
}

}  // namespace xpusim::compiler
