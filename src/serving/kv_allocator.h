// KvAllocator: where the scheduler gets KV-cache memory for its sequences. Two allocators implement it: the
// paged block manager (block_manager.h: fixed-size blocks, ref-counted sharing, prefix cache, copy-on-write)
// and the contiguous allocator (contiguous_allocator.h: one reserved range of the request's maximum length,
// the pre-PagedAttention baseline). Capacity is in token slots; both count the same slots so the two can be
// compared on one chip. Non-goals: the KV contents (the host executor owns its own fp32 cache; the simulator
// only needs the accounting), swapping to a host tier.
// HOWTO add an allocator: implement this interface in src/serving/<name>_allocator.cpp, add a KvPolicy value
// and a case in make_kv_allocator (block_manager.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace xpusim::serving {

using SeqId = int64_t;

// Snapshot of the allocator's memory, in token slots.
struct KvUsage {
  int64_t capacity_tokens = 0;     // all slots
  int64_t reserved_tokens = 0;     // slots handed to sequences (blocks in use, or reserved ranges)
  int64_t filled_tokens = 0;       // slots of those holding a real token's K/V (a shared slot counts once)
  int64_t cached_free_tokens = 0;  // paged: slots of free blocks still in the prefix cache
  // Share of reserved slots that hold real tokens (the PagedAttention paper's "effective KV usage").
  double utilization() const {
    return reserved_tokens > 0 ? static_cast<double>(filled_tokens) / static_cast<double>(reserved_tokens)
                               : 1.0;
  }
  // Share of all slots handed out (vLLM's kv_cache_usage_perc).
  double usage() const {
    return capacity_tokens > 0 ? static_cast<double>(reserved_tokens) / static_cast<double>(capacity_tokens)
                               : 0.0;
  }
};

struct KvCounters {
  int64_t prefix_queries = 0;  // prompt tokens looked up in the prefix cache
  int64_t prefix_hits = 0;     // of those, tokens found cached
  int64_t evictions = 0;       // cached blocks reused for other data
  int64_t copy_on_writes = 0;  // shared partial blocks copied before an append
  double hit_rate() const {
    return prefix_queries > 0 ? static_cast<double>(prefix_hits) / static_cast<double>(prefix_queries) : 0.0;
  }
};

class KvAllocator {
 public:
  virtual ~KvAllocator() = default;
  virtual std::string name() const = 0;  // "paged" or "contiguous"

  // Tokens of `tokens` (a new sequence's prompt) whose KV is already cached and could be shared: a multiple
  // of the block size, at most `max_tokens`. No side effects (the counters change on admit only).
  virtual int64_t cached_prefix(std::span<const int32_t> tokens, int64_t max_tokens) const = 0;

  // Admits a new sequence: takes the first `cached` tokens' cached blocks (cached <= cached_prefix()), and
  // room for `num_tokens` tokens in all (num_tokens >= cached). `max_len` is the most tokens the sequence can
  // reach (the contiguous allocator reserves it all now). `tokens` holds at least num_tokens known ids.
  // Returns false and changes nothing when the memory is not there.
  virtual bool admit(SeqId seq, std::span<const int32_t> tokens, int64_t cached, int64_t num_tokens,
                     int64_t max_len) = 0;

  // Grows an admitted sequence to hold `num_tokens` tokens (tokens.size() >= num_tokens). Returns false and
  // changes nothing when the memory is not there.
  virtual bool grow(SeqId seq, std::span<const int32_t> tokens, int64_t num_tokens) = 0;

  // A new sequence `child` holding the same tokens as `parent` (parallel sampling, beam search). Paged:
  // shares every block (copy-on-write on the next append into a partial block). Returns false when out of
  // memory.
  virtual bool fork(SeqId parent, SeqId child, int64_t max_len) = 0;

  // Frees the sequence's memory at once (finish, preemption, client disconnect). Unknown ids are a bug.
  virtual void release(SeqId seq) = 0;

  virtual bool holds(SeqId seq) const = 0;
  virtual KvUsage usage() const = 0;
  virtual const KvCounters& counters() const = 0;
  // Tokens one more sequence could get right now (free slots, cached-free blocks included).
  virtual int64_t free_tokens() const = 0;
  // Throws xpusim::Error describing the first broken invariant (tests and fuzzing call it after every op).
  virtual void check_invariants() const = 0;
};

enum class KvPolicy { PAGED, CONTIGUOUS };
KvPolicy kv_policy_from_name(const std::string& name);  // "paged" | "contiguous"; xpusim::Error otherwise

struct KvConfig {
  KvPolicy policy = KvPolicy::PAGED;
  int64_t capacity_tokens = 0;  // rounded down to whole blocks when paged
  int64_t block_size = 16;      // paged only: 1, 8, 16, 32, 64, 128 or 256 (vLLM's set)
  bool prefix_caching = true;   // paged only
};

std::unique_ptr<KvAllocator> make_kv_allocator(const KvConfig& config);

}  // namespace xpusim::serving
