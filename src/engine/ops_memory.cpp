// DMA semantics (2-D strided raw byte copies) and the sparse DRAM image.
#include <algorithm>

#include "engine/ops.h"

namespace xpusim::engine {

void DramImage::read(uint64_t address, void* dst, size_t bytes) const {
  auto* out = static_cast<uint8_t*>(dst);
  while (bytes > 0) {
    const uint64_t page = address / kPageBytes;
    const uint64_t offset = address % kPageBytes;
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(bytes, kPageBytes - offset));
    const auto it = m_pages.find(page);
    if (it == m_pages.end())
      std::memset(out, 0, chunk);
    else
      std::memcpy(out, it->second->data() + offset, chunk);
    out += chunk;
    address += chunk;
    bytes -= chunk;
  }
}

const uint8_t* DramImage::contiguous(uint64_t address, size_t bytes) const {
  const uint64_t offset = address % kPageBytes;
  if (offset + bytes > kPageBytes) return nullptr;
  const auto it = m_pages.find(address / kPageBytes);
  return it == m_pages.end() ? nullptr : reinterpret_cast<const uint8_t*>(it->second->data()) + offset;
}

void DramImage::write(uint64_t address, const void* src, size_t bytes) {
  const auto* in = static_cast<const uint8_t*>(src);
  while (bytes > 0) {
    const uint64_t page = address / kPageBytes;
    const uint64_t offset = address % kPageBytes;
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(bytes, kPageBytes - offset));
    auto& slot = m_pages[page];
    if (!slot) slot = std::make_unique<LargePageBuffer>(kPageBytes);  // zero-filled
    std::memcpy(slot->data() + offset, in, chunk);
    in += chunk;
    address += chunk;
    bytes -= chunk;
  }
}

namespace {

// Both DMA directions walk the same rows: copy(dram address, SRAM pointer, bytes) moves one contiguous run.
template <typename CopyRun>
void dma_rows(EngineState& state, const Decoded& d, CopyRun copy) {
  const uint64_t dram = state.address(d.dram_reg, d.dram_off);
  const uint64_t sram = state.address(d.sram_reg, d.sram_off);
  const auto bytes = static_cast<size_t>(d.row_bytes);
  const uint64_t dstride = static_cast<uint64_t>(stride_or(d.dram_stride, d.row_bytes));
  const uint64_t sstride = static_cast<uint64_t>(stride_or(d.sram_stride, d.row_bytes));
  if (dstride == bytes && sstride == bytes) {  // both sides contiguous: one copy
    copy(dram, state.sram.data() + sram, static_cast<size_t>(d.rows) * bytes);
    return;
  }
  for (int64_t r = 0; r < d.rows; ++r)
    copy(dram + static_cast<uint64_t>(r) * dstride,
         state.sram.data() + sram + static_cast<uint64_t>(r) * sstride, bytes);
}

}  // namespace

// A contiguous load at least this large is taken for a weight strip whose successor follows it in DRAM.
constexpr uint64_t kReadAheadMinBytes = 16 << 10;

void op_dma_load(EngineState& state, const Decoded& d) {
  dma_rows(state, d, [&](uint64_t dram, uint8_t* sram, size_t n) { state.dram->read(dram, sram, n); });
  const uint64_t total = static_cast<uint64_t>(d.rows) * static_cast<uint64_t>(d.row_bytes);
  const bool contiguous = d.rows == 1 || stride_or(d.dram_stride, d.row_bytes) == d.row_bytes;
  if (contiguous && total >= kReadAheadMinBytes) {
    state.read_ahead = state.dram->contiguous(state.address(d.dram_reg, d.dram_off) + total, total);
    state.read_ahead_bytes = state.read_ahead != nullptr ? total : 0;
  }
}

void op_dma_store(EngineState& state, const Decoded& d) {
  dma_rows(state, d, [&](uint64_t dram, const uint8_t* sram, size_t n) { state.dram->write(dram, sram, n); });
}

}  // namespace xpusim::engine
