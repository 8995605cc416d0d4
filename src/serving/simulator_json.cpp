#include <nlohmann/json.hpp>

#include "serving/simulator.h"

namespace xpusim::serving {
namespace {

nlohmann::json stats_json(const LatencyStats& s) {
  return {{"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90},
          {"p99", s.p99},   {"max", s.max}, {"count", s.count}};
}

}  // namespace

nlohmann::json to_json(const ServeSimResult& r) {
  nlohmann::json series = nlohmann::json::array();
  for (const ServingSample& p : r.series) {
    series.push_back({{"time_s", p.time_s},
                      {"running", p.running},
                      {"waiting", p.waiting},
                      {"batch_tokens", p.batch_tokens},
                      {"step_s", p.step_s},
                      {"kv_usage", p.kv_usage},
                      {"kv_utilization", p.kv_utilization},
                      {"kv_waste", p.kv_waste},
                      {"preemptions", p.preemptions},
                      {"finished", p.finished}});
  }
  return {{"allocator", r.allocator},
          {"requests", r.requests},
          {"completed", r.completed},
          {"rejected", r.rejected},
          {"rejections", r.rejections},
          {"duration_s", r.duration_s},
          {"steps", r.steps},
          {"prompt_tokens", r.prompt_tokens},
          {"output_tokens", r.output_tokens},
          {"request_throughput", r.request_throughput},
          {"output_tokens_per_s", r.output_tokens_per_s},
          {"total_tokens_per_s", r.total_tokens_per_s},
          {"ttft_s", stats_json(r.ttft_s)},
          {"tpot_s", stats_json(r.tpot_s)},
          {"itl_s", stats_json(r.itl_s)},
          {"e2e_s", stats_json(r.e2e_s)},
          {"normalized_latency_s", r.normalized_latency_s},
          {"preemptions", r.preemptions},
          {"prefix_hit_rate", r.prefix_hit_rate},
          {"copy_on_writes", r.copy_on_writes},
          {"max_running", r.max_running},
          {"mean_running", r.mean_running},
          {"mean_kv_utilization", r.mean_kv_utilization},
          {"mean_kv_usage", r.mean_kv_usage},
          {"kv_capacity_tokens", r.kv_capacity_tokens},
          {"busy_s", r.busy_s},
          {"series", series}};
}

}  // namespace xpusim::serving
