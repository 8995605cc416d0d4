// Simulator core: per-engine front end, unit queues, hazard tracking, semaphores and multi-engine stepping.
// (Model description in simulator.h; per-op costs in timing.cpp; semantics in ops_*.cpp.)
#include "engine/simulator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/assembler.h"
#include "engine/timing.h"

namespace xpusim::engine {

EngineFault::EngineFault(int engine, int64_t pc, int64_t cycle, std::string instruction, std::string cause)
    : Error(fmt::format("engine {}: fault at pc {} (cycle {}): `{}`: {}", engine, pc, cycle, instruction,
                        cause)),
      m_engine(engine),
      m_pc(pc),
      m_cycle(cycle),
      m_instruction(std::move(instruction)),
      m_cause(std::move(cause)) {}

std::string_view stall_name(Stall stall) {
  constexpr std::string_view names[] = {
      "register_dependency", "queue_full", "icache_refill", "branch", "drain", "semaphore"};
  static_assert(std::size(names) == static_cast<size_t>(Stall::COUNT));
  return names[static_cast<size_t>(stall)];
}

uint64_t RunResult::total_macs() const {
  uint64_t total = 0;
  for (const EngineStats& e : engines) total += e.macs;
  return total;
}

uint64_t RunResult::total_dram_bytes() const {
  uint64_t total = 0;
  for (const EngineStats& e : engines) total += e.dram_read_bytes + e.dram_write_bytes;
  return total;
}

namespace {

struct InFlight {
  std::array<ByteRange, 5> reads;
  int read_count;
  std::array<ByteRange, 2> writes;
  int write_count;
  ByteRange dram;
  bool has_dram, dram_write, uses_contexts;
  int64_t ready;
};

bool conflicts(const InFlight& f, const OpPlan& p) {
  for (int i = 0; i < f.write_count; ++i) {
    for (int j = 0; j < p.read_count; ++j)
      if (f.writes[static_cast<size_t>(i)].overlaps(p.reads[static_cast<size_t>(j)])) return true;
    for (int j = 0; j < p.write_count; ++j)
      if (f.writes[static_cast<size_t>(i)].overlaps(p.writes[static_cast<size_t>(j)])) return true;
  }
  for (int i = 0; i < f.read_count; ++i)
    for (int j = 0; j < p.write_count; ++j)
      if (f.reads[static_cast<size_t>(i)].overlaps(p.writes[static_cast<size_t>(j)])) return true;
  if (f.has_dram && p.has_dram && (f.dram_write || p.dram_write) && f.dram.overlaps(p.dram)) return true;
  return f.uses_contexts && p.uses_contexts;
}

struct UnitTiming {
  int64_t free_at = 0;
  std::vector<int64_t> starts;  // ring of the last queue_depth start times
  size_t next = 0;
};

struct AddressStream {
  int reg = -1;
  int64_t stride = 0;
};

enum class StepResult { ran, blocked, halted };

struct SemaphoreFlag {
  bool value = false;
};

}  // namespace

struct Simulator::Impl {
  struct Engine {
    EngineState state;
    std::vector<Decoded> code;
    std::vector<std::string> decode_error;  // non-empty: invalid word
    std::vector<Descriptor> loaded;         // the words `code` was decoded from (reloads skip decoding)
    bool has_program = false, halted = false, blocked = false;
    int64_t pc = 0, now = 0, max_ready = 0, div_free = 0;
    std::array<int64_t, 64> reg_ready{};
    std::array<UnitTiming, kUnitCount> units;
    std::vector<InFlight> in_flight;
    std::array<AddressStream, 16> streams;
    int64_t icache_base = -1;
    // Blocked in sem.wait:
    int64_t wait_sem = 0, wait_since = 0, wait_deadline = 0;
    bool wait_for_clear = false;
    EngineStats stats;
  };

  ChipConfig chip;
  RunOptions options;
  DramImage dram;
  std::vector<Engine> engines;
  std::vector<SemaphoreFlag> flags;
  int64_t channel_free = 0;
  double channel_bytes_per_cycle = 1;
  std::vector<InstrRecord> records;

  Impl(ChipConfig c, RunOptions o) : chip(std::move(c)), options(o) {
    engines.resize(static_cast<size_t>(chip.engines));
    for (size_t i = 0; i < engines.size(); ++i) {
      Engine& e = engines[i];
      e.state.chip = &chip;
      e.state.engine_index = static_cast<int>(i);
      e.state.functional = options.functional;
      e.state.sram.assign(static_cast<size_t>(chip.sram_bytes()), 0);
      e.state.dram = &dram;
      e.state.ctx_max.assign(static_cast<size_t>(chip.softmax_contexts),
                             -std::numeric_limits<float>::infinity());
      e.state.ctx_sum.assign(static_cast<size_t>(chip.softmax_contexts), 0.0f);
      for (UnitTiming& u : e.units) u.starts.assign(static_cast<size_t>(chip.queue_depth), 0);
    }
    flags.resize(static_cast<size_t>(chip.semaphores));
    channel_bytes_per_cycle = chip.dram_aggregate_gbps * 1e9 / (chip.clock_mhz * 1e6);
  }

  [[noreturn]] void fault(const Engine& e, const std::string& cause) const {
    std::string text = "<outside program>";
    if (e.pc >= 0 && static_cast<size_t>(e.pc) < e.code.size())
      text = e.decode_error[static_cast<size_t>(e.pc)].empty()
                 ? disassemble_one(e.code[static_cast<size_t>(e.pc)])
                 : "<invalid instruction>";
    throw EngineFault(e.state.engine_index, e.pc, e.now, text, cause);
  }

  void check_register(const Engine& e, int64_t reg) const {
    if (reg >= chip.registers)
      fault(e, fmt::format("register r{} does not exist (chip has {} registers)", reg, chip.registers));
  }

  int64_t read_ready(const Engine& e, std::initializer_list<int64_t> regs) const {
    int64_t t = e.now;
    for (int64_t r : regs) {
      check_register(e, r);
      t = std::max(t, e.reg_ready[static_cast<size_t>(r)]);
    }
    return t;
  }

  void write_reg(Engine& e, int64_t reg, uint32_t value, int64_t ready) {
    check_register(e, reg);
    if (reg == 0) return;  // r0 is hard-wired to zero
    e.state.regs[static_cast<size_t>(reg)] = value;
    e.reg_ready[static_cast<size_t>(reg)] = ready;
  }

  void record_trace(Engine& e, int64_t cycle, int32_t marker) {
    ++e.stats.instructions;
    if (static_cast<int64_t>(e.stats.trace_buffer.size()) < chip.trace_entries)
      e.stats.trace_buffer.push_back({cycle, static_cast<uint32_t>(e.pc), marker});
  }

  void fetch(Engine& e) {
    const int64_t window = chip.icache_window_instructions;
    if (e.icache_base >= 0 && e.pc >= e.icache_base && e.pc < e.icache_base + window) return;
    // Refill the window starting at the 64-byte (2-instruction) aligned fetch address; the fetch stops at
    // the end of the program (a short kernel does not pay for a full window).
    e.icache_base = e.pc & ~int64_t{1};
    const int64_t fetched = std::min(window, static_cast<int64_t>(e.code.size()) - e.icache_base);
    const int64_t cost = chip.icache_refill_latency_cycles +
                         (fetched * kDescriptorBytes + chip.icache_fetch_bytes_per_cycle - 1) /
                             chip.icache_fetch_bytes_per_cycle;
    e.now += cost;
    e.stats.stalls[static_cast<size_t>(Stall::icache_refill)] += cost;
    ++e.stats.icache_refills;
  }

  void jump(Engine& e, int64_t target, int64_t t) {
    if (target < 0 || target >= static_cast<int64_t>(e.code.size()))
      fault(e, fmt::format("jump outside the program: target {} but the program has {} instructions", target,
                           e.code.size()));
    const int64_t penalty = chip.latency(LatencyClass::branch);
    if (t > e.now) e.stats.stalls[static_cast<size_t>(Stall::register_dependency)] += t - e.now;
    record_trace(e, t, -1);
    e.stats.stalls[static_cast<size_t>(Stall::branch)] += penalty;
    e.now = t + 1 + penalty;
    e.pc = target;
  }

  int64_t drain_time(const Engine& e) const { return std::max(e.now, e.max_ready); }

  void set_flag(Engine& e, int64_t sem, bool value, int64_t effective) {
    flags[static_cast<size_t>(sem)].value = value;
    for (Engine& other : engines) {
      if (!other.blocked || other.wait_sem != sem || other.wait_for_clear == value) continue;
      other.blocked = false;
      const int64_t resume = std::max(other.wait_since, effective);
      other.stats.stalls[static_cast<size_t>(Stall::semaphore)] += resume - other.wait_since;
      other.now = resume + 1;
      record_trace(other, resume, -1);
      ++other.pc;
    }
    (void)e;
  }

  Engine* pick_next() {
    Engine* best = nullptr;
    for (Engine& e : engines)
      if (e.has_program && !e.halted && !e.blocked && (best == nullptr || e.now < best->now)) best = &e;
    return best;
  }

  StepResult step(Engine& e);
  StepResult step_frontend(Engine& e, const Decoded& d, const OpSpec& spec);
  void retire(Engine& e, int64_t t);
  StepResult step_control(Engine& e, const Decoded& d);
  void step_alu(Engine& e, const Decoded& d, const OpSpec& spec);
  void step_load(Engine& e, const Decoded& d);
  void step_branch(Engine& e, const Decoded& d);
  StepResult step_sync(Engine& e, const Decoded& d);
  void step_unit(Engine& e, const Decoded& d, const OpSpec& spec);
  RunResult run();
};

StepResult Simulator::Impl::step(Engine& e) {
  if (e.pc < 0 || e.pc >= static_cast<int64_t>(e.code.size()))
    fault(e, fmt::format("ran past the end of the program ({} instructions) without halt", e.code.size()));
  fetch(e);
  const auto index = static_cast<size_t>(e.pc);
  if (!e.decode_error[index].empty()) fault(e, e.decode_error[index]);
  const Decoded& d = e.code[index];
  const OpSpec& spec = op_spec(d.opcode);
  if (spec.unit == Unit::frontend) return step_frontend(e, d, spec);
  step_unit(e, d, spec);
  return StepResult::ran;
}

// Retires a frontend instruction issued at cycle t (after its register operands were ready).
void Simulator::Impl::retire(Engine& e, int64_t t) {
  if (t > e.now) e.stats.stalls[static_cast<size_t>(Stall::register_dependency)] += t - e.now;
  record_trace(e, t, -1);
  e.now = t + 1;
  ++e.pc;
}

// The frontend's instructions by class: control, scalar ALU, scalar load, branches, streams and semaphores.
StepResult Simulator::Impl::step_frontend(Engine& e, const Decoded& d, const OpSpec& spec) {
  switch (d.opcode) {
    case Opcode::nop:
    case Opcode::halt:
    case Opcode::fence:
    case Opcode::mark:
      return step_control(e, d);
    case Opcode::li:
    case Opcode::add:
    case Opcode::sub:
    case Opcode::mul:
    case Opcode::min:
    case Opcode::max:
    case Opcode::div:
    case Opcode::addi:
    case Opcode::muli:
    case Opcode::shl:
    case Opcode::shr:
      step_alu(e, d, spec);
      return StepResult::ran;
    case Opcode::ld:
      step_load(e, d);
      return StepResult::ran;
    case Opcode::jmp:
    case Opcode::jmp_rel:
    case Opcode::jmp_reg:
    case Opcode::jz:
    case Opcode::jnz:
    case Opcode::bz:
    case Opcode::bnz:
    case Opcode::loop:
      step_branch(e, d);
      return StepResult::ran;
    default:
      return step_sync(e, d);
  }
}

StepResult Simulator::Impl::step_control(Engine& e, const Decoded& d) {
  if (d.opcode == Opcode::nop) {
    retire(e, e.now);
    return StepResult::ran;
  }
  const int64_t t = drain_time(e);
  e.stats.stalls[static_cast<size_t>(Stall::drain)] += t - e.now;
  if (d.opcode == Opcode::halt) {
    e.now = t;
    record_trace(e, t, -1);
    e.halted = true;
    e.stats.cycles = t;
    return StepResult::halted;
  }
  record_trace(e, t, d.opcode == Opcode::mark ? static_cast<int32_t>(d.id) : -1);  // fence, mark
  e.now = t + 1;
  ++e.pc;
  return StepResult::ran;
}

void Simulator::Impl::step_alu(Engine& e, const Decoded& d, const OpSpec& spec) {
  auto reg = [&](int64_t r) { return e.state.regs[static_cast<size_t>(r)]; };
  if (d.opcode == Opcode::li) {
    write_reg(e, d.rd, static_cast<uint32_t>(d.imm), e.now + chip.latency(LatencyClass::alu));
    retire(e, e.now);
    return;
  }
  const bool immediate = d.opcode == Opcode::addi || d.opcode == Opcode::muli || d.opcode == Opcode::shl ||
                         d.opcode == Opcode::shr;
  if (immediate) {
    const int64_t t = read_ready(e, {d.rs});
    const uint32_t a = reg(d.rs), imm = static_cast<uint32_t>(d.imm);
    const uint32_t v = d.opcode == Opcode::addi   ? a + imm
                       : d.opcode == Opcode::muli ? a * imm
                       : d.opcode == Opcode::shl  ? a << (imm & 31)
                                                  : a >> (imm & 31);
    write_reg(e, d.rd, v, t + chip.latency(spec.latency));
    retire(e, t);
    return;
  }
  int64_t t = read_ready(e, {d.rs, d.rt});
  const uint32_t a = reg(d.rs), b = reg(d.rt);
  uint32_t v = 0;
  const int64_t latency = chip.latency(spec.latency);
  switch (d.opcode) {
    case Opcode::add:
      v = a + b;
      break;
    case Opcode::sub:
      v = a - b;
      break;
    case Opcode::mul:
      v = a * b;
      break;
    case Opcode::min:
      v = std::min(a, b);
      break;
    case Opcode::max:
      v = std::max(a, b);
      break;
    default:
      if (b == 0) fault(e, "division by zero");
      v = a / b;
      t = std::max(t, e.div_free);  // one sequential divider
      e.div_free = t + latency;
      break;
  }
  write_reg(e, d.rd, v, t + latency);
  retire(e, t);
}

void Simulator::Impl::step_load(Engine& e, const Decoded& d) {
  // A data hazard like the units have: wait until every in-flight op writing these 4 bytes is ready.
  int64_t t = read_ready(e, {d.rs});
  const uint64_t address = e.state.address(d.rs, d.imm);
  if (address + 4 > static_cast<uint64_t>(chip.sram_bytes()))
    fault(e, fmt::format("SRAM overflow: ld reads [0x{:x}, 0x{:x}) but SRAM is 0x{:x} bytes", address,
                         address + 4, chip.sram_bytes()));
  const ByteRange bytes{address, address + 4};
  for (const InFlight& f : e.in_flight)
    for (int i = 0; i < f.write_count; ++i)
      if (f.writes[static_cast<size_t>(i)].overlaps(bytes)) t = std::max(t, f.ready);
  uint32_t value = 0;  // timing-only runs have no values: the program sees 0
  if (options.functional) std::memcpy(&value, e.state.sram.data() + address, 4);
  write_reg(e, d.rd, value, t + chip.latency(LatencyClass::alu));
  retire(e, t);
}

void Simulator::Impl::step_branch(Engine& e, const Decoded& d) {
  auto reg = [&](int64_t r) { return e.state.regs[static_cast<size_t>(r)]; };
  switch (d.opcode) {
    case Opcode::jmp:
      jump(e, d.target, e.now);
      return;
    case Opcode::jmp_rel:
      jump(e, e.pc + d.target, e.now);
      return;
    case Opcode::jmp_reg:
      jump(e, reg(d.rs), read_ready(e, {d.rs}));
      return;
    case Opcode::loop: {
      const int64_t alu = chip.latency(LatencyClass::alu);
      const int64_t t = read_ready(e, {d.rd});
      const uint32_t count = reg(d.rd) - 1;
      write_reg(e, d.rd, count, t + alu);
      for (int s = 0; s < 16; ++s) {
        if (!((d.mask >> s) & 1)) continue;
        const AddressStream& stream = e.streams[static_cast<size_t>(s)];
        if (stream.reg < 0)
          fault(e, fmt::format("address stream {} advanced but never bound (use stream)", s));
        write_reg(e, stream.reg, reg(stream.reg) + static_cast<uint32_t>(stream.stride), t + alu);
      }
      if (count != 0)
        jump(e, e.pc + d.target, t);
      else
        retire(e, t);
      return;
    }
    default: {  // jz, jnz, bz, bnz
      const int64_t t = read_ready(e, {d.rs});
      const bool zero = reg(d.rs) == 0;
      const bool taken = (d.opcode == Opcode::jz || d.opcode == Opcode::bz) ? zero : !zero;
      const bool relative = d.opcode == Opcode::bz || d.opcode == Opcode::bnz;
      if (taken)
        jump(e, relative ? e.pc + d.target : d.target, t);
      else
        retire(e, t);
      return;
    }
  }
}

StepResult Simulator::Impl::step_sync(Engine& e, const Decoded& d) {
  switch (d.opcode) {
    case Opcode::stream: {
      if (d.sid >= chip.address_streams)
        fault(e, fmt::format("address stream {} does not exist (chip has {})", d.sid, chip.address_streams));
      check_register(e, d.rd);
      e.streams[static_cast<size_t>(d.sid)] = {static_cast<int>(d.rd), d.imm};
      retire(e, e.now);
      return StepResult::ran;
    }
    case Opcode::sem_set:
    case Opcode::sem_clr: {
      if (d.sem >= chip.semaphores)
        fault(e, fmt::format("semaphore {} does not exist (chip has {})", d.sem, chip.semaphores));
      const int64_t t = drain_time(e);
      if (t > e.now) {  // apply in global time order: come back when the drain completes
        e.stats.stalls[static_cast<size_t>(Stall::drain)] += t - e.now;
        e.now = t;
        return StepResult::ran;
      }
      set_flag(e, d.sem, d.opcode == Opcode::sem_set, t + chip.latency(LatencyClass::sem));
      record_trace(e, t, -1);
      e.now = t + 1;
      ++e.pc;
      return StepResult::ran;
    }
    case Opcode::sem_wait: {
      if (d.sem >= chip.semaphores)
        fault(e, fmt::format("semaphore {} does not exist (chip has {})", d.sem, chip.semaphores));
      const bool want = d.value == 0;
      if (flags[static_cast<size_t>(d.sem)].value == want) {
        retire(e, e.now);
        return StepResult::ran;
      }
      e.blocked = true;
      e.wait_sem = d.sem;
      e.wait_for_clear = !want;
      e.wait_since = e.now;
      e.wait_deadline = e.now + (d.timeout != 0 ? d.timeout : chip.semaphore_timeout_cycles);
      return StepResult::blocked;
    }
    default:
      XPUSIM_ASSERT(false);
  }
  return StepResult::ran;
}

void Simulator::Impl::step_unit(Engine& e, const Decoded& d, const OpSpec& spec) {
  // Address registers are read at issue.
  int64_t t = e.now;
  for (const Operand& operand : spec.operands)
    if (operand.kind == OperandKind::mem) t = std::max(t, read_ready(e, {d.*operand.reg}));
  if (t > e.now) e.stats.stalls[static_cast<size_t>(Stall::register_dependency)] += t - e.now;
  OpPlan plan;
  try {
    plan = plan_op(chip, e.state, d);
  } catch (const EngineFault&) {
    throw;
  } catch (const Error& error) {
    fault(e, error.what());
  }
  UnitTiming& unit = e.units[static_cast<size_t>(plan.unit)];
  const int64_t slot_free = unit.starts[unit.next];
  if (slot_free > t) {
    e.stats.stalls[static_cast<size_t>(Stall::queue_full)] += slot_free - t;
    t = slot_free;
  }
  // Drop finished ops, then wait for conflicting ones.
  std::erase_if(e.in_flight, [&](const InFlight& f) { return f.ready <= t; });
  int64_t data_ready = 0;
  for (const InFlight& f : e.in_flight)
    if (conflicts(f, plan)) data_ready = std::max(data_ready, f.ready);
  const int64_t unit_ready = std::max(t, unit.free_at);
  const int64_t start = std::max(unit_ready, data_ready);
  UnitCounters& counters = e.stats.units[static_cast<size_t>(plan.unit)];
  counters.data_wait_cycles += start - unit_ready;
  int64_t busy_end = start + plan.busy;
  if (plan.has_dram) {  // share the DRAM channel with every other transfer of every engine
    const auto occupancy =
        static_cast<int64_t>(std::ceil(static_cast<double>(plan.dram_bytes) / channel_bytes_per_cycle));
    const int64_t channel_start = std::max(start, channel_free);
    channel_free = channel_start + occupancy;
    busy_end = std::max(busy_end, channel_free);
  }
  const int64_t ready = busy_end + plan.latency;
  // Compute units run ops back to back without overlapping fills (engine.md §7); DMA pipelines requests.
  unit.free_at = (plan.unit == Unit::dma_load || plan.unit == Unit::dma_store) ? busy_end : ready;
  unit.starts[unit.next] = start;
  unit.next = (unit.next + 1) % unit.starts.size();
  e.in_flight.push_back({plan.reads, plan.read_count, plan.writes, plan.write_count, plan.dram, plan.has_dram,
                         plan.dram_write, plan.uses_contexts, ready});
  e.max_ready = std::max(e.max_ready, ready);
  if (options.functional && spec.execute != nullptr) spec.execute(e.state, d);
  counters.ops += 1;
  counters.busy_cycles += busy_end - start;
  e.stats.macs += plan.macs;
  e.stats.vector_elements += plan.unit == Unit::matrix && plan.macs > 0 ? 0 : plan.vector_elements;
  e.stats.sram_bytes += plan.sram_bytes;
  if (plan.has_dram)
    (plan.dram_write ? e.stats.dram_write_bytes : e.stats.dram_read_bytes) += plan.dram_bytes;
  if (options.record_trace && records.size() < options.max_trace_records)
    records.push_back(
        {e.state.engine_index, static_cast<uint32_t>(e.pc), plan.unit, t, start, busy_end, ready});
  record_trace(e, ready, -1);
  e.now = t + 1;
  ++e.pc;
}

RunResult Simulator::Impl::run() {
  const int64_t watchdog = options.watchdog_cycles != 0 ? options.watchdog_cycles : chip.watchdog_cycles;
  int64_t executed = 0;
  while (true) {
    Engine* e = pick_next();
    if (e == nullptr) {
      std::string detail;
      Engine* first_blocked = nullptr;
      for (Engine& o : engines)
        if (o.blocked) {
          first_blocked = first_blocked ? first_blocked : &o;
          detail += fmt::format("; engine {} waits at pc {} for semaphore {} to be {}", o.state.engine_index,
                                o.pc, o.wait_sem, o.wait_for_clear ? 0 : 1);
        }
      if (first_blocked != nullptr) {
        first_blocked->now = first_blocked->wait_since;
        fault(
            *first_blocked,
            fmt::format("deadlock: every running engine waits on a semaphore nobody will change{}", detail));
      }
    }
    // A blocked engine whose deadline passes before anything else can happen times out.
    for (Engine& w : engines)
      if (w.blocked && e != nullptr && e->now > w.wait_deadline) {
        w.now = w.wait_deadline;
        fault(w, fmt::format("semaphore timeout: semaphore {} was not {} within {} cycles", w.wait_sem,
                             w.wait_for_clear ? "cleared" : "set", w.wait_deadline - w.wait_since));
      }
    if (e == nullptr) break;
    const bool solo = engines.size() == 1;
    do {
      step(*e);
      ++executed;
      if (e->now > watchdog) fault(*e, fmt::format("watchdog: {} cycles exceeded (runaway loop?)", watchdog));
    } while (solo && !e->halted && !e->blocked);
  }
  RunResult result;
  double energy = 0;
  for (Engine& e : engines) {
    result.cycles = std::max(result.cycles, e.stats.cycles);
    energy += static_cast<double>(e.stats.macs) * chip.energy_pj_per_mac +
              static_cast<double>(e.stats.vector_elements) * chip.energy_pj_per_vector_element +
              static_cast<double>(e.stats.sram_bytes) * chip.energy_pj_per_sram_byte +
              static_cast<double>(e.stats.dram_read_bytes + e.stats.dram_write_bytes) *
                  chip.energy_pj_per_dram_byte;
    result.engines.push_back(e.stats);
  }
  (void)executed;
  result.seconds = static_cast<double>(result.cycles) / (chip.clock_mhz * 1e6);
  result.energy_joules = energy * 1e-12 + chip.static_power_mw * 1e-3 * result.seconds;
  result.records = std::move(records);
  return result;
}

Simulator::Simulator(ChipConfig chip, RunOptions options)
    : m_impl(std::make_unique<Impl>(std::move(chip), options)) {}
Simulator::~Simulator() = default;
const ChipConfig& Simulator::chip() const { return m_impl->chip; }
DramImage& Simulator::dram() { return m_impl->dram; }

EngineState& Simulator::engine_state(int engine) {
  if (engine < 0 || engine >= static_cast<int>(m_impl->engines.size()))
    fail("engine {} does not exist (chip {} has {} engines)", engine, m_impl->chip.name,
         m_impl->engines.size());
  return m_impl->engines[static_cast<size_t>(engine)].state;
}

void Simulator::load_program(int engine, const Program& program) {
  engine_state(engine);
  Impl::Engine& e = m_impl->engines[static_cast<size_t>(engine)];
  e.has_program = true;
  if (e.loaded == program.code) return;  // a host driver relaunching the same program: decoded already
  e.loaded = program.code;
  e.code.assign(program.code.size(), Decoded{});
  e.decode_error.assign(program.code.size(), std::string());
  for (size_t i = 0; i < program.code.size(); ++i) {
    try {
      e.code[i] = decode(program.code[i]);
    } catch (const Error& error) {
      e.decode_error[i] = error.what();
    }
  }
}

RunResult Simulator::run() { return m_impl->run(); }

void Simulator::restart() {
  Impl& m = *m_impl;
  for (Impl::Engine& e : m.engines) {
    e.halted = e.blocked = false;
    e.pc = e.now = e.max_ready = e.div_free = 0;
    e.reg_ready.fill(0);
    for (UnitTiming& u : e.units) {
      u = UnitTiming{};
      u.starts.assign(static_cast<size_t>(m.chip.queue_depth), 0);
    }
    e.in_flight.clear();
    e.streams = {};
    e.icache_base = -1;
    e.wait_sem = e.wait_since = e.wait_deadline = 0;
    e.wait_for_clear = false;
    e.stats = EngineStats{};
  }
  for (SemaphoreFlag& flag : m.flags) flag = SemaphoreFlag{};
  m.channel_free = 0;
  m.records.clear();
}

}  // namespace xpusim::engine
