// PagedBlockManager: the vLLM-style paged KV cache accounting. Memory is a pool of fixed-size blocks
// (default 16 token slots); each sequence has a block table (logical block i -> physical block id, append
// only). Blocks carry reference counts so sequences share them: forks (parallel sampling, beam search) share
// all blocks and copy the last partial block on the next append (copy-on-write); the prefix cache shares
// full blocks across requests. Prefix cache: every full block gets hash = xxh3(tokens of the block, seed =
// hash of the previous block) — a hash chain, so a hit means the whole prefix matches; a hit is also checked
// token by token against the block's stored ids, so a 64-bit collision cannot return wrong blocks. Freed
// blocks go to a doubly linked free queue: blocks still in the prefix cache to the tail in reverse table
// order (a request's last blocks are the least reusable, so they are evicted first), uncached blocks to the
// head (reused before any cached block is evicted — a small departure from vLLM V1, which queues all at the
// tail). Allocation pops the head; a cached block popped there is evicted (LRU). All operations are O(blocks
// touched). Non-goals: KV contents, swapping, sliding-window groups.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "serving/kv_allocator.h"

namespace xpusim::serving {

class PagedBlockManager final : public KvAllocator {
 public:
  // capacity_tokens is rounded down to whole blocks; xpusim::Error for a bad block size or < 1 block.
  PagedBlockManager(int64_t capacity_tokens, int64_t block_size, bool prefix_caching);

  std::string name() const override { return "paged"; }
  int64_t cached_prefix(std::span<const int32_t> tokens, int64_t max_tokens) const override;
  bool admit(SeqId seq, std::span<const int32_t> tokens, int64_t cached, int64_t num_tokens,
             int64_t max_len) override;
  bool grow(SeqId seq, std::span<const int32_t> tokens, int64_t num_tokens) override;
  bool fork(SeqId parent, SeqId child, int64_t max_len) override;
  void release(SeqId seq) override;
  bool holds(SeqId seq) const override { return m_seqs.count(seq) != 0; }
  KvUsage usage() const override;
  const KvCounters& counters() const override { return m_counters; }
  int64_t free_tokens() const override { return m_free_count * m_block_size; }
  void check_invariants() const override;

  int64_t block_size() const { return m_block_size; }
  int64_t num_blocks() const { return static_cast<int64_t>(m_blocks.size()); }
  // The sequence's block table (tests: prefix hits must return exactly the cached blocks).
  const std::vector<int32_t>& block_table(SeqId seq) const;

 private:
  struct Block {
    int32_t ref = 0;
    int32_t filled = 0;  // slots holding real tokens
    int32_t prev = -1;   // free queue links
    int32_t next = -1;
    bool in_free = false;
    bool cached = false;  // registered in m_cached under `hash`
    uint64_t hash = 0;
    uint64_t parent_hash = 0;
  };
  struct SeqState {
    std::vector<int32_t> table;
    int64_t num_tokens = 0;
    int64_t hashed_blocks = 0;  // leading full blocks whose hash is known (chain position)
    uint64_t last_hash = 0;     // hash of block hashed_blocks - 1 (the chain seed when 0 blocks)
  };

  uint64_t block_hash(uint64_t parent, std::span<const int32_t> block_tokens) const;
  // Index of the cached block holding exactly these tokens after `parent`, or -1.
  int32_t find_cached(uint64_t parent, uint64_t hash, std::span<const int32_t> block_tokens) const;
  void free_queue_remove(int32_t id);
  void free_queue_push_back(int32_t id);
  void free_queue_push_front(int32_t id);
  int32_t take_free_block();  // pops the head, evicting its cache entry
  void add_ref(int32_t id);
  void drop_ref(int32_t id);
  void set_filled(int32_t id, int32_t filled);
  // Marks slots up to num_tokens filled and registers newly full blocks in the prefix cache.
  void fill_to(SeqState& state, std::span<const int32_t> tokens, int64_t num_tokens);
  int64_t blocks_for(int64_t tokens) const { return (tokens + m_block_size - 1) / m_block_size; }

  int64_t m_block_size;
  bool m_prefix_caching;
  std::vector<Block> m_blocks;
  std::vector<int32_t> m_block_tokens;  // block_size ids per block, valid while the block is cached
  int32_t m_free_head = -1;
  int32_t m_free_tail = -1;
  int64_t m_free_count = 0;
  int64_t m_used_blocks = 0;    // ref > 0
  int64_t m_filled_in_use = 0;  // sum of `filled` over blocks with ref > 0
  int64_t m_cached_free = 0;    // cached blocks with ref == 0
  std::unordered_map<uint64_t, int32_t> m_cached;
  std::unordered_map<SeqId, SeqState> m_seqs;
  KvCounters m_counters;
};

}  // namespace xpusim::serving
