#include "serving/simulator.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/error.h"

namespace xpusim::serving {
namespace {

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = p * static_cast<double>(sorted.size() - 1);
  const size_t low = static_cast<size_t>(std::floor(rank));
  const size_t high = std::min(low + 1, sorted.size() - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - static_cast<double>(low));
}

struct RequestTrack {
  double arrival = 0;
  double first_token = -1;
  double last_token = 0;
  int64_t output_tokens = 0;
  int64_t target = 0;  // output_len: the sampler says EOS at this length
  int64_t open_sequences = 0;
  bool done = false;
};

struct SeqTrack {
  double last_token = -1;
  double first_token = -1;
  int64_t tokens = 0;
};

}  // namespace

LatencyStats latency_stats(std::vector<double> values) {
  LatencyStats stats;
  if (values.empty()) return stats;
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  stats.count = static_cast<int64_t>(values.size());
  stats.mean = sum / static_cast<double>(values.size());
  stats.p50 = percentile(values, 0.50);
  stats.p90 = percentile(values, 0.90);
  stats.p99 = percentile(values, 0.99);
  stats.max = values.back();
  return stats;
}

ServeSimResult simulate_serving(const std::vector<SimRequest>& requests, chips::CostModel& model,
                                const ServeSimOptions& options) {
  std::unique_ptr<KvAllocator> allocator = make_kv_allocator(options.kv);
  Scheduler scheduler(options.scheduler, *allocator);
  ServeSimResult result;
  result.allocator = allocator->name();
  result.requests = static_cast<int64_t>(requests.size());
  result.kv_capacity_tokens = allocator->usage().capacity_tokens;

  std::unordered_map<int64_t, RequestTrack> tracks;
  std::unordered_map<SeqId, SeqTrack> seq_tracks;
  std::vector<double> ttft, tpot, itl, e2e, normalized;
  struct StepRecord {
    double end = 0, step = 0, running = 0, waiting = 0, tokens = 0, usage = 0, utilization = 0, waste = 0;
    int64_t preemptions = 0, finished = 0;
  };
  std::vector<StepRecord> steps;

  size_t next_arrival = 0;
  double now = requests.empty() ? 0 : requests.front().arrival_s;
  const double start = now;
  double weighted_running = 0, weighted_util = 0, weighted_usage = 0;
  auto sample = [&](const Sequence& seq) {
    RequestTrack& track = tracks.at(seq.request_id);
    // Synthetic ids that never repeat a prompt's block by accident; EOS at the drawn output length.
    const int32_t token = static_cast<int32_t>((seq.id * 7919 + seq.output_len() * 104729) % 32000);
    return SampleOutcome{token, seq.output_len() + 1 >= track.target};
  };
  while (true) {
    for (; next_arrival < requests.size() && requests[next_arrival].arrival_s <= now; ++next_arrival) {
      const SimRequest& request = requests[next_arrival];
      RequestSpec spec{request.id, request.prompt, request.max_tokens, request.n, request.priority};
      try {
        scheduler.add_request(spec);
      } catch (const Error& error) {
        ++result.rejected;
        if (result.rejections.size() < 5) result.rejections.push_back(error.what());
        continue;
      }
      RequestTrack track;
      track.arrival = request.arrival_s;
      track.target = std::min(request.output_len, request.max_tokens);
      track.open_sequences = request.n;
      tracks.emplace(request.id, track);
      result.prompt_tokens += static_cast<int64_t>(request.prompt.size());
    }
    if (scheduler.idle()) {
      if (next_arrival == requests.size()) break;
      now = std::max(now, requests[next_arrival].arrival_s);
      continue;
    }
    const StepPlan plan = scheduler.schedule();
    if (plan.empty()) {
      // Nothing fits while others wait: cannot happen with a non-empty cache (add_request rejects requests
      // that never fit), so this is our bug, not the user's.
      XPUSIM_ASSERT(next_arrival < requests.size());
      now = std::max(now, requests[next_arrival].arrival_s);
      continue;
    }
    const KvUsage usage = allocator->usage();
    const double step_s = model.step(plan.shape()).seconds;
    now += step_s;
    result.busy_s += step_s;
    const std::vector<TokenEvent> events = scheduler.complete(plan, sample);
    int64_t newly_finished = 0;
    for (const TokenEvent& event : events) {
      RequestTrack& track = tracks.at(event.request_id);
      SeqTrack& seq = seq_tracks[event.seq];
      if (seq.last_token >= 0) itl.push_back(now - seq.last_token);
      if (seq.first_token < 0) seq.first_token = now;
      seq.last_token = now;
      ++seq.tokens;
      if (track.first_token < 0) {
        track.first_token = now;
        ttft.push_back(now - track.arrival);
      }
      track.last_token = now;
      ++track.output_tokens;
      if (event.finished) {
        if (seq.tokens > 1)
          tpot.push_back((seq.last_token - seq.first_token) / static_cast<double>(seq.tokens - 1));
        seq_tracks.erase(event.seq);
        if (--track.open_sequences == 0) {
          track.done = true;
          ++result.completed;
          ++newly_finished;
          e2e.push_back(now - track.arrival);
          normalized.push_back((now - track.arrival) / static_cast<double>(track.output_tokens));
          result.output_tokens += track.output_tokens;
          tracks.erase(event.request_id);
        }
      }
    }
    if (newly_finished > 0 && options.on_progress)
      options.on_progress(result.completed + result.rejected, static_cast<int64_t>(requests.size()));
    const double running = static_cast<double>(plan.chunks.size());
    result.max_running = std::max<int64_t>(result.max_running, static_cast<int64_t>(plan.chunks.size()));
    weighted_running += running * step_s;
    weighted_util += usage.utilization() * step_s;
    weighted_usage += usage.usage() * step_s;
    const double capacity = static_cast<double>(std::max<int64_t>(usage.capacity_tokens, 1));
    steps.push_back({now, step_s, running, static_cast<double>(scheduler.num_waiting()),
                     static_cast<double>(plan.total_tokens()), usage.usage(), usage.utilization(),
                     static_cast<double>(usage.reserved_tokens - usage.filled_tokens) / capacity,
                     scheduler.total_preemptions(),
                     (steps.empty() ? 0 : steps.back().finished) + newly_finished});
  }
  result.steps = static_cast<int64_t>(steps.size());
  result.duration_s = now - start;
  if (result.duration_s > 0) {
    result.request_throughput = static_cast<double>(result.completed) / result.duration_s;
    result.output_tokens_per_s = static_cast<double>(result.output_tokens) / result.duration_s;
    result.total_tokens_per_s =
        static_cast<double>(result.output_tokens + result.prompt_tokens) / result.duration_s;
  }
  if (result.busy_s > 0) {
    result.mean_running = weighted_running / result.busy_s;
    result.mean_kv_utilization = weighted_util / result.busy_s;
    result.mean_kv_usage = weighted_usage / result.busy_s;
  }
  result.ttft_samples_s = ttft;
  result.tpot_samples_s = tpot;
  result.ttft_s = latency_stats(ttft);
  result.tpot_s = latency_stats(tpot);
  result.itl_s = latency_stats(itl);
  result.e2e_s = latency_stats(e2e);
  double norm_sum = 0;
  for (double v : normalized) norm_sum += v;
  result.normalized_latency_s = normalized.empty() ? 0 : norm_sum / static_cast<double>(normalized.size());
  result.preemptions = scheduler.total_preemptions();
  result.prefix_hit_rate = allocator->counters().hit_rate();
  result.copy_on_writes = allocator->counters().copy_on_writes;

  // Buckets of consecutive steps, averaged, so long runs stay drawable.
  const size_t per_bucket = std::max<size_t>(
      1, (steps.size() + options.max_samples - 1) / std::max<size_t>(options.max_samples, 1));
  for (size_t begin = 0; begin < steps.size(); begin += per_bucket) {
    const size_t end = std::min(steps.size(), begin + per_bucket);
    ServingSample point;
    double weight = 0;
    for (size_t i = begin; i < end; ++i) {
      const StepRecord& s = steps[i];
      const double w = std::max(s.step, 1e-12);
      weight += w;
      point.running += s.running * w;
      point.waiting += s.waiting * w;
      point.batch_tokens += s.tokens * w;
      point.kv_usage += s.usage * w;
      point.kv_utilization += s.utilization * w;
      point.kv_waste += s.waste * w;
      point.step_s += s.step;
    }
    point.running /= weight;
    point.waiting /= weight;
    point.batch_tokens /= weight;
    point.kv_usage /= weight;
    point.kv_utilization /= weight;
    point.kv_waste /= weight;
    point.step_s /= static_cast<double>(end - begin);
    point.time_s = steps[end - 1].end - start;
    point.preemptions = steps[end - 1].preemptions;
    point.finished = steps[end - 1].finished;
    result.series.push_back(point);
  }
  return result;
}

}  // namespace xpusim::serving
