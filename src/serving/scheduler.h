// Scheduler: continuous batching in the style of vLLM V1. Each step gets a token budget
// (max_batched_tokens) and a cap on running sequences. Running sequences go first (decode-first: one token
// each, or the next chunk of a prefill still in progress); waiting sequences then fill what is left of the
// budget, a prompt that does not fit being split into chunks (chunked prefill). When a running sequence
// cannot get KV memory, the lowest-ranked running sequence (FCFS: the latest admitted; PRIORITY: the highest
// priority value, then the latest arrival) is preempted by recompute: all its blocks are freed and it waits
// again at its original place in the queue, to be re-prefilled with prompt + tokens generated so far (the
// prefix cache usually recovers much of it). The waiting queue is ordered by (priority, arrival), and the
// head is never skipped, so no request starves behind later ones. Requests with n > 1 prefill once and fork n
// sequences sharing the prompt's blocks (copy-on-write), unless fork_samples is off (the host engine, whose
// per-sequence executors cannot share KV). Non-goals: running the model (the caller executes the plan and
// reports the sampled tokens), swapping to host memory (a preempted sequence is always recomputed),
// speculative decoding.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "chips/cost_model.h"
#include "serving/kv_allocator.h"

namespace xpusim::serving {

enum class SchedulePolicy { FCFS, PRIORITY };
SchedulePolicy schedule_policy_from_name(const std::string& name);  // "fcfs" | "priority"

struct SchedulerConfig {
  int64_t max_batched_tokens = 2048;  // tokens per step (vLLM max_num_batched_tokens)
  int64_t max_running = 256;          // sequences per step (vLLM max_num_seqs)
  int64_t max_model_len = 2048;       // prompt + output limit of one sequence
  bool chunked_prefill = true;        // off: a prompt is admitted only when it fits the step whole
  SchedulePolicy policy = SchedulePolicy::FCFS;
  bool fork_samples = true;  // n > 1: fork after prefill (shared blocks) instead of n prefills
};

struct RequestSpec {
  int64_t id = 0;
  std::vector<int32_t> prompt;
  int64_t max_tokens = 16;
  int64_t n = 1;
  int64_t priority = 0;  // PRIORITY policy: lower first
};

enum class SeqStatus { WAITING, RUNNING, FINISHED };

struct Sequence {
  SeqId id = 0;
  int64_t request_id = 0;
  int64_t sample_index = 0;     // 0 .. n-1 within its request
  std::vector<int32_t> tokens;  // prompt, then generated ids
  int64_t prompt_len = 0;
  int64_t num_computed = 0;  // tokens whose KV is in the cache
  int64_t max_len = 0;       // prompt + max_tokens, clipped to max_model_len
  int64_t priority = 0;
  uint64_t order = 0;         // arrival order (FCFS key)
  int64_t pending_forks = 0;  // samples still to fork once the prompt is computed
  int64_t preemptions = 0;
  SeqStatus status = SeqStatus::WAITING;
  int64_t output_len() const { return static_cast<int64_t>(tokens.size()) - prompt_len; }
};

// One sequence's share of a step: num_new tokens computed after `context` cached ones.
struct ScheduledChunk {
  SeqId seq = 0;
  int64_t num_new = 0;
  int64_t context = 0;
  bool samples = false;  // the chunk reaches the sequence's last known token: a new token is sampled
};

struct StepPlan {
  std::vector<ScheduledChunk> chunks;
  int64_t preempted = 0;  // sequences preempted while planning this step
  bool empty() const { return chunks.empty(); }
  int64_t total_tokens() const;
  chips::StepShape shape() const;
};

// What the caller's sampler decided for one sequence.
struct SampleOutcome {
  int32_t token = 0;
  bool finished = false;  // end of sequence / stop string (the scheduler also stops at max_len)
};

// What a completed step did, for metrics and for the server to stream.
struct TokenEvent {
  SeqId seq = 0;
  int64_t request_id = 0;
  int32_t token = 0;
  bool finished = false;
};

class Scheduler {
 public:
  Scheduler(SchedulerConfig config, KvAllocator& allocator);

  // Queues a request. xpusim::Error (nothing queued) when it could never run: empty prompt, prompt longer
  // than max_model_len, or more KV than the whole cache. Returns the ids of the sequences created now (one if
  // the samples are forked later).
  std::vector<SeqId> add_request(const RequestSpec& request);
  StepPlan schedule();
  // Applies a step that ran: chunks marked `samples` get a token from `sample` (a forked child is sampled
  // too, right after its parent). Finished sequences free their KV at once.
  std::vector<TokenEvent> complete(const StepPlan& plan,
                                   const std::function<SampleOutcome(const Sequence&)>& sample);
  // Drops every sequence of the request now (client gone); unknown ids are ignored.
  void abort_request(int64_t request_id);

  const Sequence& sequence(SeqId id) const;
  bool has_sequence(SeqId id) const { return m_seqs.count(id) != 0; }
  size_t num_waiting() const { return m_waiting.size(); }
  size_t num_running() const { return m_running.size(); }
  bool idle() const { return m_waiting.empty() && m_running.empty(); }
  int64_t total_preemptions() const { return m_preemptions; }
  const SchedulerConfig& config() const { return m_config; }
  const KvAllocator& allocator() const { return m_allocator; }
  // Throws xpusim::Error when queues, statuses and the allocator disagree (tests).
  void check_invariants() const;

 private:
  using WaitKey = std::tuple<int64_t, uint64_t, SeqId>;
  WaitKey wait_key(const Sequence& seq) const;
  SeqId new_sequence(int64_t request_id, int64_t sample_index, std::vector<int32_t> tokens,
                     int64_t prompt_len, int64_t max_len, int64_t priority, uint64_t order);
  size_t pick_victim() const;  // index into m_running
  void preempt(size_t running_index);
  void finish(SeqId id);

  SchedulerConfig m_config;
  KvAllocator& m_allocator;
  std::unordered_map<SeqId, Sequence> m_seqs;
  std::unordered_map<int64_t, std::vector<SeqId>> m_request_seqs;
  std::set<WaitKey> m_waiting;
  std::vector<SeqId> m_running;  // in admission order
  SeqId m_next_seq = 1;
  uint64_t m_next_order = 0;
  int64_t m_preemptions = 0;
};

}  // namespace xpusim::serving
