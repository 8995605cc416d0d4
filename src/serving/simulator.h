// Serving simulation: a workload replayed through the scheduler and a KV allocator on a simulated clock that
// advances by the chip's step time (chips::CostModel::step of each batch the scheduler forms). Metrics follow
// vLLM's definitions (shared/reference/serving.md §5): TTFT arrival -> first token; TPOT (E2E - TTFT) /
// (output tokens - 1) per sequence; ITL every gap between consecutive tokens of a sequence; E2E arrival ->
// last token of the request; throughput over the whole run. The time series is what the HTML report draws.
// Non-goals: real tokens (ids are synthetic), host execution (server.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "chips/cost_model.h"
#include "serving/kv_allocator.h"
#include "serving/scheduler.h"
#include "serving/workload.h"

namespace xpusim::serving {

struct LatencyStats {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
  int64_t count = 0;
};
LatencyStats latency_stats(std::vector<double> values);

// One point of the time series (a bucket of consecutive steps, averaged; counters at the bucket's end).
struct ServingSample {
  double time_s = 0;   // simulated time at the end of the bucket
  double running = 0;  // sequences in the batch
  double waiting = 0;
  double batch_tokens = 0;    // tokens per step
  double step_s = 0;          // mean step time
  double kv_usage = 0;        // reserved slots / capacity
  double kv_utilization = 0;  // filled slots / reserved slots
  double kv_waste = 0;        // (reserved - filled) / capacity
  int64_t preemptions = 0;    // cumulative
  int64_t finished = 0;       // cumulative requests
};

struct ServeSimOptions {
  SchedulerConfig scheduler;
  KvConfig kv;
  size_t max_samples = 400;  // time-series points kept (buckets of steps)
  // Called after each step that finished a request, with (requests finished or rejected, requests): the
  // CLI's progress bar. Empty: no calls.
  std::function<void(int64_t, int64_t)> on_progress;
};

struct ServeSimResult {
  std::string allocator;
  int64_t requests = 0;
  int64_t completed = 0;
  int64_t rejected = 0;                 // could never run (longer than the context or the whole cache)
  std::vector<std::string> rejections;  // first few messages
  double duration_s = 0;                // first arrival -> last token
  int64_t steps = 0;
  int64_t prompt_tokens = 0;
  int64_t output_tokens = 0;
  double request_throughput = 0;  // completed / duration
  double output_tokens_per_s = 0;
  double total_tokens_per_s = 0;
  LatencyStats ttft_s, tpot_s, itl_s, e2e_s;
  // The samples behind ttft_s / tpot_s (one per finished sequence), for the HTML report's distributions.
  std::vector<double> ttft_samples_s, tpot_samples_s;
  double normalized_latency_s = 0;  // mean over requests of E2E / output tokens (PagedAttention paper)
  int64_t preemptions = 0;
  double prefix_hit_rate = 0;
  int64_t copy_on_writes = 0;
  int64_t max_running = 0;         // largest batch (sequences in one step)
  double mean_running = 0;         // time-weighted
  double mean_kv_utilization = 0;  // time-weighted filled / reserved
  double mean_kv_usage = 0;        // time-weighted reserved / capacity
  int64_t kv_capacity_tokens = 0;
  double busy_s = 0;  // time spent in steps
  std::vector<ServingSample> series;
};

ServeSimResult simulate_serving(const std::vector<SimRequest>& requests, chips::CostModel& model,
                                const ServeSimOptions& options);

}  // namespace xpusim::serving

#include <nlohmann/json_fwd.hpp>

namespace xpusim::serving {
// The result as JSON (serve-sim --json, the HTML report): every field above, latencies in seconds.
nlohmann::json to_json(const ServeSimResult& result);
}  // namespace xpusim::serving
