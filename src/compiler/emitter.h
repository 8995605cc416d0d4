// compiler::Emitter: the compiler's front end to engine::ProgramBuilder. It resolves plain SRAM/DRAM byte
// addresses into register + offset operands (loading base registers when an address is beyond an operand's
// offset field), tracks register values so every data instruction is validated at compile time by the
// simulator's own operand planner (engine::plan_op), and tags each instruction with the graph-level op group
// it implements ("linear blk.3.attn_q") so simulated time, bytes and energy can be attributed per op.
// Run-time registers (runtime_registers.h): an operand may be a byte offset from a register the host sets
// before each run (Loc{reg, offset}). The emitter tracks every register at two extremes (the lowest and the
// highest run-time values, set_runtime_register) and validates each data instruction at both; addresses
// advanced inside a loop body are checked at the first iteration only and otherwise by the simulator's own
// run-time operand checks (an out-of-range operand faults cleanly, naming PC and cause).
// Non-goals: choosing tiles or memory layouts (lower_*.cpp), running programs (cost_model.cpp, runner).
// HOWTO add an instruction helper: forward to the builder, then call note() with the Decoded fields so the
// operand check and the group counters see it; scalar ops go through scalar() so both tracked states follow.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/chip_config.h"
#include "engine/program.h"
#include "engine/state.h"

namespace xpusim::compiler {

// One graph-level op (or fused group) of a compiled step: its instructions and their static counters.
struct OpGroup {
  std::string op_type;  // graph::op_name spelling ("linear", "attention", "rms_norm", ...)
  std::string label;    // "blk.3.attn_q"
  int32_t layer = -1;
  uint64_t macs = 0, vector_elements = 0, dram_read_bytes = 0, dram_write_bytes = 0, sram_bytes = 0;
  int64_t instructions = 0;
};

struct CompiledProgram {
  engine::Program program;
  std::vector<OpGroup> groups;
  std::vector<int32_t> group_of_pc;  // one entry per instruction
};

// An operand address: an absolute byte address, or (reg != 0) a byte offset from the run-time value of
// register `reg`. Plain integers convert to absolute addresses.
struct Loc {
  uint64_t address = 0;
  int reg = 0;
  Loc() = default;
  Loc(uint64_t absolute) : address(absolute) {}  // NOLINT(google-explicit-constructor): plain addresses
  Loc(int base_register, uint64_t offset) : address(offset), reg(base_register) {}
};

class Emitter {
 public:
  explicit Emitter(const engine::ChipConfig& chip);

  const engine::ChipConfig& chip() const { return *m_state.chip; }
  // Starts a new op group; instructions emitted from now on belong to it.
  void begin_group(std::string op_type, std::string label, int32_t layer);

  // Data movement (addresses are absolute byte addresses).
  void dma_load(Loc dram, Loc sram, int64_t rows, int64_t row_bytes, int64_t dram_stride = 0,
                int64_t sram_stride = 0);
  void dma_store(Loc dram, Loc sram, int64_t rows, int64_t row_bytes, int64_t dram_stride = 0,
                 int64_t sram_stride = 0);
  // Compute: the Addr fields of the argument structs are ignored; give SRAM byte addresses instead.
  struct MatmulOperands {
    Loc a, b, c, s, bias;
  };
  void mm(const MatmulOperands& where, engine::MatmulArgs args);
  struct VectorOperands {
    Loc a, b, c, s;
  };
  void vbinary(engine::Opcode op, const VectorOperands& where, engine::VectorArgs args);
  void vact(const VectorOperands& where, engine::VectorArgs args, engine::ActivationPreset act);
  void vred(const VectorOperands& where, engine::VectorArgs args, engine::ReduceMode mode);
  void softmax(const VectorOperands& where, engine::VectorArgs args, engine::SoftmaxMode mode,
               int64_t ctx = 0);
  void ctx(engine::ContextMode mode, Loc c, int64_t first, int64_t count);
  void vtrans(const VectorOperands& where, engine::VectorArgs args);
  void topk(const VectorOperands& where, engine::VectorArgs args, int64_t k);
  // Packed codes at b + scales at s (codebook first) -> bf16 rows at c.
  void dequant(const VectorOperands& where, engine::VectorArgs args, engine::WeightFormat format);
  void halt();
  // Semaphores (multi-engine barriers, compiler/tensor_parallel.h).
  void sem_set(int sem);
  void sem_clr(int sem);
  void sem_wait(int sem, bool until_clear, int64_t timeout_cycles);

  // Run-time registers: the host sets `reg` before each run to a value in [lowest, highest].
  void set_runtime_register(int reg, uint32_t lowest, uint32_t highest);
  // Scalar ops (li, add/sub/mul/min/max with rt, addi/muli/shl/shr with imm); tracked at both extremes.
  void li(int reg, uint64_t value);
  void scalar(engine::Opcode op, int rd, int rs, int rt);
  void scalar_imm(engine::Opcode op, int rd, int rs, int64_t imm);
  // rd = the u32 at SRAM `sram` (engine `ld`), a run-time value the program guarantees is in
  // [lowest, highest] (token ids, expert ids); timing-only runs read 0.
  void ld(int rd, Loc sram, uint32_t lowest, uint32_t highest);
  // Control flow. A loop body (loop_begin .. loop_end) runs `counter` times (counter >= 1 on entry): base
  // registers it loads stay pinned until loop_end so every iteration finds the same bases.
  engine::Label new_label() { return m_builder.new_label(); }
  void bind(engine::Label label) { m_builder.bind(label); }
  void branch_if_zero(int reg, engine::Label target);
  engine::Label loop_begin();
  void loop_end(int counter, engine::Label body);
  bool dynamic() const { return m_dynamic; }

  size_t instruction_count() const { return m_group_of_pc.size(); }
  CompiledProgram finish();

 private:
  engine::Addr sram_addr(Loc where, int64_t offset_limit);
  engine::Addr dram_addr(Loc where);
  engine::Addr based_addr(uint64_t address, uint64_t base);
  void note(const engine::Decoded& d);
  void load_register(int reg, uint64_t value);
  void push_scalar(const engine::Decoded& d);

  engine::ProgramBuilder m_builder;
  engine::EngineState m_state;     // registers as the program will hold them (lowest run-time values)
  engine::EngineState m_state_hi;  // the same at the highest run-time values
  bool m_dynamic = false;
  std::vector<OpGroup> m_groups;
  std::vector<int32_t> m_group_of_pc;
  std::vector<uint64_t> m_base_value;  // per base register: the value it holds (or ~0 unset)
  int m_next_base = 0;
  bool m_in_loop = false;
  uint32_t m_pinned = 0;  // base-register slots a loop body relies on
};

}  // namespace xpusim::compiler
