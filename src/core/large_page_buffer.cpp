#include "core/large_page_buffer.h"

#include <algorithm>
#include <cstdint>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace xpusim {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

#if defined(__linux__)

LargePageBuffer::LargePageBuffer(size_t bytes) : m_size(bytes) {
  if (bytes == 0) return;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  m_mapped = (bytes + page - 1) / page * page;
  // Over-map by one huge page, then unmap the slack on both sides so the buffer starts 2 MiB aligned.
  const size_t reserve = m_mapped + kHugePage;
  void* base = ::mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(base);
  const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) ::munmap(base, aligned - start);
  const size_t tail = start + reserve - (aligned + m_mapped);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + m_mapped), tail);
  m_data = reinterpret_cast<std::byte*>(aligned);
  // Advice only: without THP (or with it disabled) the buffer keeps ordinary pages.
  ::madvise(m_data, m_mapped, MADV_HUGEPAGE);
}

void LargePageBuffer::release() {
  if (m_data != nullptr) ::munmap(m_data, m_mapped);
  m_data = nullptr;
  m_size = m_mapped = 0;
}

#else

LargePageBuffer::LargePageBuffer(size_t bytes) : m_size(bytes), m_mapped(bytes) {
  if (bytes == 0) return;
  m_data = static_cast<std::byte*>(::operator new (bytes, std::align_val_t{kHugePage}));
  std::fill(m_data, m_data + bytes, std::byte{0});
}

void LargePageBuffer::release() {
  if (m_data != nullptr) ::operator delete (m_data, std::align_val_t{kHugePage});
  m_data = nullptr;
  m_size = m_mapped = 0;
}

#endif

LargePageBuffer::~LargePageBuffer() { release(); }

LargePageBuffer::LargePageBuffer(LargePageBuffer&& other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)),
      m_size(std::exchange(other.m_size, 0)),
      m_mapped(std::exchange(other.m_mapped, 0)) {}

LargePageBuffer& LargePageBuffer::operator=(LargePageBuffer&& other) noexcept {
  if (this != &other) {
    release();
    m_data = std::exchange(other.m_data, nullptr);
    m_size = std::exchange(other.m_size, 0);
    m_mapped = std::exchange(other.m_mapped, 0);
  }
  return *this;
}

}  // namespace xpusim
