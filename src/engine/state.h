// Architectural state of one engine that instruction semantics read and write (SRAM, registers, softmax
// contexts) plus the shared DRAM image. Timing state lives in the simulator, not here.
// Non-goals: bounds checking — the planner (timing.cpp) validates every operand range before an op runs,
// so semantics functions may assume their operands are inside SRAM/DRAM.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/large_page_buffer.h"
#include "engine/chip_config.h"

namespace xpusim::engine {

// Sparse byte-addressed DRAM: 2 MiB pages allocated on first write; unwritten bytes read as zero. Pages are
// huge-page buffers (core/large_page_buffer.h): the functional simulator streams a model's weights through
// DMA every step, and 4 KiB pages cost that stream TLB walks.
class DramImage {
 public:
  void read(uint64_t address, void* dst, size_t bytes) const;
  void write(uint64_t address, const void* src, size_t bytes);
  // [address, address + bytes) as one pointer into a written page, or nullptr (not all in one page, or
  // never written).
  const uint8_t* contiguous(uint64_t address, size_t bytes) const;
  size_t allocated_bytes() const { return m_pages.size() * kPageBytes; }

 private:
  static constexpr uint64_t kPageBytes = 1 << 21;
  std::unordered_map<uint64_t, std::unique_ptr<LargePageBuffer>> m_pages;
};

struct EngineState {
  const ChipConfig* chip = nullptr;
  int engine_index = 0;
  bool functional = true;
  std::vector<uint8_t> sram;
  DramImage* dram = nullptr;
  std::array<uint32_t, 64> regs{};
  std::vector<float> ctx_max, ctx_sum;  // softmax contexts (running max and running sum)
  // Host-side read-ahead hint (functional runs, no architectural effect): the DRAM bytes that follow the
  // last large DMA load, i.e. most likely the next strip of the same weight matrix (ops_memory.cpp); the
  // next matmul prefetches them while it computes. (A queue of the last four hints, each matmul taking the
  // oldest, measured the same.)
  const uint8_t* read_ahead = nullptr;
  size_t read_ahead_bytes = 0;

  uint64_t address(int64_t reg, int64_t offset) const {
    return static_cast<uint64_t>(regs[static_cast<size_t>(reg)]) + static_cast<uint64_t>(offset);
  }
  uint16_t load_u16(uint64_t addr) const {
    uint16_t v;
    std::memcpy(&v, sram.data() + addr, 2);
    return v;
  }
  void store_u16(uint64_t addr, uint16_t v) { std::memcpy(sram.data() + addr, &v, 2); }
};

}  // namespace xpusim::engine
