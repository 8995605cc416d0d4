#include "compiler/emitter.h"

#include "core/error.h"
#include "engine/timing.h"

namespace xpusim::compiler {

using engine::Addr;
using engine::Decoded;
using engine::Opcode;

namespace {

// Registers r1..r8 hold SRAM/DRAM base addresses for operands beyond their offset fields; the rest stay free
// for later run-time parameters (lengths and positions).
constexpr int kFirstBaseRegister = 1;
constexpr int kBaseRegisters = 8;
constexpr uint64_t kComputeOffsetLimit = 1ull << 20;  // mm / vector operand offsets: 20 bits
constexpr uint64_t kDmaSramOffsetLimit = 1ull << 24;
constexpr uint64_t kDramOffsetLimit = 1ull << 32;

Decoded vector_decoded(Opcode op, const Emitter::VectorOperands&, const engine::VectorArgs& v) {
  Decoded d{.opcode = op};
  d.m = v.rows, d.cols = v.cols, d.lda = v.lda, d.ldb = v.ldb, d.ldc = v.ldc;
  d.bcast = static_cast<int64_t>(v.bcast);
  d.scale = v.scalar;
  return d;
}

}  // namespace

Emitter::Emitter(const engine::ChipConfig& chip) : m_base_value(kBaseRegisters, ~0ull) {
  m_state.chip = &chip;
  m_state.functional = false;
}

void Emitter::begin_group(std::string op_type, std::string label, int32_t layer) {
  m_groups.push_back(OpGroup{std::move(op_type), std::move(label), layer});
}

void Emitter::load_register(int reg, uint64_t value) {
  XPUSIM_ASSERT(value <= 0xFFFFFFFFull);
  // li takes a signed 32-bit immediate; the register keeps its 32-bit pattern.
  const auto imm = static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(value)));
  Decoded d{.opcode = Opcode::li, .rd = reg, .imm = imm};
  m_builder.emit(d);
  m_state.regs[static_cast<size_t>(reg)] = static_cast<uint32_t>(value);
  m_group_of_pc.push_back(static_cast<int32_t>(m_groups.size()) - 1);
}

// `address` as a base register + offset, reusing a register that already holds `base` (round-robin
// otherwise).
Addr Emitter::based_addr(uint64_t address, uint64_t base) {
  for (int i = 0; i < kBaseRegisters; ++i)
    if (m_base_value[static_cast<size_t>(i)] == base)
      return {kFirstBaseRegister + i, static_cast<int64_t>(address - base)};
  const int slot = m_next_base;
  m_next_base = (m_next_base + 1) % kBaseRegisters;
  m_base_value[static_cast<size_t>(slot)] = base;
  load_register(kFirstBaseRegister + slot, base);
  return {kFirstBaseRegister + slot, static_cast<int64_t>(address - base)};
}

Addr Emitter::sram_addr(uint64_t address, int64_t offset_limit) {
  const auto limit = static_cast<uint64_t>(offset_limit);
  if (address < limit) return {0, static_cast<int64_t>(address)};
  const uint64_t base = address & ~(kComputeOffsetLimit - 1);  // 1 MiB aligned bases serve every operand
  return based_addr(address, base);
}

Addr Emitter::dram_addr(uint64_t address) {
  if (address < kDramOffsetLimit) return {0, static_cast<int64_t>(address)};
  const uint64_t base = address & ~((1ull << 31) - 1);
  if (base > 0xFFFFFFFFull)
    fail("DRAM address 0x{:x} is beyond what register + 32-bit offset operands reach (8 GiB)", address);
  return based_addr(address, base);
}

void Emitter::note(const Decoded& d) {
  XPUSIM_ASSERT(!m_groups.empty());
  OpGroup& group = m_groups.back();
  const engine::OpPlan plan = engine::plan_op(chip(), m_state, d);  // throws on a bad operand
  group.macs += plan.macs;
  group.vector_elements += plan.vector_elements;
  group.sram_bytes += plan.sram_bytes;
  if (plan.has_dram) (plan.dram_write ? group.dram_write_bytes : group.dram_read_bytes) += plan.dram_bytes;
  ++group.instructions;
  m_builder.emit(d);
  m_group_of_pc.push_back(static_cast<int32_t>(m_groups.size()) - 1);
}

void Emitter::dma_load(uint64_t dram, uint64_t sram, int64_t rows, int64_t row_bytes, int64_t dram_stride,
                       int64_t sram_stride) {
  const Addr s = sram_addr(sram, kDmaSramOffsetLimit), g = dram_addr(dram);
  Decoded d{.opcode = Opcode::dma_ld};
  d.dram_reg = g.reg, d.dram_off = g.offset, d.sram_reg = s.reg, d.sram_off = s.offset;
  d.rows = rows, d.row_bytes = row_bytes, d.dram_stride = dram_stride, d.sram_stride = sram_stride;
  note(d);
}

void Emitter::dma_store(uint64_t dram, uint64_t sram, int64_t rows, int64_t row_bytes, int64_t dram_stride,
                        int64_t sram_stride) {
  const Addr s = sram_addr(sram, kDmaSramOffsetLimit), g = dram_addr(dram);
  Decoded d{.opcode = Opcode::dma_st};
  d.dram_reg = g.reg, d.dram_off = g.offset, d.sram_reg = s.reg, d.sram_off = s.offset;
  d.rows = rows, d.row_bytes = row_bytes, d.dram_stride = dram_stride, d.sram_stride = sram_stride;
  note(d);
}

void Emitter::mm(const MatmulOperands& w, engine::MatmulArgs x) {
  const auto lim = static_cast<int64_t>(kComputeOffsetLimit);
  const Addr a = sram_addr(w.a, lim), b = sram_addr(w.b, lim), c = sram_addr(w.c, lim),
             s = x.fmt == engine::WeightFormat::bf16 ? Addr{} : sram_addr(w.s, lim),
             bias = x.bias_en ? sram_addr(w.bias, lim) : Addr{};
  Decoded d{.opcode = Opcode::mm};
  d.a_reg = a.reg, d.a_off = a.offset, d.b_reg = b.reg, d.b_off = b.offset, d.c_reg = c.reg;
  d.c_off = c.offset, d.s_reg = s.reg, d.s_off = s.offset, d.bias_reg = bias.reg, d.bias_off = bias.offset;
  d.m = x.m, d.n = x.n, d.k = x.k, d.ldc = x.ldc, d.fmt = static_cast<int64_t>(x.fmt);
  d.act = static_cast<int64_t>(x.act.act), d.act_a = x.act.a, d.act_b = x.act.b;
  d.bias_en = x.bias_en ? 1 : 0, d.fmax_en = x.fmax_en ? 1 : 0, d.scale = x.scale;
  note(d);
}

namespace {
void set_vector_addrs(Decoded& d, Addr a, Addr b, Addr c, Addr s) {
  d.a_reg = a.reg, d.a_off = a.offset, d.b_reg = b.reg, d.b_off = b.offset;
  d.c_reg = c.reg, d.c_off = c.offset, d.s_reg = s.reg, d.s_off = s.offset;
}
}  // namespace

void Emitter::vbinary(Opcode op, const VectorOperands& w, engine::VectorArgs v) {
  const auto lim = static_cast<int64_t>(kComputeOffsetLimit);
  const bool uses_b = v.bcast != engine::Broadcast::scalar;
  const Addr a = sram_addr(w.a, lim), b = uses_b ? sram_addr(w.b, lim) : Addr{}, c = sram_addr(w.c, lim);
  Decoded d = vector_decoded(op, w, v);
  set_vector_addrs(d, a, b, c, {});
  note(d);
}

void Emitter::vact(const VectorOperands& w, engine::VectorArgs v, engine::ActivationPreset act) {
  const auto lim = static_cast<int64_t>(kComputeOffsetLimit);
  const Addr a = sram_addr(w.a, lim), c = sram_addr(w.c, lim);
  Decoded d = vector_decoded(Opcode::vact, w, v);
  set_vector_addrs(d, a, {}, c, {});
  d.bcast = 0, d.scale = 0, d.ldb = 0;
  d.act = static_cast<int64_t>(act.act), d.act_a = act.a, d.act_b = act.b;
  note(d);
}

void Emitter::vred(const VectorOperands& w, engine::VectorArgs v, engine::ReduceMode mode) {
  const auto lim = static_cast<int64_t>(kComputeOffsetLimit);
  const Addr a = sram_addr(w.a, lim), c = sram_addr(w.c, lim);
  Decoded d = vector_decoded(Opcode::vred, w, v);
  set_vector_addrs(d, a, {}, c, {});
  d.mode = static_cast<int64_t>(mode);
  note(d);
}

void Emitter::softmax(const VectorOperands& w, engine::VectorArgs v, engine::SoftmaxMode mode,
                      int64_t ctx_first) {
  const auto lim = static_cast<int64_t>(kComputeOffsetLimit);
  const bool online = mode == engine::SoftmaxMode::online;
  const Addr a = sram_addr(w.a, lim), c = sram_addr(w.c, lim), s = online ? sram_addr(w.s, lim) : Addr{};
  Decoded d = vector_decoded(Opcode::softmax, w, v);
  set_vector_addrs(d, a, {}, c, s);
  d.mode = static_cast<int64_t>(mode);
  d.ctx = ctx_first;
  note(d);
}

void Emitter::ctx(engine::ContextMode mode, uint64_t c, int64_t first, int64_t count) {
  const Addr where =
      mode == engine::ContextMode::clear ? Addr{} : sram_addr(c, static_cast<int64_t>(kComputeOffsetLimit));
  Decoded d{.opcode = Opcode::ctx};
  d.c_reg = where.reg, d.c_off = where.offset, d.mode = static_cast<int64_t>(mode), d.ctx = first;
  d.count = count;
  note(d);
}

void Emitter::vtrans(const VectorOperands& w, engine::VectorArgs v) {
  const auto lim = static_cast<int64_t>(kComputeOffsetLimit);
  const Addr a = sram_addr(w.a, lim), c = sram_addr(w.c, lim);
  Decoded d = vector_decoded(Opcode::vtrans, w, v);
  set_vector_addrs(d, a, {}, c, {});
  note(d);
}

void Emitter::topk(const VectorOperands& w, engine::VectorArgs v, int64_t k) {
  const auto lim = static_cast<int64_t>(kComputeOffsetLimit);
  const Addr a = sram_addr(w.a, lim), c = sram_addr(w.c, lim), s = sram_addr(w.s, lim);
  Decoded d = vector_decoded(Opcode::topk, w, v);
  set_vector_addrs(d, a, {}, c, s);
  d.count = k;
  note(d);
}

void Emitter::halt() {
  if (m_groups.empty()) begin_group("halt", "halt", -1);
  m_builder.emit(Decoded{.opcode = Opcode::halt});
  m_group_of_pc.push_back(static_cast<int32_t>(m_groups.size()) - 1);
}

CompiledProgram Emitter::finish() {
  CompiledProgram out;
  out.program = m_builder.finish();
  out.groups = std::move(m_groups);
  out.group_of_pc = std::move(m_group_of_pc);
  return out;
}

}  // namespace xpusim::compiler
