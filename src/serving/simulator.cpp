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

struct StepRecord {
  double end = 0, step = 0, running = 0, waiting = 0, tokens = 0, usage = 0, utilization = 0, waste = 0;
  int64_t preemptions = 0, finished = 0;
};

// Buckets of consecutive steps, time-weighted averages, so long runs stay drawable.
std::vector<ServingSample> bucket_series(const std::vector<StepRecord>& steps, double start,
                                         size_t max_samples) {
  std::vector<ServingSample> series;
  const size_t per_bucket =
      std::max<size_t>(1, (steps.size() + max_samples - 1) / std::max<size_t>(max_samples, 1));
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
    series.push_back(point);
  }
  return series;
}

// One simulated serving run: requests arrive on their clock, the scheduler forms steps, the cost model times
// them, and every token event is accounted into latencies and the step series.
class ServingRun {
 public:
  ServingRun(const std::vector<SimRequest>& requests, chips::CostModel& model, const ServeSimOptions& options)
      : m_requests(requests),
        m_model(model),
        m_options(options),
        m_allocator(make_kv_allocator(options.kv)),
        m_scheduler(options.scheduler, *m_allocator) {
    m_result.allocator = m_allocator->name();
    m_result.requests = static_cast<int64_t>(requests.size());
    m_result.kv_capacity_tokens = m_allocator->usage().capacity_tokens;
    m_now = requests.empty() ? 0 : requests.front().arrival_s;
    m_start = m_now;
  }

  ServeSimResult run() {
    while (true) {
      admit_arrivals();
      if (m_scheduler.idle()) {
        if (m_next_arrival == m_requests.size()) break;
        m_now = std::max(m_now, m_requests[m_next_arrival].arrival_s);
        continue;
      }
      const StepPlan plan = m_scheduler.schedule();
      if (plan.empty()) {
        // Nothing fits while others wait: cannot happen with a non-empty cache (add_request rejects requests
        // that never fit), so this is our bug, not the user's.
        XPUSIM_ASSERT(m_next_arrival < m_requests.size());
        m_now = std::max(m_now, m_requests[m_next_arrival].arrival_s);
        continue;
      }
      run_step(plan);
    }
    return summarize();
  }

 private:
  void admit_arrivals() {
    for (; m_next_arrival < m_requests.size() && m_requests[m_next_arrival].arrival_s <= m_now;
         ++m_next_arrival) {
      const SimRequest& request = m_requests[m_next_arrival];
      RequestSpec spec{request.id, request.prompt, request.max_tokens, request.n, request.priority};
      try {
        m_scheduler.add_request(spec);
      } catch (const Error& error) {
        ++m_result.rejected;
        if (m_result.rejections.size() < 5) m_result.rejections.push_back(error.what());
        continue;
      }
      RequestTrack track;
      track.arrival = request.arrival_s;
      track.target = std::min(request.output_len, request.max_tokens);
      track.open_sequences = request.n;
      m_tracks.emplace(request.id, track);
      m_result.prompt_tokens += static_cast<int64_t>(request.prompt.size());
    }
  }

  void run_step(const StepPlan& plan) {
    const KvUsage usage = m_allocator->usage();
    const double step_s = m_model.step(plan.shape()).seconds;
    m_now += step_s;
    m_result.busy_s += step_s;
    auto sample = [&](const Sequence& seq) {
      const RequestTrack& track = m_tracks.at(seq.request_id);
      // Synthetic ids that never repeat a prompt's block by accident; EOS at the drawn output length.
      const int32_t token = static_cast<int32_t>((seq.id * 7919 + seq.output_len() * 104729) % 32000);
      return SampleOutcome{token, seq.output_len() + 1 >= track.target};
    };
    int64_t newly_finished = 0;
    for (const TokenEvent& event : m_scheduler.complete(plan, sample)) newly_finished += account(event);
    if (newly_finished > 0 && m_options.on_progress)
      m_options.on_progress(m_result.completed + m_result.rejected, static_cast<int64_t>(m_requests.size()));
    const double running = static_cast<double>(plan.chunks.size());
    m_result.max_running = std::max<int64_t>(m_result.max_running, static_cast<int64_t>(plan.chunks.size()));
    m_weighted_running += running * step_s;
    m_weighted_util += usage.utilization() * step_s;
    m_weighted_usage += usage.usage() * step_s;
    const double capacity = static_cast<double>(std::max<int64_t>(usage.capacity_tokens, 1));
    m_steps.push_back({m_now, step_s, running, static_cast<double>(m_scheduler.num_waiting()),
                       static_cast<double>(plan.total_tokens()), usage.usage(), usage.utilization(),
                       static_cast<double>(usage.reserved_tokens - usage.filled_tokens) / capacity,
                       m_scheduler.total_preemptions(),
                       (m_steps.empty() ? 0 : m_steps.back().finished) + newly_finished});
  }

  // One token of one sequence; returns 1 when it completed its request.
  int64_t account(const TokenEvent& event) {
    RequestTrack& track = m_tracks.at(event.request_id);
    SeqTrack& seq = m_seq_tracks[event.seq];
    if (seq.last_token >= 0) m_itl.push_back(m_now - seq.last_token);
    if (seq.first_token < 0) seq.first_token = m_now;
    seq.last_token = m_now;
    ++seq.tokens;
    if (track.first_token < 0) {
      track.first_token = m_now;
      m_ttft.push_back(m_now - track.arrival);
    }
    track.last_token = m_now;
    ++track.output_tokens;
    if (!event.finished) return 0;
    if (seq.tokens > 1)
      m_tpot.push_back((seq.last_token - seq.first_token) / static_cast<double>(seq.tokens - 1));
    m_seq_tracks.erase(event.seq);
    if (--track.open_sequences != 0) return 0;
    track.done = true;
    ++m_result.completed;
    m_e2e.push_back(m_now - track.arrival);
    m_normalized.push_back((m_now - track.arrival) / static_cast<double>(track.output_tokens));
    m_result.output_tokens += track.output_tokens;
    m_tracks.erase(event.request_id);
    return 1;
  }

  ServeSimResult summarize() {
    ServeSimResult& result = m_result;
    result.steps = static_cast<int64_t>(m_steps.size());
    result.duration_s = m_now - m_start;
    if (result.duration_s > 0) {
      result.request_throughput = static_cast<double>(result.completed) / result.duration_s;
      result.output_tokens_per_s = static_cast<double>(result.output_tokens) / result.duration_s;
      result.total_tokens_per_s =
          static_cast<double>(result.output_tokens + result.prompt_tokens) / result.duration_s;
    }
    if (result.busy_s > 0) {
      result.mean_running = m_weighted_running / result.busy_s;
      result.mean_kv_utilization = m_weighted_util / result.busy_s;
      result.mean_kv_usage = m_weighted_usage / result.busy_s;
    }
    result.ttft_samples_s = m_ttft;
    result.tpot_samples_s = m_tpot;
    result.ttft_s = latency_stats(m_ttft);
    result.tpot_s = latency_stats(m_tpot);
    result.itl_s = latency_stats(m_itl);
    result.e2e_s = latency_stats(m_e2e);
    double norm_sum = 0;
    for (double v : m_normalized) norm_sum += v;
    result.normalized_latency_s =
        m_normalized.empty() ? 0 : norm_sum / static_cast<double>(m_normalized.size());
    result.preemptions = m_scheduler.total_preemptions();
    result.prefix_hit_rate = m_allocator->counters().hit_rate();
    result.copy_on_writes = m_allocator->counters().copy_on_writes;
    result.series = bucket_series(m_steps, m_start, m_options.max_samples);
    return std::move(m_result);
  }

  const std::vector<SimRequest>& m_requests;
  chips::CostModel& m_model;
  const ServeSimOptions& m_options;
  std::unique_ptr<KvAllocator> m_allocator;
  Scheduler m_scheduler;
  ServeSimResult m_result;
  std::unordered_map<int64_t, RequestTrack> m_tracks;
  std::unordered_map<SeqId, SeqTrack> m_seq_tracks;
  std::vector<double> m_ttft, m_tpot, m_itl, m_e2e, m_normalized;
  std::vector<StepRecord> m_steps;
  size_t m_next_arrival = 0;
  double m_now = 0, m_start = 0;
  double m_weighted_running = 0, m_weighted_util = 0, m_weighted_usage = 0;
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
  return ServingRun(requests, model, options).run();
}

}  // namespace xpusim::serving
