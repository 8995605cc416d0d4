#include "engine/program.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "engine/assembler.h"

namespace xpusim::engine {
namespace {

constexpr char kMagic[8] = {'X', 'P', 'U', 'E', 'N', 'G', 0, 0};
constexpr size_t kHeaderBytes = 32;

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

std::vector<uint8_t> program_to_binary(const Program& program) {
  std::vector<uint8_t> out(kMagic, kMagic + 8);
  put_u32(out, kIsaVersion);
  put_u32(out, static_cast<uint32_t>(program.code.size()));
  out.resize(kHeaderBytes, 0);
  for (const Descriptor& d : program.code)
    for (uint64_t word : d)
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(word >> (8 * i)));
  return out;
}

Program program_from_binary(const std::vector<uint8_t>& bytes, const std::string& source) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, 8) != 0)
    fail("{}: not an engine program (missing XPUENG header)", source);
  const uint32_t version = get_u32(bytes.data() + 8);
  if (version != kIsaVersion)
    fail("{}: program is ISA version {}, this build reads version {}", source, version, kIsaVersion);
  const uint32_t count = get_u32(bytes.data() + 12);
  if (bytes.size() != kHeaderBytes + static_cast<size_t>(count) * kDescriptorBytes)
    fail("{}: header says {} instructions ({} bytes) but the file has {} bytes", source, count,
         kHeaderBytes + static_cast<size_t>(count) * kDescriptorBytes, bytes.size());
  Program program;
  program.code.resize(count);
  for (size_t i = 0; i < count; ++i)
    for (size_t w = 0; w < 4; ++w) {
      uint64_t word = 0;
      for (int b = 0; b < 8; ++b)
        word |=
            static_cast<uint64_t>(bytes[kHeaderBytes + i * kDescriptorBytes + w * 8 + static_cast<size_t>(b)])
            << (8 * b);
      program.code[i][w] = word;
    }
  return program;
}

std::vector<uint8_t> read_binary_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open file", path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_binary_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  if (!out) fail("{}: cannot write file", path);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Program read_program_file(const std::string& path) {
  const std::vector<uint8_t> bytes = read_binary_file(path);
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kMagic, 8) == 0) return program_from_binary(bytes, path);
  return assemble(std::string(bytes.begin(), bytes.end()), path);
}

// ---- builder ----

Label ProgramBuilder::new_label() {
  m_label_pc.push_back(-1);
  return Label{static_cast<int>(m_label_pc.size() - 1)};
}

void ProgramBuilder::bind(Label label) {
  XPUSIM_ASSERT(label.id >= 0 && static_cast<size_t>(label.id) < m_label_pc.size());
  m_label_pc[static_cast<size_t>(label.id)] = static_cast<int64_t>(m_code.size());
}

size_t ProgramBuilder::emit(const Decoded& instr) {
  m_code.push_back(instr);
  return m_code.size() - 1;
}

size_t ProgramBuilder::emit_to(const Decoded& instr, Label label) {
  XPUSIM_ASSERT(label.id >= 0 && static_cast<size_t>(label.id) < m_label_pc.size());
  m_fixups.push_back({m_code.size(), label.id});
  return emit(instr);
}

Program ProgramBuilder::finish() {
  for (const Fixup& fixup : m_fixups) {
    const int64_t target = m_label_pc[static_cast<size_t>(fixup.label)];
    if (target < 0)
      fail("program builder: label {} used at instruction {} was never bound", fixup.label, fixup.pc);
    Decoded& instr = m_code[fixup.pc];
    bool relative = false;
    for (const Operand& operand : op_spec(instr.opcode).operands)
      relative = relative || operand.kind == OperandKind::rel;
    instr.target = relative ? target - static_cast<int64_t>(fixup.pc) : target;
  }
  Program program;
  program.code.reserve(m_code.size());
  for (const Decoded& instr : m_code) program.code.push_back(encode(instr));
  return program;
}

void ProgramBuilder::nop() { emit(Decoded{.opcode = Opcode::nop}); }
void ProgramBuilder::halt() { emit(Decoded{.opcode = Opcode::halt}); }
void ProgramBuilder::fence() { emit(Decoded{.opcode = Opcode::fence}); }
void ProgramBuilder::mark(int64_t id) { emit(Decoded{.opcode = Opcode::mark, .id = id}); }
void ProgramBuilder::li(int rd, int64_t value) {
  emit(Decoded{.opcode = Opcode::li, .rd = rd, .imm = value});
}
void ProgramBuilder::addi(int rd, int rs, int64_t imm) {
  emit(Decoded{.opcode = Opcode::addi, .rd = rd, .rs = rs, .imm = imm});
}
void ProgramBuilder::ld(int rd, Addr sram) {
  emit(Decoded{.opcode = Opcode::ld, .rd = rd, .rs = sram.reg, .imm = sram.offset});
}
void ProgramBuilder::alu(Opcode op, int rd, int rs, int rt) {
  emit(Decoded{.opcode = op, .rd = rd, .rs = rs, .rt = rt});
}
void ProgramBuilder::jmp(Label target) { emit_to(Decoded{.opcode = Opcode::jmp}, target); }
void ProgramBuilder::loop(int counter_reg, Label body, uint16_t stream_mask) {
  emit_to(Decoded{.opcode = Opcode::loop, .rd = counter_reg, .mask = stream_mask}, body);
}
void ProgramBuilder::bnz(int rs, Label target) { emit_to(Decoded{.opcode = Opcode::bnz, .rs = rs}, target); }
void ProgramBuilder::stream(int sid, int reg, int64_t stride) {
  emit(Decoded{.opcode = Opcode::stream, .rd = reg, .imm = stride, .sid = sid});
}
void ProgramBuilder::sem_set(int sem) { emit(Decoded{.opcode = Opcode::sem_set, .sem = sem}); }
void ProgramBuilder::sem_clr(int sem) { emit(Decoded{.opcode = Opcode::sem_clr, .sem = sem}); }
void ProgramBuilder::sem_wait(int sem, bool until_clear, int64_t timeout) {
  emit(Decoded{.opcode = Opcode::sem_wait, .sem = sem, .value = until_clear ? 1 : 0, .timeout = timeout});
}

namespace {
Decoded dma(Opcode op, Addr dram, Addr sram, int64_t rows, int64_t row_bytes, int64_t dram_stride,
            int64_t sram_stride) {
  Decoded d{.opcode = op};
  d.dram_reg = dram.reg;
  d.dram_off = dram.offset;
  d.sram_reg = sram.reg;
  d.sram_off = sram.offset;
  d.rows = rows;
  d.row_bytes = row_bytes;
  d.dram_stride = dram_stride;
  d.sram_stride = sram_stride;
  return d;
}

Decoded vector_op(Opcode op, const VectorArgs& v) {
  Decoded d{.opcode = op};
  d.a_reg = v.a.reg, d.a_off = v.a.offset, d.b_reg = v.b.reg, d.b_off = v.b.offset;
  d.c_reg = v.c.reg, d.c_off = v.c.offset, d.s_reg = v.s.reg, d.s_off = v.s.offset;
  d.m = v.rows, d.cols = v.cols, d.lda = v.lda, d.ldb = v.ldb, d.ldc = v.ldc;
  d.bcast = static_cast<int64_t>(v.bcast);
  d.scale = v.scalar;
  return d;
}
}  // namespace

void ProgramBuilder::dma_load(Addr dram, Addr sram, int64_t rows, int64_t row_bytes, int64_t dram_stride,
                              int64_t sram_stride) {
  emit(dma(Opcode::dma_ld, dram, sram, rows, row_bytes, dram_stride, sram_stride));
}
void ProgramBuilder::dma_store(Addr dram, Addr sram, int64_t rows, int64_t row_bytes, int64_t dram_stride,
                               int64_t sram_stride) {
  emit(dma(Opcode::dma_st, dram, sram, rows, row_bytes, dram_stride, sram_stride));
}

void ProgramBuilder::mm(const MatmulArgs& x) {
  Decoded d{.opcode = Opcode::mm};
  d.a_reg = x.a.reg, d.a_off = x.a.offset, d.b_reg = x.b.reg, d.b_off = x.b.offset, d.c_reg = x.c.reg;
  d.c_off = x.c.offset, d.s_reg = x.s.reg, d.s_off = x.s.offset, d.bias_reg = x.bias.reg,
  d.bias_off = x.bias.offset;
  d.m = x.m, d.n = x.n, d.k = x.k, d.ldc = x.ldc, d.fmt = static_cast<int64_t>(x.fmt);
  d.act = static_cast<int64_t>(x.act.act), d.act_a = x.act.a, d.act_b = x.act.b;
  d.bias_en = x.bias_en ? 1 : 0, d.fmax_en = x.fmax_en ? 1 : 0, d.scale = x.scale;
  emit(d);
}

void ProgramBuilder::vbinary(Opcode op, const VectorArgs& args) { emit(vector_op(op, args)); }
void ProgramBuilder::vact(const VectorArgs& args, ActivationPreset act) {
  Decoded d = vector_op(Opcode::vact, args);
  d.bcast = 0, d.scale = 0, d.b_reg = 0, d.b_off = 0, d.ldb = 0;
  d.act = static_cast<int64_t>(act.act), d.act_a = act.a, d.act_b = act.b;
  emit(d);
}
void ProgramBuilder::vred(const VectorArgs& args, ReduceMode mode) {
  Decoded d = vector_op(Opcode::vred, args);
  d.mode = static_cast<int64_t>(mode);
  emit(d);
}
void ProgramBuilder::softmax(const VectorArgs& args, SoftmaxMode mode, int64_t ctx_first) {
  Decoded d = vector_op(Opcode::softmax, args);
  d.mode = static_cast<int64_t>(mode);
  d.ctx = ctx_first;
  emit(d);
}
void ProgramBuilder::ctx(ContextMode mode, Addr c, int64_t first, int64_t count) {
  Decoded d{.opcode = Opcode::ctx};
  d.c_reg = c.reg, d.c_off = c.offset, d.mode = static_cast<int64_t>(mode), d.ctx = first, d.count = count;
  emit(d);
}
void ProgramBuilder::vtrans(const VectorArgs& args) { emit(vector_op(Opcode::vtrans, args)); }
void ProgramBuilder::quant(const VectorArgs& args, WeightFormat fmt) {
  Decoded d = vector_op(Opcode::quant, args);
  d.fmt = static_cast<int64_t>(fmt);
  emit(d);
}
void ProgramBuilder::dequant(const VectorArgs& args, WeightFormat fmt) {
  Decoded d = vector_op(Opcode::dequant, args);
  d.fmt = static_cast<int64_t>(fmt);
  emit(d);
}
void ProgramBuilder::topk(const VectorArgs& args, int64_t k) {
  Decoded d = vector_op(Opcode::topk, args);
  d.count = k;
  emit(d);
}

}  // namespace xpusim::engine
