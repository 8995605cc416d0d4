// compiler::Emitter: the compiler's front end to engine::ProgramBuilder. It resolves plain SRAM/DRAM byte
// addresses into register + offset operands (loading base registers when an address is beyond an operand's
// offset field), tracks register values so every data instruction is validated at compile time by the
// simulator's own operand planner (engine::plan_op), and tags each instruction with the graph-level op group
// it implements ("linear blk.3.attn_q") so simulated time, bytes and energy can be attributed per op.
// Non-goals: choosing tiles or memory layouts (lower_*.cpp), running programs (cost_model.cpp, runner).
// HOWTO add an instruction helper: forward to the builder, then call note_data() with the Decoded fields so
// the operand check and the group counters see it.
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

class Emitter {
 public:
  explicit Emitter(const engine::ChipConfig& chip);

  const engine::ChipConfig& chip() const { return *m_state.chip; }
  // Starts a new op group; instructions emitted from now on belong to it.
  void begin_group(std::string op_type, std::string label, int32_t layer);

  // Data movement (addresses are absolute byte addresses).
  void dma_load(uint64_t dram, uint64_t sram, int64_t rows, int64_t row_bytes, int64_t dram_stride = 0,
                int64_t sram_stride = 0);
  void dma_store(uint64_t dram, uint64_t sram, int64_t rows, int64_t row_bytes, int64_t dram_stride = 0,
                 int64_t sram_stride = 0);
  // Compute: the Addr fields of the argument structs are ignored; give SRAM byte addresses instead.
  struct MatmulOperands {
    uint64_t a = 0, b = 0, c = 0, s = 0, bias = 0;
  };
  void mm(const MatmulOperands& where, engine::MatmulArgs args);
  struct VectorOperands {
    uint64_t a = 0, b = 0, c = 0, s = 0;
  };
  void vbinary(engine::Opcode op, const VectorOperands& where, engine::VectorArgs args);
  void vact(const VectorOperands& where, engine::VectorArgs args, engine::ActivationPreset act);
  void vred(const VectorOperands& where, engine::VectorArgs args, engine::ReduceMode mode);
  void softmax(const VectorOperands& where, engine::VectorArgs args, engine::SoftmaxMode mode,
               int64_t ctx = 0);
  void ctx(engine::ContextMode mode, uint64_t c, int64_t first, int64_t count);
  void vtrans(const VectorOperands& where, engine::VectorArgs args);
  void topk(const VectorOperands& where, engine::VectorArgs args, int64_t k);
  void halt();

  size_t instruction_count() const { return m_group_of_pc.size(); }
  CompiledProgram finish();

 private:
  engine::Addr sram_addr(uint64_t address, int64_t offset_limit);
  engine::Addr dram_addr(uint64_t address);
  engine::Addr based_addr(uint64_t address, uint64_t base);
  void note(const engine::Decoded& d);
  void load_register(int reg, uint64_t value);

  engine::ProgramBuilder m_builder;
  engine::EngineState m_state;  // registers as the program will hold them (compile-time known)
  std::vector<OpGroup> m_groups;
  std::vector<int32_t> m_group_of_pc;
  std::vector<uint64_t> m_base_value;  // per base register: the value it holds (or ~0 unset)
  int m_next_base = 0;
};

}  // namespace xpusim::compiler
