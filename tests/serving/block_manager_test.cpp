// Paged block manager and contiguous allocator: unit cases plus random operation sequences checked against
// the invariants after every operation (no leak, no double free, consistent ref counts, exact prefix hits).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "core/error.h"
#include "serving/block_manager.h"
#include "serving/contiguous_allocator.h"

namespace xpusim::serving {
namespace {

std::vector<int32_t> iota_tokens(int64_t n, int32_t first) {
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) tokens[static_cast<size_t>(i)] = first + static_cast<int32_t>(i);
  return tokens;
}

TEST(PagedBlockManager, AllocatesWholeBlocksAndFreesThem) {
  PagedBlockManager manager(160, 16, true);
  EXPECT_EQ(manager.num_blocks(), 10);
  auto tokens = iota_tokens(40, 1);
  ASSERT_TRUE(manager.admit(1, tokens, 0, 40, 40));
  EXPECT_EQ(manager.block_table(1).size(), 3u);
  EXPECT_EQ(manager.usage().reserved_tokens, 48);
  EXPECT_EQ(manager.usage().filled_tokens, 40);
  manager.check_invariants();
  manager.release(1);
  EXPECT_EQ(manager.usage().reserved_tokens, 0);
  EXPECT_EQ(manager.free_tokens(), 160);
  manager.check_invariants();
}

TEST(PagedBlockManager, PrefixHitReturnsExactlyTheCachedBlocks) {
  PagedBlockManager manager(320, 16, true);
  auto first = iota_tokens(50, 100);
  ASSERT_TRUE(manager.admit(1, first, 0, 50, 50));
  const std::vector<int32_t> first_table = manager.block_table(1);
  auto second = first;
  second.resize(40);
  second.push_back(7);
  EXPECT_EQ(manager.cached_prefix(second, 40), 32);
  ASSERT_TRUE(manager.admit(2, second, 32, 41, 41));
  EXPECT_EQ(manager.block_table(2)[0], first_table[0]);
  EXPECT_EQ(manager.block_table(2)[1], first_table[1]);
  EXPECT_NE(manager.block_table(2)[2], first_table[2]);
  EXPECT_EQ(manager.counters().prefix_hits, 32);
  // A different first block breaks the chain even if later blocks match.
  auto third = first;
  third[0] = 99999;
  EXPECT_EQ(manager.cached_prefix(third, 50), 0);
  manager.release(1);
  manager.release(2);
  // Freed blocks stay cached until evicted.
  EXPECT_EQ(manager.cached_prefix(first, 50), 48);
  manager.check_invariants();
}

TEST(PagedBlockManager, EvictsLeastRecentlyFreedAndLastBlocksFirst) {
  PagedBlockManager manager(64, 16, true);  // 4 blocks
  auto a = iota_tokens(32, 1);
  ASSERT_TRUE(manager.admit(1, a, 0, 32, 32));
  manager.release(1);  // both blocks cached and free; a's second block is evicted first
  auto b = iota_tokens(48, 1000);
  ASSERT_TRUE(manager.admit(2, b, 0, 48, 48));  // needs 3: 2 uncached + a's second block
  EXPECT_EQ(manager.counters().evictions, 1);
  EXPECT_EQ(manager.cached_prefix(a, 32), 16);
  manager.check_invariants();
}

TEST(PagedBlockManager, ForkSharesBlocksAndCopiesOnWrite) {
  PagedBlockManager manager(160, 16, true);
  auto tokens = iota_tokens(20, 1);
  ASSERT_TRUE(manager.admit(1, tokens, 0, 20, 40));
  ASSERT_TRUE(manager.fork(1, 2, 40));
  EXPECT_EQ(manager.block_table(1), manager.block_table(2));
  EXPECT_EQ(manager.usage().reserved_tokens, 32);
  auto child = tokens;
  child.push_back(5);
  ASSERT_TRUE(manager.grow(2, child, 21));
  EXPECT_EQ(manager.counters().copy_on_writes, 1);
  EXPECT_EQ(manager.block_table(1)[0], manager.block_table(2)[0]);  // the full block stays shared
  EXPECT_NE(manager.block_table(1)[1], manager.block_table(2)[1]);
  auto parent = tokens;
  parent.push_back(6);
  ASSERT_TRUE(manager.grow(1, parent, 21));
  EXPECT_EQ(manager.counters().copy_on_writes, 1);  // no sharer left on the parent's block
  manager.check_invariants();
  manager.release(1);
  manager.release(2);
  manager.check_invariants();
  EXPECT_EQ(manager.usage().reserved_tokens, 0);
}

TEST(PagedBlockManager, RefusesWhenFullWithoutChangingAnything) {
  PagedBlockManager manager(32, 16, false);
  auto tokens = iota_tokens(40, 1);
  EXPECT_FALSE(manager.admit(1, tokens, 0, 40, 40));
  EXPECT_FALSE(manager.holds(1));
  ASSERT_TRUE(manager.admit(1, tokens, 0, 30, 40));
  EXPECT_FALSE(manager.grow(1, tokens, 40));
  EXPECT_EQ(manager.block_table(1).size(), 2u);
  manager.check_invariants();
}

TEST(PagedBlockManager, RejectsBadConfiguration) {
  EXPECT_THROW(PagedBlockManager(160, 12, true), Error);
  EXPECT_THROW(PagedBlockManager(8, 16, true), Error);
  EXPECT_THROW(kv_policy_from_name("virtual"), Error);
}

TEST(ContiguousAllocator, ReservesMaximumAndMergesFreeRanges) {
  ContiguousAllocator allocator(100);
  auto tokens = iota_tokens(10, 1);
  ASSERT_TRUE(allocator.admit(1, tokens, 0, 10, 40));
  ASSERT_TRUE(allocator.admit(2, tokens, 0, 10, 40));
  EXPECT_EQ(allocator.usage().reserved_tokens, 80);
  EXPECT_NEAR(allocator.usage().utilization(), 0.25, 1e-12);
  EXPECT_FALSE(allocator.admit(3, tokens, 0, 10, 40));  // 20 free slots, 40 needed
  allocator.release(1);
  EXPECT_EQ(allocator.free_tokens(), 40);
  allocator.release(2);
  EXPECT_EQ(allocator.free_tokens(), 100);
  allocator.check_invariants();
}

// Random admits / grows / forks / releases; invariants after every operation; at the end all memory is back.
void run_random_operations(KvAllocator& allocator, uint64_t seed, int64_t block_size) {
  std::mt19937_64 rng(seed);
  std::vector<std::pair<SeqId, std::vector<int32_t>>> live;
  std::vector<std::vector<int32_t>> history;
  SeqId next_id = 1;
  const std::vector<int32_t> shared = iota_tokens(64, 7);  // common prefix for cache hits
  for (int op = 0; op < 3000; ++op) {
    const int kind = static_cast<int>(rng() % 10);
    if (kind < 3 || live.empty()) {
      std::vector<int32_t> tokens(shared.begin(), shared.begin() + static_cast<std::ptrdiff_t>(rng() % 64));
      const int64_t extra = 1 + static_cast<int64_t>(rng() % 40);
      for (int64_t i = 0; i < extra; ++i) tokens.push_back(static_cast<int32_t>(rng() % 50));
      const int64_t len = static_cast<int64_t>(tokens.size());
      const int64_t cached = allocator.cached_prefix(tokens, len - 1);
      ASSERT_EQ(cached % block_size, 0);
      // A hit must be a prefix some earlier sequence really held (cached tokens are never invented).
      if (cached > 0) {
        const bool seen = std::any_of(history.begin(), history.end(), [&](const std::vector<int32_t>& old) {
          return static_cast<int64_t>(old.size()) >= cached &&
                 std::equal(tokens.begin(), tokens.begin() + cached, old.begin());
        });
        ASSERT_TRUE(seen) << "prefix hit of " << cached << " tokens nobody wrote";
      }
      const int64_t first = cached + 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(len - cached));
      if (allocator.admit(next_id, tokens, cached, std::min(first, len), len + 30)) {
        live.emplace_back(next_id, tokens);
        history.push_back(tokens);
      }
      ++next_id;
    } else if (kind < 6) {
      auto& [id, tokens] = live[rng() % live.size()];
      tokens.push_back(static_cast<int32_t>(rng() % 50));
      if (allocator.grow(id, tokens, static_cast<int64_t>(tokens.size())))
        history.push_back(tokens);
      else
        tokens.pop_back();
    } else if (kind < 7) {
      auto parent = live[rng() % live.size()];
      if (allocator.fork(parent.first, next_id, static_cast<int64_t>(parent.second.size()) + 30)) {
        live.emplace_back(next_id, parent.second);
      }
      ++next_id;
    } else {
      const size_t index = rng() % live.size();
      allocator.release(live[index].first);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(index));
    }
    ASSERT_NO_THROW(allocator.check_invariants()) << "after op " << op;
  }
  for (auto& [id, tokens] : live) allocator.release(id);
  allocator.check_invariants();
  EXPECT_EQ(allocator.usage().reserved_tokens, 0);
  EXPECT_EQ(allocator.usage().filled_tokens, 0);
}

TEST(PagedBlockManager, RandomOperationsKeepInvariants) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    PagedBlockManager manager(1024, 16, true);
    run_random_operations(manager, seed, 16);
    EXPECT_EQ(manager.free_tokens(), 1024);
  }
  PagedBlockManager small_blocks(256, 1, true);
  run_random_operations(small_blocks, 9, 1);
}

TEST(ContiguousAllocator, RandomOperationsKeepInvariants) {
  ContiguousAllocator allocator(2000);
  run_random_operations(allocator, 3, 1);
  EXPECT_EQ(allocator.free_tokens(), 2000);
}

}  // namespace
}  // namespace xpusim::serving
