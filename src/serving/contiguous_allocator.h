// ContiguousAllocator: the pre-PagedAttention baseline (Orca / FasterTransformer style). Each sequence gets
// one contiguous range of token slots for its maximum length (prompt + max_tokens) when it is admitted,
// placed first-fit in a free list of ranges, so memory is lost to reservation (slots reserved for tokens not
// yet or never generated), internal fragmentation (the request stops early) and external fragmentation (free
// ranges too small for the next request). No sharing: no prefix cache, forks copy. Non-goals: compaction.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>

#include "serving/kv_allocator.h"

namespace xpusim::serving {

class ContiguousAllocator final : public KvAllocator {
 public:
  explicit ContiguousAllocator(int64_t capacity_tokens);  // xpusim::Error when < 1

  std::string name() const override { return "contiguous"; }
  int64_t cached_prefix(std::span<const int32_t>, int64_t) const override { return 0; }
  bool admit(SeqId seq, std::span<const int32_t> tokens, int64_t cached, int64_t num_tokens,
             int64_t max_len) override;
  bool grow(SeqId seq, std::span<const int32_t> tokens, int64_t num_tokens) override;
  bool fork(SeqId parent, SeqId child, int64_t max_len) override;
  void release(SeqId seq) override;
  bool holds(SeqId seq) const override { return m_seqs.count(seq) != 0; }
  KvUsage usage() const override;
  const KvCounters& counters() const override { return m_counters; }
  int64_t free_tokens() const override;  // the largest free range (what one sequence could get)
  void check_invariants() const override;

 private:
  struct Range {
    int64_t start = 0;
    int64_t length = 0;
    int64_t num_tokens = 0;
  };
  bool reserve(int64_t length, Range& out);  // first fit

  int64_t m_capacity;
  std::map<int64_t, int64_t> m_free;  // start -> length, disjoint, never adjacent (merged on release)
  std::unordered_map<SeqId, Range> m_seqs;
  int64_t m_reserved = 0;
  int64_t m_filled = 0;
  KvCounters m_counters;
};

}  // namespace xpusim::serving
