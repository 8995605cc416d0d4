#include "compiler/emitter.h"

#include <algorithm>

#include "compiler/runtime_registers.h"
#include "core/error.h"
#include "engine/timing.h"

namespace xpusim::compiler {

using engine::Addr;
using engine::Decoded;
using engine::Opcode;

namespace {

// Registers r1..r8 hold SRAM/DRAM base addresses for operands beyond their offset fields; run-time and
// lowering registers are in runtime_registers.h.
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
  m_state_hi.chip = &chip;
  m_state_hi.functional = false;
}

void Emitter::set_runtime_register(int reg, uint32_t lowest, uint32_t highest) {
  XPUSIM_ASSERT(reg > 0 && reg < 64 && lowest <= highest);
  m_state.regs[static_cast<size_t>(reg)] = lowest;
  m_state_hi.regs[static_cast<size_t>(reg)] = highest;
  m_dynamic = true;
}

namespace {
uint32_t scalar_result(Opcode op, uint32_t a, uint32_t b, int64_t imm) {
  const auto i = static_cast<uint32_t>(imm);
  switch (op) {
    case Opcode::li:
      return i;
    case Opcode::add:
      return a + b;
    case Opcode::addi:
      return a + i;
    case Opcode::sub:
      return a - b;
    case Opcode::mul:
      return a * b;
    case Opcode::muli:
      return a * i;
    case Opcode::shl:
      return a << (i & 31);
    case Opcode::shr:
      return a >> (i & 31);
    case Opcode::min:
      return std::min(a, b);
    case Opcode::max:
      return std::max(a, b);
    default:
      break;
  }
  XPUSIM_ASSERT(false && "not a scalar op the emitter tracks");
  return 0;
}
}  // namespace

void Emitter::push_scalar(const Decoded& d) {
  XPUSIM_ASSERT(d.rd > 0 && d.rd < 64);
  if (d.rd >= kFirstBaseRegister && d.rd < kFirstBaseRegister + kBaseRegisters)
    m_base_value[static_cast<size_t>(d.rd - kFirstBaseRegister)] = ~0ull;
  for (engine::EngineState* st : {&m_state, &m_state_hi}) {
    auto& r = st->regs;
    r[static_cast<size_t>(d.rd)] =
        scalar_result(d.opcode, r[static_cast<size_t>(d.rs)], r[static_cast<size_t>(d.rt)], d.imm);
  }
  if (m_groups.empty()) begin_group("control", "control", -1);
  m_builder.emit(d);
  m_group_of_pc.push_back(static_cast<int32_t>(m_groups.size()) - 1);
}

void Emitter::li(int reg, uint64_t value) {
  XPUSIM_ASSERT(value <= 0xFFFFFFFFull);
  push_scalar(Decoded{.opcode = Opcode::li,
                      .rd = reg,
                      .imm = static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(value)))});
}

void Emitter::scalar(Opcode op, int rd, int rs, int rt) {
  push_scalar(Decoded{.opcode = op, .rd = rd, .rs = rs, .rt = rt});
}

void Emitter::scalar_imm(Opcode op, int rd, int rs, int64_t imm) {
  push_scalar(Decoded{.opcode = op, .rd = rd, .rs = rs, .imm = imm});
}

void Emitter::ld(int rd, Loc sram, uint32_t lowest, uint32_t highest) {
  XPUSIM_ASSERT(rd > 0 && rd < 64 && lowest <= highest);
  if (rd >= kFirstBaseRegister && rd < kFirstBaseRegister + kBaseRegisters)
    m_base_value[static_cast<size_t>(rd - kFirstBaseRegister)] = ~0ull;
  const Addr a = sram_addr(sram, 1ll << 24);
  if (m_groups.empty()) begin_group("control", "control", -1);
  m_builder.ld(rd, a);
  m_group_of_pc.push_back(static_cast<int32_t>(m_groups.size()) - 1);
  m_state.regs[static_cast<size_t>(rd)] = lowest;
  m_state_hi.regs[static_cast<size_t>(rd)] = highest;
  m_dynamic = true;
}

void Emitter::branch_if_zero(int reg, engine::Label target) {
  if (m_groups.empty()) begin_group("control", "control", -1);
  m_builder.emit_to(Decoded{.opcode = Opcode::bz, .rs = reg}, target);
  m_group_of_pc.push_back(static_cast<int32_t>(m_groups.size()) - 1);
}

engine::Label Emitter::loop_begin() {
  XPUSIM_ASSERT(!m_in_loop);
  const engine::Label body = m_builder.new_label();
  m_builder.bind(body);
  m_in_loop = true;
  m_pinned = 0;
  return body;
}

void Emitter::loop_end(int counter, engine::Label body) {
  XPUSIM_ASSERT(m_in_loop);
  m_builder.loop(counter, body);
  m_group_of_pc.push_back(static_cast<int32_t>(m_groups.size()) - 1);
  for (engine::EngineState* st : {&m_state, &m_state_hi}) st->regs[static_cast<size_t>(counter)] = 0;
  m_in_loop = false;
  m_pinned = 0;
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
  m_state_hi.regs[static_cast<size_t>(reg)] = static_cast<uint32_t>(value);
  m_group_of_pc.push_back(static_cast<int32_t>(m_groups.size()) - 1);
}

// `address` as a base register + offset, reusing a register that already holds `base` (round-robin
// otherwise; inside a loop body the registers the body loaded stay pinned).
Addr Emitter::based_addr(uint64_t address, uint64_t base) {
  for (int i = 0; i < kBaseRegisters; ++i)
    if (m_base_value[static_cast<size_t>(i)] == base) {
      // A loop body must load every base it uses itself: a value from before the loop may be evicted later
      // in the body, so the second iteration would not find it.
      if (!m_in_loop || (m_pinned >> i & 1))
        return {kFirstBaseRegister + i, static_cast<int64_t>(address - base)};
      m_base_value[static_cast<size_t>(i)] = ~0ull;
    }
  int slot = m_next_base;
  for (int tries = 0; m_in_loop && (m_pinned >> slot & 1); ++tries) {
    if (tries == kBaseRegisters)
      fail("engine compiler: a loop body needs more than {} base registers", kBaseRegisters);
    slot = (slot + 1) % kBaseRegisters;
  }
  m_next_base = (slot + 1) % kBaseRegisters;
  if (m_in_loop) m_pinned |= 1u << slot;
  m_base_value[static_cast<size_t>(slot)] = base;
  load_register(kFirstBaseRegister + slot, base);
  return {kFirstBaseRegister + slot, static_cast<int64_t>(address - base)};
}

Addr Emitter::sram_addr(Loc where, int64_t offset_limit) {
  const auto limit = static_cast<uint64_t>(offset_limit);
  const uint64_t address = where.address;
  if (where.reg != 0) {
    if (address >= limit)
      fail("engine compiler: SRAM offset 0x{:x} from register r{} is beyond the operand field", address,
           where.reg);
    return {where.reg, static_cast<int64_t>(address)};
  }
  if (address < limit) return {0, static_cast<int64_t>(address)};
  const uint64_t base = address & ~(kComputeOffsetLimit - 1);  // 1 MiB aligned bases serve every operand
  return based_addr(address, base);
}

Addr Emitter::dram_addr(Loc where) {
  const uint64_t address = where.address;
  if (where.reg != 0) {
    if (address < kDramOffsetLimit) return {where.reg, static_cast<int64_t>(address)};
    // Beyond the offset field: the high part joins the run-time register in the scratch register.
    const uint64_t high = address & ~((1ull << 31) - 1);
    if (high > 0xFFFFFFFFull)
      fail("DRAM address 0x{:x} is beyond what register + 32-bit offset operands reach (8 GiB)", address);
    li(kAddressScratchRegister, high);
    scalar(Opcode::add, kAddressScratchRegister, kAddressScratchRegister, where.reg);
    return {kAddressScratchRegister, static_cast<int64_t>(address - high)};
  }
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
  if (m_dynamic) engine::plan_op(chip(), m_state_hi, d);            // the same at the highest values
  group.macs += plan.macs;
  group.vector_elements += plan.vector_elements;
  group.sram_bytes += plan.sram_bytes;
  if (plan.has_dram) (plan.dram_write ? group.dram_write_bytes : group.dram_read_bytes) += plan.dram_bytes;
  ++group.instructions;
  m_builder.emit(d);
  m_group_of_pc.push_back(static_cast<int32_t>(m_groups.size()) - 1);
}

void Emitter::dma_load(Loc dram, Loc sram, int64_t rows, int64_t row_bytes, int64_t dram_stride,
                       int64_t sram_stride) {
  const Addr s = sram_addr(sram, kDmaSramOffsetLimit), g = dram_addr(dram);
  Decoded d{.opcode = Opcode::dma_ld};
  d.dram_reg = g.reg, d.dram_off = g.offset, d.sram_reg = s.reg, d.sram_off = s.offset;
  d.rows = rows, d.row_bytes = row_bytes, d.dram_stride = dram_stride, d.sram_stride = sram_stride;
  note(d);
}

void Emitter::dma_store(Loc dram, Loc sram, int64_t rows, int64_t row_bytes, int64_t dram_stride,
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

void Emitter::ctx(engine::ContextMode mode, Loc c, int64_t first, int64_t count) {
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

void Emitter::dequant(const VectorOperands& w, engine::VectorArgs v, engine::WeightFormat format) {
  const auto lim = static_cast<int64_t>(kComputeOffsetLimit);
  const Addr b = sram_addr(w.b, lim), c = sram_addr(w.c, lim), s = sram_addr(w.s, lim);
  Decoded d{.opcode = Opcode::dequant};
  d.m = v.rows, d.cols = v.cols, d.ldc = v.ldc, d.fmt = static_cast<int64_t>(format);
  set_vector_addrs(d, {}, b, c, s);
  note(d);
}

void Emitter::halt() {
  if (m_groups.empty()) begin_group("halt", "halt", -1);
  m_builder.emit(Decoded{.opcode = Opcode::halt});
  m_group_of_pc.push_back(static_cast<int32_t>(m_groups.size()) - 1);
}

void Emitter::sem_set(int sem) {
  m_builder.sem_set(sem);
  m_group_of_pc.push_back(static_cast<int32_t>(m_groups.size()) - 1);
}

void Emitter::sem_clr(int sem) {
  m_builder.sem_clr(sem);
  m_group_of_pc.push_back(static_cast<int32_t>(m_groups.size()) - 1);
}

void Emitter::sem_wait(int sem, bool until_clear, int64_t timeout_cycles) {
  m_builder.sem_wait(sem, until_clear, timeout_cycles);
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
