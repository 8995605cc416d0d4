// HostEngine: real generation on this machine for the HTTP server, batched by the serving scheduler so that
// concurrent requests share steps. One engine thread loops: schedule a step (paged KV accounting, prefix
// cache, preemption), run every scheduled chunk, sample, stream text. Each sequence has its own
// exec::Executor (the executor has one sequence's KV and no batched forward), so a step runs its sequences
// one after the other: the batching is real in the scheduler and the simulated timing, not in the host
// kernels. Because executors cannot share KV, a prefix-cache hit or a forked sample is recomputed on the host
// (the simulated chip is charged only for the uncached tokens). With a chip cost model, each step is also
// timed on the chip and every request gets its simulated TTFT / E2E. Non-goals: HTTP (server.h), beam search.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "chips/cost_model.h"
#include "exec/executor.h"
#include "model/loader.h"
#include "runtime/sampler.h"
#include "runtime/text_codec.h"
#include "serving/block_manager.h"
#include "serving/scheduler.h"

namespace xpusim::serving {

struct HostEngineOptions {
  int64_t kv_capacity_tokens = 32768;  // accounting pool of the scheduler (host KV is fp32 per executor)
  int64_t block_size = 16;
  int64_t max_batched_tokens = 512;
  int64_t max_running = 8;       // sequences stepped together (each holds an executor)
  int64_t max_model_len = 2048;  // clipped to the model's context
  int64_t max_requests = 64;     // queued + running requests; more are refused
  int threads = 0;               // executor threads (0 = one per core)
};

// One piece of one choice's output, delivered on the engine thread.
struct StreamDelta {
  int64_t index = 0;  // choice index (0 .. n-1)
  std::string text;
  bool finished = false;
  std::string finish_reason;  // "stop" (EOS or stop string) | "length"
};

struct RequestSummary {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  double simulated_ttft_s = -1;  // on the chip; -1 without a cost model
  double simulated_e2e_s = -1;
  int64_t steps = 0;
  bool cancelled = false;
};

struct HostRequest {
  std::vector<int32_t> prompt;
  int64_t max_tokens = 16;
  int64_t n = 1;
  runtime::SamplingParams sampling;
  std::vector<std::string> stop_strings;
  std::function<void(const StreamDelta&)> on_delta;    // engine thread; must not block long
  std::function<void(const RequestSummary&)> on_done;  // engine thread, once, after the last delta
};

class HostEngine {
 public:
  // `cost` may be null (no simulated timing). model must outlive the engine.
  HostEngine(const model::LoadedModel& model, const runtime::TextCodec& codec, HostEngineOptions options,
             std::unique_ptr<chips::CostModel> cost);
  ~HostEngine();
  HostEngine(const HostEngine&) = delete;
  HostEngine& operator=(const HostEngine&) = delete;

  // Queues a request; returns its id. xpusim::Error (nothing queued) when the request can never run, or the
  // engine already holds max_requests.
  int64_t submit(HostRequest request);
  // Drops the request and frees its KV before the next step (client gone). on_done is called (cancelled).
  void cancel(int64_t request_id);
  // KV accounting (tests: a cancelled request must leave nothing behind).
  KvUsage kv_usage() const;
  size_t active_requests() const;
  int64_t total_steps() const;  // steps run since start (concurrent requests share them)
  const std::string& chip_name() const { return m_chip_name; }

 private:
  struct SeqRuntime;
  struct RequestState;
  void loop();
  void run_step(const StepPlan& plan);
  void finish_request(int64_t request_id, bool cancelled);

  const model::LoadedModel& m_model;
  const runtime::TextCodec& m_codec;
  HostEngineOptions m_options;
  std::unique_ptr<chips::CostModel> m_cost;
  std::string m_chip_name;
  std::vector<int32_t> m_stop_ids;
  PagedBlockManager m_kv;
  Scheduler m_scheduler;

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  std::vector<int64_t> m_cancelled;
  std::unordered_map<int64_t, std::unique_ptr<RequestState>> m_requests;
  std::unordered_map<SeqId, std::unique_ptr<SeqRuntime>> m_seqs;
  int64_t m_next_request = 1;
  double m_sim_clock = 0;
  int64_t m_total_steps = 0;
  std::thread m_thread;
};

}  // namespace xpusim::serving
