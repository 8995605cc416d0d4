// Serving overhead: scheduler + paged block manager per step at 256 running sequences (target < 50 us/step),
// and a 1000-request serve-sim on a constant-time fake chip (the scheduling side of the < 10 s target; the
// chip model's own step() cost adds to it in `xpusim serve-sim`).
#include <benchmark/benchmark.h>

#include "serving/block_manager.h"
#include "serving/simulator.h"

namespace {

using namespace xpusim::serving;

class ConstantCostModel final : public xpusim::chips::CostModel {
 public:
  ConstantCostModel() { m_plan.kv_capacity_tokens = 1 << 20; }
  const xpusim::chips::SystemPlan& plan() const override { return m_plan; }
  xpusim::chips::StepCost step(const xpusim::chips::StepShape& shape) override {
    xpusim::chips::StepCost cost;
    cost.seconds = 0.01 + 2e-6 * static_cast<double>(shape.total_new_tokens());
    return cost;
  }

 private:
  xpusim::chips::SystemPlan m_plan;
};

// Steady state: 256 sequences decoding, each finishing and replaced by a new request every 200 tokens.
void BM_SchedulerStep256(benchmark::State& state) {
  PagedBlockManager kv(1 << 20, 16, true);
  SchedulerConfig config;
  config.max_running = 256;
  config.max_batched_tokens = 8192;
  Scheduler scheduler(config, kv);
  int64_t next_request = 0;
  auto add = [&] {
    std::vector<int32_t> prompt(128);
    for (size_t i = 0; i < prompt.size(); ++i)
      prompt[i] = static_cast<int32_t>((next_request * 131 + i) % 32000);
    scheduler.add_request({next_request++, prompt, 200});
  };
  for (int i = 0; i < 256; ++i) add();
  auto sample = [](const Sequence& seq) {
    return SampleOutcome{static_cast<int32_t>(seq.output_len()), false};
  };
  scheduler.complete(scheduler.schedule(), sample);  // prefill all
  int64_t running = 0;
  for (auto _ : state) {
    StepPlan plan = scheduler.schedule();
    running += static_cast<int64_t>(plan.chunks.size());
    auto events = scheduler.complete(plan, sample);
    for (const auto& event : events) {
      if (event.finished) add();
    }
    benchmark::DoNotOptimize(events.data());
  }
  state.counters["seqs_per_step"] = static_cast<double>(running) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_SchedulerStep256)->Unit(benchmark::kMicrosecond);

void BM_ServeSim1000(benchmark::State& state) {
  WorkloadSpec spec;
  spec.requests = 1000;
  spec.rate = 20;
  auto requests = make_workload(spec);
  ServeSimOptions options;
  options.kv.capacity_tokens = 200000;
  ConstantCostModel model;
  for (auto _ : state) {
    ServeSimResult result = simulate_serving(requests, model, options);
    state.counters["steps"] = static_cast<double>(result.steps);
    benchmark::DoNotOptimize(result.completed);
  }
}
BENCHMARK(BM_ServeSim1000)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
