// LargePageBuffer: a zero-filled, writable buffer for data that is streamed from memory again and again
// (weights, bandwidth probes), placed on 2 MiB transparent huge pages where the kernel allows it.
// Why: this machine (and most Linux hosts) runs THP in "madvise" mode, so plain heap memory gets 4 KiB pages;
// a decode step streams ~1 GB of weights through the TLB, and on a virtual machine every TLB miss is a
// two-level page walk. Measured here (2 threads, 512 MiB streaming read): 45-48 GB/s on 4 KiB pages,
// 52-65 GB/s on huge pages in the same minutes.
// The mapping is 2 MiB aligned and advised MADV_HUGEPAGE before the first touch (advice given after the
// pages exist only helps once khugepaged gets round to them). Elsewhere (no THP): ordinary pages.
// Non-goals: hugetlbfs reservations (need root), file mappings (MappedFile: the page cache decides).
#pragma once

#include <cstddef>

namespace xpusim {

class LargePageBuffer {
 public:
  LargePageBuffer() = default;
  // Throws std::bad_alloc when the memory cannot be mapped.
  explicit LargePageBuffer(size_t bytes);
  ~LargePageBuffer();
  LargePageBuffer(LargePageBuffer&& other) noexcept;
  LargePageBuffer& operator=(LargePageBuffer&& other) noexcept;
  LargePageBuffer(const LargePageBuffer&) = delete;
  LargePageBuffer& operator=(const LargePageBuffer&) = delete;

  std::byte* data() { return m_data; }
  const std::byte* data() const { return m_data; }
  size_t size() const { return m_size; }

 private:
  void release();

  std::byte* m_data = nullptr;
  size_t m_size = 0;
  size_t m_mapped = 0;  // bytes mapped at m_data (size rounded up to whole pages)
};

// Buffers at least this large go on huge pages (smaller ones would waste most of a 2 MiB page).
constexpr size_t kLargePageMinBytes = size_t{2} << 20;

}  // namespace xpusim
