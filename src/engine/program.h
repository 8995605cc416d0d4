// Engine programs: a sequence of 256-bit descriptors, the binary file format, and the C++ program builder
// that compilers (src/compiler) and the kernel generators use instead of text assembly.
// Binary file: 32-byte header {magic "XPUENG\0\0", u32 isa_version, u32 instruction_count, 16 reserved
// bytes}, then the descriptors as 4 little-endian u64 words each.
// Non-goals: text syntax (assembler.h), execution (simulator.h).
// HOWTO add a builder convenience: add a method that fills a Decoded and calls emit(); labels are resolved
// in finish().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine_numerics.h"
#include "engine/isa.h"

namespace xpusim::engine {

struct Program {
  std::vector<Descriptor> code;
  size_t size() const { return code.size(); }
};

std::vector<uint8_t> program_to_binary(const Program& program);
Program program_from_binary(const std::vector<uint8_t>& bytes, const std::string& source);
Program read_program_file(const std::string& path);  // .bin (binary) or anything else (assembly text)
void write_binary_file(const std::string& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> read_binary_file(const std::string& path);

struct Label {
  int id = -1;
};

// A register-plus-offset SRAM or DRAM address operand.
struct Addr {
  int reg = 0;
  int64_t offset = 0;
};
inline Addr at(int64_t offset) { return {0, offset}; }
inline Addr at(int reg, int64_t offset) { return {reg, offset}; }

struct MatmulArgs {
  Addr a, b, c, s, bias;
  int64_t m = 0, n = 0, k = 0, ldc = 0;
  WeightFormat fmt = WeightFormat::bf16;
  ActivationPreset act = {Activation::none, 0, 0};
  bool bias_en = false, fmax_en = false;
  uint16_t scale = 0;  // bf16 bits, 0 = 1.0
};

struct VectorArgs {
  Addr a, b, c, s;
  int64_t rows = 0, cols = 0, lda = 0, ldb = 0, ldc = 0;
  Broadcast bcast = Broadcast::none;
  uint16_t scalar = 0;  // bf16 bits (vadd/vmul scalar, vred eps, softmax pre-scale)
};

class ProgramBuilder {
 public:
  Label new_label();
  void bind(Label label);  // the next emitted instruction is the label's target
  size_t emit(const Decoded& instr);
  size_t emit_to(const Decoded& instr, Label label);  // instr has a target/off operand: resolved later
  size_t pc() const { return m_code.size(); }
  Program finish();  // resolves labels; throws xpusim::Error for unbound labels

  // Scalar / control
  void nop();
  void halt();
  void fence();
  void mark(int64_t id);
  void li(int rd, int64_t value);
  void addi(int rd, int rs, int64_t imm);
  void ld(int rd, Addr sram);  // rd = u32 at SRAM sram (waits for in-flight writers)
  void alu(Opcode op, int rd, int rs, int rt);
  void jmp(Label target);
  void loop(int counter_reg, Label body, uint16_t stream_mask = 0);
  void bnz(int rs, Label target);
  void stream(int sid, int reg, int64_t stride);
  void sem_set(int sem);
  void sem_clr(int sem);
  void sem_wait(int sem, bool until_clear = false, int64_t timeout = 0);
  // Data
  void dma_load(Addr dram, Addr sram, int64_t rows, int64_t row_bytes, int64_t dram_stride = 0,
                int64_t sram_stride = 0);
  void dma_store(Addr dram, Addr sram, int64_t rows, int64_t row_bytes, int64_t dram_stride = 0,
                 int64_t sram_stride = 0);
  void mm(const MatmulArgs& args);
  void vbinary(Opcode op, const VectorArgs& args);
  void vact(const VectorArgs& args, ActivationPreset act);
  void vred(const VectorArgs& args, ReduceMode mode);
  void softmax(const VectorArgs& args, SoftmaxMode mode, int64_t ctx = 0);
  void ctx(ContextMode mode, Addr c, int64_t first, int64_t count);
  void vtrans(const VectorArgs& args);
  void quant(const VectorArgs& args, WeightFormat fmt);    // a -> codes c, scales s
  void dequant(const VectorArgs& args, WeightFormat fmt);  // codes b + scales s -> c
  void topk(const VectorArgs& args, int64_t k);

 private:
  struct Fixup {
    size_t pc;
    int label;
  };
  std::vector<Decoded> m_code;
  std::vector<int64_t> m_label_pc;
  std::vector<Fixup> m_fixups;
};

}  // namespace xpusim::engine
