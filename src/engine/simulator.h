// The engine simulator: one or more engines (sharing DRAM and semaphores) running programs, in functional
// mode (values, bit-exact under engine_numerics.h) or timing-only mode (identical cycle counts: timing never
// depends on data values, only on register values and operands, which both modes compute).
// Timing model (event-driven, no idle ticking): the front end issues one instruction per cycle in order;
// scalar/control ops execute there (latency classes alu/mul/div/branch); data ops go to per-unit in-order
// queues (queue_depth) on dma_load, dma_store, matrix and vector (or matrix when shared_vector_unit) units.
// Each data op starts when its unit is free, its queue slot was reached, and every earlier in-flight op it
// conflicts with (overlapping SRAM/DRAM ranges with a write on either side, or softmax contexts) is ready;
// busy and ready times come from timing.h. So DMA overlaps compute exactly when the program double-buffers.
// DMA transfers additionally share one DRAM channel (aggregate bandwidth) across all engines.
// Instruction fetch: a window of icache_window_instructions; fetching outside it refills the window.
// Engines are stepped in order of their front-end time; semaphore updates take effect in time order.
// Non-goals: modelling bank conflicts, DRAM pages/refresh, i-cache refills competing for DRAM bandwidth.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "engine/chip_config.h"
#include "engine/program.h"
#include "engine/state.h"

namespace xpusim::engine {

struct RunOptions {
  bool functional = true;
  bool record_trace = false;  // keep per-instruction records for Chrome/SVG traces
  size_t max_trace_records = 2'000'000;
  int64_t watchdog_cycles = 0;  // 0: the chip's frontend.watchdog_cycles
};

// A fault in a simulated program (never a simulator crash): names engine, PC, instruction and cause.
class EngineFault : public Error {
 public:
  EngineFault(int engine, int64_t pc, int64_t cycle, std::string instruction, std::string cause);
  int engine() const { return m_engine; }
  int64_t pc() const { return m_pc; }
  int64_t cycle() const { return m_cycle; }
  const std::string& instruction() const { return m_instruction; }
  const std::string& cause() const { return m_cause; }

 private:
  int m_engine;
  int64_t m_pc, m_cycle;
  std::string m_instruction, m_cause;
};

struct InstrRecord {
  int engine;
  uint32_t pc;
  Unit unit;
  int64_t issue, start, busy_end, ready;
};

struct TraceEntry {  // the program-visible trace buffer: one timestamp per executed instruction
  int64_t cycle;
  uint32_t pc;
  int32_t marker;  // mark id, -1 for ordinary instructions
};

enum class Stall : uint8_t {
  register_dependency,
  queue_full,
  icache_refill,
  branch,
  drain,
  semaphore,
  COUNT
};
std::string_view stall_name(Stall stall);

struct UnitCounters {
  int64_t ops = 0;
  int64_t busy_cycles = 0;       // cycles doing work (excl. fill latency)
  int64_t data_wait_cycles = 0;  // unit free but waiting on a conflicting earlier op
};

struct EngineStats {
  int64_t cycles = 0;
  int64_t instructions = 0;
  std::array<UnitCounters, kUnitCount> units{};
  std::array<int64_t, static_cast<size_t>(Stall::COUNT)> stalls{};
  uint64_t macs = 0, vector_elements = 0, dram_read_bytes = 0, dram_write_bytes = 0, sram_bytes = 0;
  int64_t icache_refills = 0;
  std::vector<TraceEntry> trace_buffer;
};

struct RunResult {
  int64_t cycles = 0;
  double seconds = 0;
  double energy_joules = 0;
  std::vector<EngineStats> engines;
  std::vector<InstrRecord> records;
  uint64_t total_macs() const;
  uint64_t total_dram_bytes() const;
};

class Simulator {
 public:
  explicit Simulator(ChipConfig chip, RunOptions options = {});
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  const ChipConfig& chip() const;
  DramImage& dram();
  EngineState& engine_state(int engine);
  void load_program(int engine, const Program& program);  // engines without a program stay idle
  RunResult run();                                        // throws EngineFault
  // Prepares another run on the same machine: DRAM, SRAM and registers keep their contents (a host driver
  // launching the next program); control state, timing, statistics, the trace and semaphores start afresh.
  void restart();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace xpusim::engine
