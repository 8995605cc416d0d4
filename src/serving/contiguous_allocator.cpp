#include "serving/contiguous_allocator.h"

#include <algorithm>

#include "core/error.h"

namespace xpusim::serving {

ContiguousAllocator::ContiguousAllocator(int64_t capacity_tokens) : m_capacity(capacity_tokens) {
  if (capacity_tokens < 1) fail("KV capacity of {} tokens is empty", capacity_tokens);
  m_free.emplace(0, capacity_tokens);
}

bool ContiguousAllocator::reserve(int64_t length, Range& out) {
  for (auto it = m_free.begin(); it != m_free.end(); ++it) {
    if (it->second < length) continue;
    out.start = it->first;
    out.length = length;
    const int64_t rest = it->second - length;
    const int64_t rest_start = it->first + length;
    m_free.erase(it);
    if (rest > 0) m_free.emplace(rest_start, rest);
    m_reserved += length;
    return true;
  }
  return false;
}

bool ContiguousAllocator::admit(SeqId seq, std::span<const int32_t> tokens, int64_t cached,
                                int64_t num_tokens, int64_t max_len) {
  XPUSIM_ASSERT(!holds(seq) && cached == 0 && num_tokens <= static_cast<int64_t>(tokens.size()));
  Range range;
  if (!reserve(std::max(max_len, num_tokens), range)) return false;
  range.num_tokens = num_tokens;
  m_filled += num_tokens;
  m_counters.prefix_queries += static_cast<int64_t>(tokens.size());
  m_seqs.emplace(seq, range);
  return true;
}

bool ContiguousAllocator::grow(SeqId seq, std::span<const int32_t>, int64_t num_tokens) {
  auto it = m_seqs.find(seq);
  XPUSIM_ASSERT(it != m_seqs.end());
  Range& range = it->second;
  if (num_tokens <= range.num_tokens) return true;
  if (num_tokens > range.length) return false;  // past the reservation: a contiguous range cannot grow
  m_filled += num_tokens - range.num_tokens;
  range.num_tokens = num_tokens;
  return true;
}

bool ContiguousAllocator::fork(SeqId parent, SeqId child, int64_t max_len) {
  auto it = m_seqs.find(parent);
  XPUSIM_ASSERT(it != m_seqs.end() && !holds(child));
  const int64_t num_tokens = it->second.num_tokens;
  Range range;
  if (!reserve(std::max(max_len, num_tokens), range)) return false;
  range.num_tokens = num_tokens;  // the parent's KV is copied into the child's range
  m_filled += num_tokens;
  m_seqs.emplace(child, range);
  return true;
}

void ContiguousAllocator::release(SeqId seq) {
  auto it = m_seqs.find(seq);
  XPUSIM_ASSERT(it != m_seqs.end());
  int64_t start = it->second.start;
  int64_t length = it->second.length;
  m_reserved -= length;
  m_filled -= it->second.num_tokens;
  m_seqs.erase(it);
  auto next = m_free.lower_bound(start);
  if (next != m_free.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      length += prev->second;
      m_free.erase(prev);
    }
  }
  if (next != m_free.end() && start + length == next->first) {
    length += next->second;
    m_free.erase(next);
  }
  m_free.emplace(start, length);
}

KvUsage ContiguousAllocator::usage() const {
  KvUsage usage;
  usage.capacity_tokens = m_capacity;
  usage.reserved_tokens = m_reserved;
  usage.filled_tokens = m_filled;
  return usage;
}

int64_t ContiguousAllocator::free_tokens() const {
  int64_t largest = 0;
  for (const auto& [start, length] : m_free) largest = std::max(largest, length);
  return largest;
}

void ContiguousAllocator::check_invariants() const {
  std::map<int64_t, int64_t> all = m_free;
  int64_t reserved = 0, filled = 0;
  for (const auto& [seq, range] : m_seqs) {
    if (range.num_tokens > range.length)
      fail("sequence {}: {} tokens in {} slots", seq, range.num_tokens, range.length);
    if (!all.emplace(range.start, range.length).second) fail("sequence {}: range start reused", seq);
    reserved += range.length;
    filled += range.num_tokens;
  }
  int64_t at = 0;
  for (const auto& [start, length] : all) {
    if (start != at || length <= 0) fail("ranges overlap or leave a hole at slot {}", at);
    at = start + length;
  }
  if (at != m_capacity) fail("ranges cover {} of {} slots", at, m_capacity);
  for (auto it = m_free.begin(); it != m_free.end(); ++it) {
    auto next = std::next(it);
    if (next != m_free.end() && it->first + it->second == next->first)
      fail("free ranges not merged at {}", next->first);
  }
  if (reserved != m_reserved || filled != m_filled) fail("usage counters drifted");
}

}  // namespace xpusim::serving
