// Scheduler and serving simulation against a small fake CostModel: budgets, chunked prefill, decode-first,
// preemption by recompute, priorities, forks, and adversarial workloads where nothing may be lost, duplicated
// or starved.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "core/error.h"
#include "serving/block_manager.h"
#include "serving/simulator.h"

namespace xpusim::serving {
namespace {

// Step time = 1 ms + 10 us per token: enough to order events, nothing chip-specific.
class FakeCostModel final : public chips::CostModel {
 public:
  FakeCostModel() { m_plan.kv_capacity_tokens = 4096; }
  const chips::SystemPlan& plan() const override { return m_plan; }
  chips::StepCost step(const chips::StepShape& shape) override {
    chips::StepCost cost;
    cost.seconds = 1e-3 + 1e-5 * static_cast<double>(shape.total_new_tokens());
    ++steps;
    return cost;
  }
  int64_t steps = 0;

 private:
  chips::SystemPlan m_plan;
};

std::vector<int32_t> prompt_of(int64_t n, int32_t salt) {
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    tokens[static_cast<size_t>(i)] = salt * 1000 + static_cast<int32_t>(i % 997);
  return tokens;
}

// Runs the scheduler to completion; every request must produce exactly its tokens, once.
std::map<int64_t, int64_t> drain(Scheduler& scheduler, int64_t stop_after, int64_t max_steps = 100000) {
  std::map<int64_t, int64_t> tokens_per_request;
  std::set<SeqId> finished;
  for (int64_t step = 0; step < max_steps && !scheduler.idle(); ++step) {
    StepPlan plan = scheduler.schedule();
    EXPECT_FALSE(plan.empty()) << "no progress at step " << step;
    EXPECT_LE(plan.total_tokens(), scheduler.config().max_batched_tokens);
    std::set<SeqId> in_step;
    for (const auto& chunk : plan.chunks)
      EXPECT_TRUE(in_step.insert(chunk.seq).second) << "seq twice in a step";
    auto events = scheduler.complete(plan, [&](const Sequence& seq) {
      return SampleOutcome{static_cast<int32_t>(seq.output_len()), seq.output_len() + 1 >= stop_after};
    });
    for (const auto& event : events) {
      EXPECT_EQ(finished.count(event.seq), 0u) << "token after finish";
      ++tokens_per_request[event.request_id];
      if (event.finished) finished.insert(event.seq);
    }
    scheduler.check_invariants();
  }
  EXPECT_TRUE(scheduler.idle()) << "did not drain";
  return tokens_per_request;
}

TEST(Scheduler, DecodeFirstThenChunkedPrefillWithinBudget) {
  PagedBlockManager kv(4096, 16, false);
  SchedulerConfig config;
  config.max_batched_tokens = 64;
  Scheduler scheduler(config, kv);
  scheduler.add_request({1, prompt_of(10, 1), 5});
  StepPlan first = scheduler.schedule();
  ASSERT_EQ(first.chunks.size(), 1u);
  scheduler.complete(first, [](const Sequence&) { return SampleOutcome{1, false}; });
  scheduler.add_request({2, prompt_of(100, 2), 5});
  StepPlan second = scheduler.schedule();
  ASSERT_EQ(second.chunks.size(), 2u);
  EXPECT_EQ(second.chunks[0].seq, first.chunks[0].seq);  // the decode goes first
  EXPECT_EQ(second.chunks[0].num_new, 1);
  EXPECT_EQ(second.chunks[1].num_new, 63);  // the prompt is chunked into what is left
  EXPECT_FALSE(second.chunks[1].samples);
  auto shape = second.shape();
  EXPECT_EQ(shape.sequences[0].context, 10);
}

TEST(Scheduler, PreemptsLatestByRecomputeAndLosesNothing) {
  PagedBlockManager kv(256, 16, true);  // tight: forces preemption
  SchedulerConfig config;
  config.max_batched_tokens = 512;
  Scheduler scheduler(config, kv);
  for (int64_t r = 0; r < 6; ++r) scheduler.add_request({r, prompt_of(40, static_cast<int32_t>(r)), 60});
  auto produced = drain(scheduler, 60);
  EXPECT_GT(scheduler.total_preemptions(), 0);
  ASSERT_EQ(produced.size(), 6u);
  for (const auto& [request, count] : produced) EXPECT_EQ(count, 60) << "request " << request;
  EXPECT_EQ(kv.usage().reserved_tokens, 0);
}

TEST(Scheduler, PriorityPolicyServesLowValuesFirst) {
  PagedBlockManager kv(4096, 16, false);
  SchedulerConfig config;
  config.policy = SchedulePolicy::PRIORITY;
  config.max_running = 1;
  Scheduler scheduler(config, kv);
  scheduler.add_request({1, prompt_of(8, 1), 2, 1, 5});
  scheduler.add_request({2, prompt_of(8, 2), 2, 1, 0});
  StepPlan plan = scheduler.schedule();
  ASSERT_EQ(plan.chunks.size(), 1u);
  EXPECT_EQ(scheduler.sequence(plan.chunks[0].seq).request_id, 2);
}

TEST(Scheduler, ParallelSamplingForksSharedPrompt) {
  PagedBlockManager kv(4096, 16, true);
  Scheduler scheduler(SchedulerConfig{}, kv);
  scheduler.add_request({1, prompt_of(40, 1), 8, 4});
  StepPlan plan = scheduler.schedule();
  auto events = scheduler.complete(plan, [](const Sequence& seq) {
    return SampleOutcome{static_cast<int32_t>(seq.sample_index), false};
  });
  EXPECT_EQ(events.size(), 4u);
  EXPECT_EQ(scheduler.num_running(), 4u);
  EXPECT_EQ(kv.usage().reserved_tokens, 48);  // 3 blocks shared by all four
  auto produced = drain(scheduler, 8);
  EXPECT_EQ(produced[1], 4 * 7);  // 7 more each after the first
  EXPECT_GT(kv.counters().copy_on_writes, 0);
}

TEST(Scheduler, RejectsRequestsThatCanNeverRun) {
  PagedBlockManager kv(128, 16, false);
  SchedulerConfig config;
  config.max_model_len = 100;
  Scheduler scheduler(config, kv);
  EXPECT_THROW(scheduler.add_request({1, {}, 4}), Error);
  EXPECT_THROW(scheduler.add_request({2, prompt_of(100, 1), 4}), Error);
  EXPECT_THROW(scheduler.add_request({3, prompt_of(10, 1), 0}), Error);
  PagedBlockManager tiny(32, 16, false);
  Scheduler small(SchedulerConfig{}, tiny);
  EXPECT_THROW(small.add_request({4, prompt_of(30, 1), 10}), Error);
  EXPECT_TRUE(small.idle());
}

TEST(Scheduler, AbortFreesBlocksAtOnce) {
  PagedBlockManager kv(4096, 16, false);
  Scheduler scheduler(SchedulerConfig{}, kv);
  scheduler.add_request({1, prompt_of(50, 1), 10, 2});
  scheduler.complete(scheduler.schedule(), [](const Sequence&) { return SampleOutcome{3, false}; });
  EXPECT_GT(kv.usage().reserved_tokens, 0);
  scheduler.abort_request(1);
  EXPECT_EQ(kv.usage().reserved_tokens, 0);
  EXPECT_TRUE(scheduler.idle());
  scheduler.abort_request(99);  // unknown: ignored
}

// Adversarial: random sizes near the cache size, priorities, forks, aborts, tiny budgets, both allocators.
TEST(Scheduler, AdversarialWorkloadsLoseNothing) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    std::mt19937_64 rng(seed);
    KvConfig kv_config;
    kv_config.policy = seed % 2 ? KvPolicy::PAGED : KvPolicy::CONTIGUOUS;
    kv_config.capacity_tokens = 300 + static_cast<int64_t>(rng() % 300);
    auto kv = make_kv_allocator(kv_config);
    SchedulerConfig config;
    config.max_batched_tokens = 8 + static_cast<int64_t>(rng() % 100);
    config.max_running = 1 + static_cast<int64_t>(rng() % 8);
    config.policy = seed % 3 ? SchedulePolicy::FCFS : SchedulePolicy::PRIORITY;
    config.chunked_prefill = seed != 4;
    Scheduler scheduler(config, *kv);
    std::map<int64_t, int64_t> expected;
    std::set<int64_t> aborted;
    for (int64_t r = 0; r < 40; ++r) {
      const int64_t len =
          1 + static_cast<int64_t>(rng() % (config.chunked_prefill ? 200 : config.max_batched_tokens));
      const int64_t n = kv_config.policy == KvPolicy::PAGED ? 1 + static_cast<int64_t>(rng() % 3) : 1;
      RequestSpec spec{r, prompt_of(len, static_cast<int32_t>(rng() % 3)),
                       1 + static_cast<int64_t>(rng() % 50), n, static_cast<int64_t>(rng() % 3)};
      try {
        scheduler.add_request(spec);
        expected[r] = spec.max_tokens * n;
      } catch (const Error&) {
      }
    }
    EXPECT_GT(expected.size(), 30u);
    std::map<int64_t, int64_t> produced;
    for (int64_t step = 0; step < 200000 && !scheduler.idle(); ++step) {
      if (step == 20) {
        scheduler.abort_request(3);
        aborted.insert(3);
      }
      StepPlan plan = scheduler.schedule();
      ASSERT_FALSE(plan.empty()) << "stalled, seed " << seed;
      for (const auto& event : scheduler.complete(plan, [](const Sequence&) {
             return SampleOutcome{1, false};
           })) {
        ++produced[event.request_id];
      }
      ASSERT_NO_THROW(scheduler.check_invariants());
    }
    ASSERT_TRUE(scheduler.idle()) << "seed " << seed;
    for (const auto& [request, count] : expected) {
      if (aborted.count(request)) continue;
      EXPECT_EQ(produced[request], count) << "seed " << seed << " request " << request;
    }
    EXPECT_EQ(kv->usage().reserved_tokens, 0);
  }
}

TEST(ServeSim, ReportsMetricsAndPagedBeatsContiguous) {
  WorkloadSpec spec;
  spec.kind = "sharegpt";
  spec.requests = 60;
  spec.rate = 50;
  spec.max_tokens = 512;
  auto requests = make_workload(spec);
  ServeSimOptions options;
  options.kv.capacity_tokens = 8192;
  FakeCostModel model;
  ServeSimResult paged = simulate_serving(requests, model, options);
  EXPECT_EQ(paged.completed, 60);
  EXPECT_GT(paged.ttft_s.p50, 0);
  EXPECT_LE(paged.ttft_s.p50, paged.ttft_s.p99);
  EXPECT_GT(paged.tpot_s.mean, 0);
  EXPECT_GT(paged.itl_s.count, 0);
  EXPECT_GT(paged.output_tokens_per_s, 0);
  EXPECT_FALSE(paged.series.empty());
  EXPECT_GT(paged.mean_kv_utilization, 0.8);
  options.kv.policy = KvPolicy::CONTIGUOUS;
  ServeSimResult contiguous = simulate_serving(requests, model, options);
  EXPECT_EQ(contiguous.completed, 60);
  EXPECT_LT(contiguous.mean_kv_utilization, paged.mean_kv_utilization);
  EXPECT_LT(contiguous.max_running, paged.max_running);
}

TEST(ServeSim, SharedPrefixHitsTheCache) {
  WorkloadSpec spec;
  spec.kind = "shared-prefix";
  spec.requests = 20;
  spec.rate = 5;
  spec.prefix_len = 256;
  auto requests = make_workload(spec);
  ServeSimOptions options;
  options.kv.capacity_tokens = 16384;
  FakeCostModel model;
  ServeSimResult result = simulate_serving(requests, model, options);
  EXPECT_EQ(result.completed, 20);
  EXPECT_GT(result.prefix_hit_rate, 0.3);
}

TEST(Workload, RejectsBadInput) {
  WorkloadSpec spec;
  spec.kind = "nope";
  EXPECT_THROW(make_workload(spec), Error);
  spec.kind = "sharegpt";
  spec.rate = -1;
  EXPECT_THROW(make_workload(spec), Error);
  spec.kind = "trace:/nonexistent/trace.jsonl";
  EXPECT_THROW(make_workload(spec), Error);
}

}  // namespace
}  // namespace xpusim::serving
