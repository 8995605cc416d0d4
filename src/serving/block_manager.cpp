#include "serving/block_manager.h"

#include <xxhash.h>

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "serving/contiguous_allocator.h"

namespace xpusim::serving {
namespace {

constexpr uint64_t kChainSeed = 0x9e3779b97f4a7c15ULL;  // parent hash of a sequence's first block

}  // namespace

KvPolicy kv_policy_from_name(const std::string& name) {
  if (name == "paged") return KvPolicy::PAGED;
  if (name == "contiguous") return KvPolicy::CONTIGUOUS;
  fail("--kv: unknown KV allocator '{}' (expected paged or contiguous)", name);
}

std::unique_ptr<KvAllocator> make_kv_allocator(const KvConfig& config) {
  if (config.policy == KvPolicy::CONTIGUOUS)
    return std::make_unique<ContiguousAllocator>(config.capacity_tokens);
  return std::make_unique<PagedBlockManager>(config.capacity_tokens, config.block_size,
                                             config.prefix_caching);
}

PagedBlockManager::PagedBlockManager(int64_t capacity_tokens, int64_t block_size, bool prefix_caching)
    : m_block_size(block_size), m_prefix_caching(prefix_caching) {
  static constexpr int64_t kSizes[] = {1, 8, 16, 32, 64, 128, 256};
  if (std::find(std::begin(kSizes), std::end(kSizes), block_size) == std::end(kSizes)) {
    fail("KV block size {} is not one of 1, 8, 16, 32, 64, 128, 256", block_size);
  }
  const int64_t blocks = capacity_tokens / block_size;
  if (blocks < 1) fail("KV capacity of {} tokens holds no block of {} tokens", capacity_tokens, block_size);
  if (blocks > std::numeric_limits<int32_t>::max() / 2) fail("KV capacity of {} blocks is too large", blocks);
  m_blocks.resize(static_cast<size_t>(blocks));
  m_block_tokens.resize(static_cast<size_t>(blocks * block_size));
  for (int32_t id = 0; id < static_cast<int32_t>(blocks); ++id) free_queue_push_back(id);
}

uint64_t PagedBlockManager::block_hash(uint64_t parent, std::span<const int32_t> block_tokens) const {
  return XXH3_64bits_withSeed(block_tokens.data(), block_tokens.size_bytes(), parent);
}

int32_t PagedBlockManager::find_cached(uint64_t parent, uint64_t hash,
                                       std::span<const int32_t> block_tokens) const {
  auto it = m_cached.find(hash);
  if (it == m_cached.end()) return -1;
  const Block& block = m_blocks[static_cast<size_t>(it->second)];
  if (block.parent_hash != parent) return -1;
  auto stored = m_block_tokens.begin() + it->second * m_block_size;
  if (!std::equal(block_tokens.begin(), block_tokens.end(), stored)) return -1;
  return it->second;
}

int64_t PagedBlockManager::cached_prefix(std::span<const int32_t> tokens, int64_t max_tokens) const {
  if (!m_prefix_caching) return 0;
  const int64_t limit = std::min<int64_t>(static_cast<int64_t>(tokens.size()), max_tokens);
  uint64_t parent = kChainSeed;
  int64_t hit = 0;
  while (hit + m_block_size <= limit) {
    auto block_tokens = tokens.subspan(static_cast<size_t>(hit), static_cast<size_t>(m_block_size));
    const uint64_t hash = block_hash(parent, block_tokens);
    if (find_cached(parent, hash, block_tokens) < 0) break;
    parent = hash;
    hit += m_block_size;
  }
  return hit;
}

void PagedBlockManager::free_queue_remove(int32_t id) {
  Block& block = m_blocks[static_cast<size_t>(id)];
  XPUSIM_ASSERT(block.in_free);
  if (block.prev >= 0)
    m_blocks[static_cast<size_t>(block.prev)].next = block.next;
  else
    m_free_head = block.next;
  if (block.next >= 0)
    m_blocks[static_cast<size_t>(block.next)].prev = block.prev;
  else
    m_free_tail = block.prev;
  block.prev = block.next = -1;
  block.in_free = false;
  --m_free_count;
  if (block.cached) --m_cached_free;
}

void PagedBlockManager::free_queue_push_back(int32_t id) {
  Block& block = m_blocks[static_cast<size_t>(id)];
  XPUSIM_ASSERT(!block.in_free && block.ref == 0);
  block.prev = m_free_tail;
  block.next = -1;
  if (m_free_tail >= 0)
    m_blocks[static_cast<size_t>(m_free_tail)].next = id;
  else
    m_free_head = id;
  m_free_tail = id;
  block.in_free = true;
  ++m_free_count;
  if (block.cached) ++m_cached_free;
}

void PagedBlockManager::free_queue_push_front(int32_t id) {
  Block& block = m_blocks[static_cast<size_t>(id)];
  XPUSIM_ASSERT(!block.in_free && block.ref == 0);
  block.prev = -1;
  block.next = m_free_head;
  if (m_free_head >= 0)
    m_blocks[static_cast<size_t>(m_free_head)].prev = id;
  else
    m_free_tail = id;
  m_free_head = id;
  block.in_free = true;
  ++m_free_count;
  if (block.cached) ++m_cached_free;
}

int32_t PagedBlockManager::take_free_block() {
  const int32_t id = m_free_head;
  XPUSIM_ASSERT(id >= 0);
  free_queue_remove(id);
  Block& block = m_blocks[static_cast<size_t>(id)];
  if (block.cached) {
    auto it = m_cached.find(block.hash);
    XPUSIM_ASSERT(it != m_cached.end() && it->second == id);
    m_cached.erase(it);
    block.cached = false;
    ++m_counters.evictions;
  }
  block.filled = 0;
  add_ref(id);
  return id;
}

void PagedBlockManager::add_ref(int32_t id) {
  Block& block = m_blocks[static_cast<size_t>(id)];
  if (block.ref == 0) {
    if (block.in_free) free_queue_remove(id);
    ++m_used_blocks;
    m_filled_in_use += block.filled;
  }
  ++block.ref;
}

void PagedBlockManager::drop_ref(int32_t id) {
  Block& block = m_blocks[static_cast<size_t>(id)];
  XPUSIM_ASSERT(block.ref > 0);
  if (--block.ref > 0) return;
  --m_used_blocks;
  m_filled_in_use -= block.filled;
  if (block.cached)
    free_queue_push_back(id);
  else
    free_queue_push_front(id);
}

void PagedBlockManager::set_filled(int32_t id, int32_t filled) {
  Block& block = m_blocks[static_cast<size_t>(id)];
  if (block.ref > 0) m_filled_in_use += filled - block.filled;
  block.filled = filled;
}

void PagedBlockManager::fill_to(SeqState& state, std::span<const int32_t> tokens, int64_t num_tokens) {
  XPUSIM_ASSERT(num_tokens >= state.num_tokens && static_cast<int64_t>(tokens.size()) >= num_tokens);
  XPUSIM_ASSERT(static_cast<int64_t>(state.table.size()) == blocks_for(num_tokens));
  for (int64_t logical = state.num_tokens / m_block_size; logical < blocks_for(num_tokens); ++logical) {
    const int64_t in_block = std::min(m_block_size, num_tokens - logical * m_block_size);
    const int32_t id = state.table[static_cast<size_t>(logical)];
    if (m_blocks[static_cast<size_t>(id)].filled < in_block) set_filled(id, static_cast<int32_t>(in_block));
  }
  state.num_tokens = num_tokens;
  // Newly full blocks join the prefix cache right away (vLLM: cacheable as soon as full, same step).
  while ((state.hashed_blocks + 1) * m_block_size <= num_tokens) {
    auto block_tokens = tokens.subspan(static_cast<size_t>(state.hashed_blocks * m_block_size),
                                       static_cast<size_t>(m_block_size));
    const uint64_t hash = block_hash(state.last_hash, block_tokens);
    const int32_t id = state.table[static_cast<size_t>(state.hashed_blocks)];
    Block& block = m_blocks[static_cast<size_t>(id)];
    if (m_prefix_caching && !block.cached && m_cached.count(hash) == 0) {
      block.cached = true;
      block.hash = hash;
      block.parent_hash = state.last_hash;
      std::copy(block_tokens.begin(), block_tokens.end(), m_block_tokens.begin() + id * m_block_size);
      m_cached.emplace(hash, id);
    }
    state.last_hash = hash;
    ++state.hashed_blocks;
  }
}

bool PagedBlockManager::admit(SeqId seq, std::span<const int32_t> tokens, int64_t cached, int64_t num_tokens,
                              int64_t /*max_len*/) {
  XPUSIM_ASSERT(!holds(seq));
  XPUSIM_ASSERT(cached % m_block_size == 0 && cached <= num_tokens &&
                num_tokens <= static_cast<int64_t>(tokens.size()));
  // Walk the chain again: nothing changed since cached_prefix(), so every block must still be there.
  std::vector<int32_t> hits;
  uint64_t parent = kChainSeed;
  int64_t hits_in_free = 0;
  for (int64_t at = 0; at < cached; at += m_block_size) {
    auto block_tokens = tokens.subspan(static_cast<size_t>(at), static_cast<size_t>(m_block_size));
    const uint64_t hash = block_hash(parent, block_tokens);
    const int32_t id = find_cached(parent, hash, block_tokens);
    XPUSIM_ASSERT(id >= 0);
    if (m_blocks[static_cast<size_t>(id)].ref == 0) ++hits_in_free;
    hits.push_back(id);
    parent = hash;
  }
  const int64_t new_blocks = blocks_for(num_tokens) - static_cast<int64_t>(hits.size());
  if (new_blocks > m_free_count - hits_in_free) return false;

  SeqState state;
  for (int32_t id : hits) {
    add_ref(id);
    state.table.push_back(id);
  }
  for (int64_t i = 0; i < new_blocks; ++i) state.table.push_back(take_free_block());
  state.num_tokens = cached;
  state.hashed_blocks = cached / m_block_size;
  state.last_hash = parent;
  fill_to(state, tokens, num_tokens);
  m_counters.prefix_queries += static_cast<int64_t>(tokens.size());
  m_counters.prefix_hits += cached;
  m_seqs.emplace(seq, std::move(state));
  return true;
}

bool PagedBlockManager::grow(SeqId seq, std::span<const int32_t> tokens, int64_t num_tokens) {
  auto it = m_seqs.find(seq);
  XPUSIM_ASSERT(it != m_seqs.end());
  SeqState& state = it->second;
  if (num_tokens <= state.num_tokens) return true;
  // Appending into a shared partial block would write into the other sharers' slots: copy it first.
  const bool copy_last =
      state.num_tokens % m_block_size != 0 && m_blocks[static_cast<size_t>(state.table.back())].ref > 1;
  const int64_t new_blocks =
      blocks_for(num_tokens) - static_cast<int64_t>(state.table.size()) + (copy_last ? 1 : 0);
  if (new_blocks > m_free_count) return false;
  if (copy_last) {
    const int32_t old_id = state.table.back();
    const int32_t copy = take_free_block();
    set_filled(copy, static_cast<int32_t>(state.num_tokens % m_block_size));
    state.table.back() = copy;
    drop_ref(old_id);
    ++m_counters.copy_on_writes;
  }
  while (static_cast<int64_t>(state.table.size()) < blocks_for(num_tokens)) {
    state.table.push_back(take_free_block());
  }
  fill_to(state, tokens, num_tokens);
  return true;
}

bool PagedBlockManager::fork(SeqId parent, SeqId child, int64_t /*max_len*/) {
  auto it = m_seqs.find(parent);
  XPUSIM_ASSERT(it != m_seqs.end() && !holds(child));
  SeqState state = it->second;
  for (int32_t id : state.table) add_ref(id);
  m_seqs.emplace(child, std::move(state));
  return true;
}

void PagedBlockManager::release(SeqId seq) {
  auto it = m_seqs.find(seq);
  XPUSIM_ASSERT(it != m_seqs.end());
  const std::vector<int32_t>& table = it->second.table;
  for (auto block = table.rbegin(); block != table.rend(); ++block) drop_ref(*block);
  m_seqs.erase(it);
}

KvUsage PagedBlockManager::usage() const {
  KvUsage usage;
  usage.capacity_tokens = num_blocks() * m_block_size;
  usage.reserved_tokens = m_used_blocks * m_block_size;
  usage.filled_tokens = m_filled_in_use;
  usage.cached_free_tokens = m_cached_free * m_block_size;
  return usage;
}

const std::vector<int32_t>& PagedBlockManager::block_table(SeqId seq) const {
  auto it = m_seqs.find(seq);
  if (it == m_seqs.end()) fail("block_table: sequence {} holds no blocks", seq);
  return it->second.table;
}

void PagedBlockManager::check_invariants() const {
  std::vector<int32_t> refs(m_blocks.size(), 0);
  for (const auto& [seq, state] : m_seqs) {
    if (static_cast<int64_t>(state.table.size()) != blocks_for(state.num_tokens)) {
      fail("sequence {}: {} blocks for {} tokens", seq, state.table.size(), state.num_tokens);
    }
    for (size_t logical = 0; logical < state.table.size(); ++logical) {
      const int32_t id = state.table[logical];
      if (id < 0 || id >= num_blocks()) fail("sequence {}: block id {} out of range", seq, id);
      ++refs[static_cast<size_t>(id)];
      const int64_t need =
          std::min(m_block_size, state.num_tokens - static_cast<int64_t>(logical) * m_block_size);
      if (m_blocks[static_cast<size_t>(id)].filled < need) fail("sequence {}: block {} underfilled", seq, id);
    }
  }
  int64_t used = 0, filled = 0, cached_free = 0, free_count = 0;
  for (size_t id = 0; id < m_blocks.size(); ++id) {
    const Block& block = m_blocks[id];
    if (block.ref != refs[id]) fail("block {}: ref count {} but {} table entries", id, block.ref, refs[id]);
    if ((block.ref == 0) != block.in_free)
      fail("block {}: ref {} but in_free {}", id, block.ref, block.in_free);
    if (block.ref > 0) {
      ++used;
      filled += block.filled;
    }
    if (block.in_free) ++free_count;
    if (block.in_free && block.cached) ++cached_free;
    if (block.cached) {
      auto it = m_cached.find(block.hash);
      if (it == m_cached.end() || it->second != static_cast<int32_t>(id))
        fail("block {}: cached but unmapped", id);
    }
  }
  for (const auto& [hash, id] : m_cached) {
    if (!m_blocks[static_cast<size_t>(id)].cached || m_blocks[static_cast<size_t>(id)].hash != hash) {
      fail("prefix cache entry points to block {} which does not hold it", id);
    }
  }
  int64_t walked = 0;
  for (int32_t id = m_free_head, prev = -1; id >= 0; prev = id, id = m_blocks[static_cast<size_t>(id)].next) {
    if (!m_blocks[static_cast<size_t>(id)].in_free) fail("free queue holds block {} in use", id);
    if (m_blocks[static_cast<size_t>(id)].prev != prev) fail("free queue: broken back link at block {}", id);
    if (++walked > num_blocks()) fail("free queue has a cycle");
  }
  if (walked != free_count || free_count != m_free_count) {
    fail("free queue: {} linked, {} flagged, {} counted", walked, free_count, m_free_count);
  }
  if (used != m_used_blocks || filled != m_filled_in_use || cached_free != m_cached_free) {
    fail("usage counters drifted: used {} vs {}, filled {} vs {}, cached free {} vs {}", used, m_used_blocks,
         filled, m_filled_in_use, cached_free, m_cached_free);
  }
}

}  // namespace xpusim::serving
