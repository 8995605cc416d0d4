// The unified engine ISA as one table (isa_table.cpp): every instruction is one OpSpec row holding its
// mnemonic, opcode, operands (bit ranges inside the 256-bit descriptor + assembler syntax), execution unit,
// latency class, semantics function and one-line doc. The encoder, decoder, assembler, disassembler and
// docs/isa.md are all generated from that table; nothing else lists instructions.
// Non-goals: timing and functional behaviour live in timing.cpp / ops_*.cpp (referenced from the rows).
// HOWTO add an instruction: add an Opcode value, one row in kOpTable (isa_table.cpp) with its operands,
// and its semantics function in ops_<family>.cpp; isa_test checks bits/opcodes, docs_test fails until
// docs/isa.md is regenerated (`xpusim engine isa --markdown > docs/isa.md`).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace xpusim::engine {

inline constexpr uint32_t kIsaVersion = 1;
inline constexpr int kDescriptorBits = 256;
inline constexpr int kDescriptorBytes = 32;

// 256-bit descriptor, little-endian 64-bit words (bit 0 = word 0 bit 0).
using Descriptor = std::array<uint64_t, 4>;

enum class Opcode : uint8_t {
  nop = 0x00,
  halt = 0x01,
  mark = 0x02,
  fence = 0x03,
  li = 0x10,
  add = 0x11,
  addi = 0x12,
  sub = 0x13,
  mul = 0x14,
  muli = 0x15,
  shl = 0x16,
  shr = 0x17,
  min = 0x18,
  max = 0x19,
  div = 0x1A,
  ld = 0x1B,
  jmp = 0x20,
  jmp_rel = 0x21,
  jmp_reg = 0x22,
  jz = 0x23,
  jnz = 0x24,
  bz = 0x25,
  bnz = 0x26,
  loop = 0x27,
  stream = 0x28,
  sem_set = 0x30,
  sem_clr = 0x31,
  sem_wait = 0x32,
  dma_ld = 0x40,
  dma_st = 0x41,
  mm = 0x50,
  vadd = 0x60,
  vsub = 0x61,
  vmul = 0x62,
  vmax = 0x63,
  vact = 0x64,
  vred = 0x65,
  softmax = 0x66,
  ctx = 0x67,
  vtrans = 0x68,
  quant = 0x69,
  dequant = 0x6A,
  topk = 0x6B,
};

// Which unit executes an instruction. The front end runs scalar/control ops itself; the others have queues.
enum class Unit : uint8_t { frontend, dma_load, dma_store, matrix, vector };
inline constexpr int kUnitCount = 5;
std::string_view unit_name(Unit unit);

// Latency classes: each maps to a chip-file key under [latency] (chip_config.h) giving the fill latency
// (cycles from the end of the unit's throughput-bound work until the result is visible).
enum class LatencyClass : uint8_t {
  none,
  alu,
  mul,
  div,
  branch,
  sem,
  dma,
  dot,
  vec,
  act,
  exp,
  reduce,
  trans,
  quant,
  topk,
  COUNT
};
inline constexpr int kLatencyClassCount = static_cast<int>(LatencyClass::COUNT);
std::string_view latency_class_name(LatencyClass cls);

// Decoded instruction: every operand of every instruction has a named member here (unused ones stay 0).
// Field values are stored sign-extended (signed operands) or zero-extended.
struct Decoded {
  Opcode opcode = Opcode::nop;
  // scalar / control
  int64_t rd = 0, rs = 0, rt = 0, imm = 0, target = 0, mask = 0, sid = 0;
  // semaphores, markers
  int64_t sem = 0, value = 0, timeout = 0, id = 0;
  // DMA
  int64_t dram_reg = 0, dram_off = 0, sram_reg = 0, sram_off = 0, rows = 0, row_bytes = 0, dram_stride = 0,
          sram_stride = 0;
  // compute operands: SRAM byte addresses = register + offset
  int64_t a_reg = 0, a_off = 0, b_reg = 0, b_off = 0, c_reg = 0, c_off = 0, s_reg = 0, s_off = 0,
          bias_reg = 0, bias_off = 0;
  int64_t m = 0, n = 0, k = 0, cols = 0, lda = 0, ldb = 0, ldc = 0;
  int64_t fmt = 0, act = 0, act_a = 0, act_b = 0, scale = 0, bias_en = 0, fmax_en = 0, bcast = 0, mode = 0,
          ctx = 0, count = 0;
};

enum class OperandKind : uint8_t {
  reg,     // r0..r63                       -> "rd=r5"
  uimm,    // unsigned integer              -> "rows=16" / "rows=0x10"
  simm,    // signed integer (two's complement in the field)
  bf16,    // bf16 bit pattern; asm accepts hex bits or a decimal number (RNE) -> printed as hex
  enumer,  // name from an EnumTable        -> "fmt=ue-if4"
  mem,     // register + unsigned offset    -> "a=[r3+0x100]" (two bit fields)
  target,  // absolute instruction index or label
  rel,     // signed instruction offset from this instruction, or label
};

struct BitField {
  uint16_t lsb = 0;
  uint16_t width = 0;
};

struct EnumTable {
  std::span<const std::string_view> names;  // value i has name names[i]
};

struct Operand {
  std::string_view name;
  OperandKind kind;
  BitField bits;            // value (for mem: the offset)
  int64_t Decoded::*field;  // where the value lives in Decoded
  BitField reg_bits = {};   // mem only: base register field
  int64_t Decoded::*reg = nullptr;
  const EnumTable* enums = nullptr;
  bool optional = false;  // may be omitted in assembly (value 0); disasm omits it when 0
  std::string_view doc = {};
};

class Simulator;
struct EngineState;
using SemanticsFn = void (*)(EngineState& state, const Decoded& instr);

struct OpSpec {
  std::string_view mnemonic;
  Opcode opcode;
  Unit unit;
  LatencyClass latency;
  std::span<const Operand> operands;
  SemanticsFn execute;  // functional semantics (ops_*.cpp); nullptr for control ops handled by the core
  std::string_view doc;
};

// The table and lookups.
std::span<const OpSpec> op_table();
const OpSpec* op_by_opcode(uint8_t opcode);  // nullptr if unknown
const OpSpec* op_by_mnemonic(std::string_view mnemonic);
const OpSpec& op_spec(Opcode opcode);

// Enum operand tables (shared with the builder and the simulator).
enum class WeightFormat : uint8_t {
  bf16,
  ue_int4,
  ue_fp4,
  ue_if4,
  ue_int8,
  ue_fp8,
  ue_if8,
  ue_tq4,
  mxfp4,
  nvfp4,
  if4,
  COUNT
};
enum class Activation : uint8_t { none, act, act_nox, tanh, clamp, recip, rsqrt, log, exp, COUNT };
enum class Broadcast : uint8_t { none, row, col, scalar, COUNT };
enum class ReduceMode : uint8_t { sum, max, mean, rms_inv, meanvar, COUNT };
enum class SoftmaxMode : uint8_t { full, online, COUNT };
enum class ContextMode : uint8_t { clear, read_max, read_sum, read_recip_sum, COUNT };
extern const EnumTable kWeightFormatNames, kActivationNames, kBroadcastNames, kReduceModeNames,
    kSoftmaxModeNames, kContextModeNames;
std::string_view weight_format_name(WeightFormat format);

// Encoding. encode() checks that every value fits its field (xpusim::Error naming op and operand).
Descriptor encode(const Decoded& instr);
// decode() throws xpusim::Error for an unknown opcode or reserved bits set (message names the cause).
Decoded decode(const Descriptor& descriptor);
// Bits of `descriptor` covered by no operand of `spec` and not the opcode (must be zero).
Descriptor reserved_mask(const OpSpec& spec);

uint64_t get_bits(const Descriptor& d, BitField field);
void set_bits(Descriptor& d, BitField field, uint64_t value);

inline constexpr BitField kOpcodeBits{0, 8};

}  // namespace xpusim::engine
