// Per-instruction resource plan: which unit runs an op, how long it keeps the unit busy (throughput-bound
// cycles), its fill latency, the SRAM/DRAM byte ranges it reads and writes (for hazard tracking) and its
// work counters. plan_op() also validates every operand (shape, alignment, SRAM/DRAM bounds) and throws
// xpusim::Error with the cause; the simulator turns that into a fault naming the PC and instruction.
// Closed forms (cycles):  dot array    mm: m·n·ceil(k/lanes)
//                         systolic WS  mm: ceil(k/R)·ceil(n/C)·max(m, R) + R + C
//                         systolic OS  mm: ceil(m/R)·ceil(n/C)·max(k, R) + R + C
//                         vector ops: passes·rows·ceil(cols/vector_lanes)
//                         vtrans: max(rows, cols)·ceil(min(rows, cols)/transpose_elements_per_cycle)
//                         DMA: max(ceil(bytes/port) + bursts·burst_overhead,
//                         ceil(bursts·latency/outstanding))
// plus op_issue_cycles on every data op (descriptor decode and address setup, serial on the unit), and
// every result becomes visible `latency` cycles (chip [latency] per class) after the busy part ends; a
// matmul's fused epilogue adds the bias adder (vec) and activation (act) fills to the dot latency.
// HOWTO add an op: add its case to plan_op (the switch has no default, so the compiler lists missing ops).
#pragma once

#include <array>
#include <cstdint>

#include "engine/chip_config.h"
#include "engine/isa.h"
#include "engine/state.h"

namespace xpusim::engine {

struct ByteRange {
  uint64_t begin = 0, end = 0;  // [begin, end)
  bool overlaps(const ByteRange& other) const { return begin < other.end && other.begin < end; }
};

struct OpPlan {
  Unit unit = Unit::frontend;
  int64_t busy = 0;
  int64_t latency = 0;
  std::array<ByteRange, 5> reads{};
  int read_count = 0;
  std::array<ByteRange, 2> writes{};
  int write_count = 0;
  ByteRange dram{};
  bool has_dram = false, dram_write = false;
  bool uses_contexts = false;
  uint64_t macs = 0, vector_elements = 0, dram_bytes = 0, sram_bytes = 0;

  void read(ByteRange r) {
    reads[static_cast<size_t>(read_count++)] = r;
    sram_bytes += r.end - r.begin;
  }
  void write(ByteRange r) {
    writes[static_cast<size_t>(write_count++)] = r;
    sram_bytes += r.end - r.begin;
  }
};

OpPlan plan_op(const ChipConfig& chip, const EngineState& state, const Decoded& instr);

// Matrix-unit busy cycles for an m x n x k product on this chip (exposed for tests and kernel sizing).
int64_t matmul_busy_cycles(const ChipConfig& chip, int64_t m, int64_t n, int64_t k);

}  // namespace xpusim::engine
