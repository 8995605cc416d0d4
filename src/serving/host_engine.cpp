#include "serving/host_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "runtime/sequence_output.h"

namespace xpusim::serving {

struct HostEngine::SeqRuntime {
  SeqRuntime(const runtime::TextCodec& codec, runtime::SamplingParams params, std::vector<int32_t> stop_ids,
             std::vector<std::string> stop_strings)
      : sampler(params), output(codec, std::move(stop_ids), std::move(stop_strings)) {}
  int64_t request_id = 0;
  int64_t index = 0;
  std::unique_ptr<exec::Executor> executor;
  runtime::Sampler sampler;
  runtime::SequenceOutput output;  // stop ids, stop strings, streamed text: as in the one-sequence loop
  std::vector<float> logits;
  std::string pending;        // text released by the last sample
  std::string finish_reason;  // set by the sampler ("stop")
  bool eos = false;           // the last sampled id ended the sequence (not part of the output)
};

struct HostEngine::RequestState {
  HostRequest request;
  int64_t open_sequences = 0;
  RequestSummary summary;
  double sim_arrival = 0;
};

HostEngine::HostEngine(const model::LoadedModel& model, const runtime::TextCodec& codec,
                       HostEngineOptions options, std::unique_ptr<chips::CostModel> cost)
    : m_model(model),
      m_codec(codec),
      m_options(options),
      m_cost(std::move(cost)),
      m_chip_name(m_cost ? m_cost->plan().chip : ""),
      m_stop_ids(codec.stop_ids(model.config)),
      m_kv(options.kv_capacity_tokens, options.block_size, true),
      m_scheduler(SchedulerConfig{options.max_batched_tokens, options.max_running,
                                  std::min(options.max_model_len, model.config.max_positions), true,
                                  SchedulePolicy::FCFS,
                                  /*fork_samples=*/false},
                  m_kv) {
  if (options.max_requests < 1) fail("serve: --max-requests must be >= 1");
  m_thread = std::thread([this] { loop(); });
}

HostEngine::~HostEngine() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  m_thread.join();
}

int64_t HostEngine::submit(HostRequest request) {
  request.sampling.validate();
  for (const std::string& stop : request.stop_strings)  // before the scheduler holds the request
    if (stop.empty()) fail("stop: a stop string must not be empty");
  std::lock_guard lock(m_mutex);
  if (static_cast<int64_t>(m_requests.size()) >= m_options.max_requests) {
    fail("the server is busy: {} requests in flight (limit {})", m_requests.size(), m_options.max_requests);
  }
  const int64_t id = m_next_request++;
  RequestSpec spec{id, request.prompt, request.max_tokens, request.n, 0};
  const std::vector<SeqId> seqs = m_scheduler.add_request(spec);  // throws for impossible requests
  auto state = std::make_unique<RequestState>();
  state->open_sequences = static_cast<int64_t>(seqs.size());
  state->summary.prompt_tokens = static_cast<int64_t>(request.prompt.size());
  state->sim_arrival = m_sim_clock;
  for (size_t i = 0; i < seqs.size(); ++i) {
    runtime::SamplingParams params = request.sampling;
    params.seed += i;  // distinct but reproducible samples
    auto runtime_state = std::make_unique<SeqRuntime>(m_codec, params, m_stop_ids, request.stop_strings);
    runtime_state->request_id = id;
    runtime_state->index = static_cast<int64_t>(i);
    m_seqs.emplace(seqs[i], std::move(runtime_state));
  }
  state->request = std::move(request);
  m_requests.emplace(id, std::move(state));
  m_wake.notify_all();
  return id;
}

void HostEngine::cancel(int64_t request_id) {
  {
    std::lock_guard lock(m_mutex);
    m_cancelled.push_back(request_id);
  }
  m_wake.notify_all();
}

KvUsage HostEngine::kv_usage() const {
  std::lock_guard lock(m_mutex);
  return m_kv.usage();
}

int64_t HostEngine::total_steps() const {
  std::lock_guard lock(m_mutex);
  return m_total_steps;
}

size_t HostEngine::active_requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests.size();
}

// Called with m_mutex held.
void HostEngine::finish_request(int64_t request_id, bool cancelled) {
  auto it = m_requests.find(request_id);
  if (it == m_requests.end()) return;
  m_scheduler.abort_request(request_id);
  for (auto seq = m_seqs.begin(); seq != m_seqs.end();) {
    seq = seq->second->request_id == request_id ? m_seqs.erase(seq) : std::next(seq);
  }
  std::unique_ptr<RequestState> state = std::move(it->second);
  m_requests.erase(it);
  state->summary.cancelled = cancelled;
  if (state->request.on_done) state->request.on_done(state->summary);
}

void HostEngine::loop() {
  std::unique_lock lock(m_mutex);
  while (true) {
    m_wake.wait(lock, [&] { return m_stopping || !m_cancelled.empty() || !m_scheduler.idle(); });
    if (m_stopping) {
      while (!m_requests.empty()) finish_request(m_requests.begin()->first, true);
      return;
    }
    for (int64_t id : m_cancelled) finish_request(id, true);
    m_cancelled.clear();
    if (m_scheduler.idle()) continue;
    const StepPlan plan = m_scheduler.schedule();
    if (plan.empty()) continue;
    // Copy what the step needs; submit() may grow the scheduler's tables while we compute unlocked.
    struct Work {
      SeqRuntime* seq;
      std::vector<int32_t> tokens;
      ScheduledChunk chunk;
    };
    std::vector<Work> work;
    for (const ScheduledChunk& chunk : plan.chunks) {
      const Sequence& seq = m_scheduler.sequence(chunk.seq);
      work.push_back(
          {m_seqs.at(chunk.seq).get(),
           std::vector<int32_t>(seq.tokens.begin(), seq.tokens.begin() + chunk.context + chunk.num_new),
           chunk});
    }
    lock.unlock();
    std::string error;
    try {
      for (Work& item : work) {
        if (!item.seq->executor) {
          item.seq->executor = std::make_unique<exec::Executor>(m_model.config, m_model.weights,
                                                                exec::ExecOptions{m_options.threads, 0});
        }
        exec::Executor& executor = *item.seq->executor;
        if (executor.position() > item.chunk.context) executor.reset();  // preempted: recompute
        const int64_t end = item.chunk.context + item.chunk.num_new;
        if (executor.position() < end) {
          std::span<const int32_t> span(item.tokens);
          auto logits = executor.forward(span.subspan(static_cast<size_t>(executor.position()),
                                                      static_cast<size_t>(end - executor.position())));
          if (item.chunk.samples) item.seq->logits = std::move(logits);
        }
      }
    } catch (const Error& e) {
      error = e.what();
    }
    lock.lock();
    if (!error.empty()) {
      std::fprintf(stderr, "serve: step failed: %s\n", error.c_str());
      for (const Work& item : work) finish_request(item.seq->request_id, true);
      continue;
    }
    ++m_total_steps;
    if (m_cost) m_sim_clock += m_cost->step(plan.shape()).seconds;
    for (const Work& item : work) {
      auto request = m_requests.find(item.seq->request_id);
      if (request != m_requests.end()) ++request->second->summary.steps;
    }
    auto sample = [&](const Sequence& seq) {
      SeqRuntime& rt = *m_seqs.at(seq.id);
      const int32_t id = rt.sampler.sample(rt.logits, seq.tokens);
      rt.pending = rt.output.push(id);
      const runtime::SequenceOutput::Finish finish = rt.output.finished();
      if (finish != runtime::SequenceOutput::Finish::none) rt.finish_reason = "stop";
      rt.eos = finish == runtime::SequenceOutput::Finish::eos;
      return SampleOutcome{id, finish != runtime::SequenceOutput::Finish::none};
    };
    const std::vector<TokenEvent> events = m_scheduler.complete(plan, sample);
    for (const TokenEvent& event : events) {
      auto seq_it = m_seqs.find(event.seq);
      auto request_it = m_requests.find(event.request_id);
      if (seq_it == m_seqs.end() || request_it == m_requests.end()) continue;
      SeqRuntime& rt = *seq_it->second;
      RequestState& state = *request_it->second;
      if (!rt.eos) ++state.summary.completion_tokens;
      if (state.summary.simulated_ttft_s < 0 && m_cost)
        state.summary.simulated_ttft_s = m_sim_clock - state.sim_arrival;
      StreamDelta delta;
      delta.index = rt.index;
      delta.text = std::move(rt.pending);
      if (event.finished) {
        delta.finished = true;
        delta.finish_reason = rt.finish_reason.empty() ? "length" : rt.finish_reason;
        if (rt.finish_reason.empty()) delta.text += rt.output.flush();
      }
      if (state.request.on_delta && (!delta.text.empty() || delta.finished)) state.request.on_delta(delta);
      if (event.finished) {
        m_seqs.erase(seq_it);
        if (--state.open_sequences == 0) {
          if (m_cost) state.summary.simulated_e2e_s = m_sim_clock - state.sim_arrival;
          finish_request(event.request_id, false);
        }
      }
    }
  }
}

}  // namespace xpusim::serving
