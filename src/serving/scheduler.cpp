#include "serving/scheduler.h"

#include <algorithm>

#include "core/error.h"

namespace xpusim::serving {

SchedulePolicy schedule_policy_from_name(const std::string& name) {
  if (name == "fcfs") return SchedulePolicy::FCFS;
  if (name == "priority") return SchedulePolicy::PRIORITY;
  fail("--policy: unknown scheduling policy '{}' (expected fcfs or priority)", name);
}

int64_t StepPlan::total_tokens() const {
  int64_t total = 0;
  for (const ScheduledChunk& chunk : chunks) total += chunk.num_new;
  return total;
}

chips::StepShape StepPlan::shape() const {
  chips::StepShape shape;
  shape.sequences.reserve(chunks.size());
  for (const ScheduledChunk& chunk : chunks) shape.sequences.push_back({chunk.num_new, chunk.context});
  return shape;
}

Scheduler::Scheduler(SchedulerConfig config, KvAllocator& allocator)
    : m_config(config), m_allocator(allocator) {
  if (config.max_batched_tokens < 1) fail("scheduler: the step token budget must be >= 1");
  if (config.max_running < 1) fail("scheduler: max running sequences must be >= 1");
  if (config.max_model_len < 2) fail("scheduler: max model length must be >= 2");
}

Scheduler::WaitKey Scheduler::wait_key(const Sequence& seq) const {
  return {m_config.policy == SchedulePolicy::PRIORITY ? seq.priority : 0, seq.order, seq.id};
}

SeqId Scheduler::new_sequence(int64_t request_id, int64_t sample_index, std::vector<int32_t> tokens,
                              int64_t prompt_len, int64_t max_len, int64_t priority, uint64_t order) {
  Sequence seq;
  seq.id = m_next_seq++;
  seq.request_id = request_id;
  seq.sample_index = sample_index;
  seq.tokens = std::move(tokens);
  seq.prompt_len = prompt_len;
  seq.max_len = max_len;
  seq.priority = priority;
  seq.order = order;
  const SeqId id = seq.id;
  m_seqs.emplace(id, std::move(seq));
  m_request_seqs[request_id].push_back(id);
  return id;
}

std::vector<SeqId> Scheduler::add_request(const RequestSpec& request) {
  const int64_t prompt_len = static_cast<int64_t>(request.prompt.size());
  if (prompt_len == 0) fail("request {}: the prompt is empty", request.id);
  if (request.max_tokens < 1)
    fail("request {}: max_tokens must be >= 1 (got {})", request.id, request.max_tokens);
  if (request.n < 1) fail("request {}: n must be >= 1 (got {})", request.id, request.n);
  if (prompt_len >= m_config.max_model_len) {
    fail("request {}: the prompt has {} tokens; the model context is {}", request.id, prompt_len,
         m_config.max_model_len);
  }
  if (m_request_seqs.count(request.id) != 0) fail("request id {} is already queued", request.id);
  const int64_t max_len = std::min(prompt_len + request.max_tokens, m_config.max_model_len);
  if (max_len > m_allocator.usage().capacity_tokens) {
    fail("request {}: {} tokens of KV needed, the whole cache holds {}", request.id, max_len,
         m_allocator.usage().capacity_tokens);
  }
  const uint64_t order = m_next_order++;
  std::vector<SeqId> ids;
  const int64_t created = m_config.fork_samples ? 1 : request.n;
  for (int64_t index = 0; index < created; ++index) {
    const SeqId id =
        new_sequence(request.id, index, request.prompt, prompt_len, max_len, request.priority, order);
    Sequence& seq = m_seqs.at(id);
    if (m_config.fork_samples) seq.pending_forks = request.n - 1;
    m_waiting.insert(wait_key(seq));
    ids.push_back(id);
  }
  return ids;
}

size_t Scheduler::pick_victim() const {
  XPUSIM_ASSERT(!m_running.empty());
  if (m_config.policy == SchedulePolicy::FCFS) return m_running.size() - 1;
  size_t victim = 0;
  for (size_t i = 1; i < m_running.size(); ++i) {
    const Sequence& a = m_seqs.at(m_running[i]);
    const Sequence& b = m_seqs.at(m_running[victim]);
    if (std::tie(a.priority, a.order) >= std::tie(b.priority, b.order)) victim = i;
  }
  return victim;
}

void Scheduler::preempt(size_t running_index) {
  Sequence& seq = m_seqs.at(m_running[running_index]);
  m_allocator.release(seq.id);
  seq.num_computed = 0;
  seq.status = SeqStatus::WAITING;
  ++seq.preemptions;
  ++m_preemptions;
  m_running.erase(m_running.begin() + static_cast<std::ptrdiff_t>(running_index));
  m_waiting.insert(wait_key(seq));
}

StepPlan Scheduler::schedule() {
  StepPlan plan;
  int64_t budget = m_config.max_batched_tokens;
  // 1. Running sequences first: decodes and prefills already under way.
  size_t i = 0;
  while (i < m_running.size() && budget > 0) {
    Sequence& seq = m_seqs.at(m_running[i]);
    const int64_t known = static_cast<int64_t>(seq.tokens.size());
    XPUSIM_ASSERT(known > seq.num_computed);
    const int64_t num_new = std::min(known - seq.num_computed, budget);
    bool self_preempted = false;
    while (!m_allocator.grow(seq.id, seq.tokens, seq.num_computed + num_new)) {
      const size_t victim = pick_victim();
      ++plan.preempted;
      if (victim == i) {
        preempt(i);
        self_preempted = true;
        break;
      }
      const SeqId victim_id = m_running[victim];
      auto planned = std::find_if(plan.chunks.begin(), plan.chunks.end(),
                                  [&](const ScheduledChunk& chunk) { return chunk.seq == victim_id; });
      if (planned != plan.chunks.end()) {
        budget += planned->num_new;
        plan.chunks.erase(planned);
      }
      preempt(victim);
      if (victim < i) --i;
    }
    if (self_preempted) continue;
    plan.chunks.push_back({seq.id, num_new, seq.num_computed, seq.num_computed + num_new == known});
    budget -= num_new;
    ++i;
  }
  // 2. Waiting sequences fill the rest, head first; none is admitted in a step that had to preempt.
  while (plan.preempted == 0 && !m_waiting.empty() && budget > 0 &&
         static_cast<int64_t>(m_running.size()) < m_config.max_running) {
    const WaitKey key = *m_waiting.begin();
    Sequence& seq = m_seqs.at(std::get<2>(key));
    const int64_t known = static_cast<int64_t>(seq.tokens.size());
    // At least the last token is computed, so the step yields logits to sample from.
    const int64_t cached = m_allocator.cached_prefix(seq.tokens, known - 1);
    const int64_t num_new = std::min(known - cached, budget);
    if (!m_config.chunked_prefill && num_new < known - cached) break;
    if (!m_allocator.admit(seq.id, seq.tokens, cached, cached + num_new, seq.max_len)) break;
    m_waiting.erase(m_waiting.begin());
    seq.status = SeqStatus::RUNNING;
    seq.num_computed = cached;
    m_running.push_back(seq.id);
    plan.chunks.push_back({seq.id, num_new, cached, cached + num_new == known});
    budget -= num_new;
  }
  return plan;
}

void Scheduler::finish(SeqId id) {
  Sequence& seq = m_seqs.at(id);
  if (m_allocator.holds(id)) m_allocator.release(id);
  if (seq.status == SeqStatus::WAITING) m_waiting.erase(wait_key(seq));
  auto running = std::find(m_running.begin(), m_running.end(), id);
  if (running != m_running.end()) m_running.erase(running);
  auto& siblings = m_request_seqs.at(seq.request_id);
  siblings.erase(std::find(siblings.begin(), siblings.end(), id));
  if (siblings.empty()) m_request_seqs.erase(seq.request_id);
  m_seqs.erase(id);
}

std::vector<TokenEvent> Scheduler::complete(const StepPlan& plan,
                                            const std::function<SampleOutcome(const Sequence&)>& sample) {
  std::vector<TokenEvent> events;
  std::vector<SeqId> to_sample;
  for (const ScheduledChunk& chunk : plan.chunks) {
    auto it = m_seqs.find(chunk.seq);
    if (it == m_seqs.end() || it->second.status != SeqStatus::RUNNING) continue;  // aborted meanwhile
    Sequence& seq = it->second;
    XPUSIM_ASSERT(seq.num_computed == chunk.context);
    seq.num_computed += chunk.num_new;
    if (!chunk.samples) continue;
    to_sample.push_back(seq.id);
    for (int64_t fork = 0; fork < seq.pending_forks; ++fork) {
      const SeqId child = new_sequence(seq.request_id, fork + 1, seq.tokens, seq.prompt_len, seq.max_len,
                                       seq.priority, seq.order);
      Sequence& child_seq = m_seqs.at(child);
      Sequence& parent = m_seqs.at(chunk.seq);  // the map may have rehashed
      if (static_cast<int64_t>(m_running.size()) < m_config.max_running &&
          m_allocator.fork(parent.id, child, parent.max_len)) {
        child_seq.num_computed = parent.num_computed;
        child_seq.status = SeqStatus::RUNNING;
        m_running.push_back(child);
        to_sample.push_back(child);
      } else {
        m_waiting.insert(wait_key(child_seq));  // prefilled on its own later
      }
    }
    m_seqs.at(chunk.seq).pending_forks = 0;
  }
  for (SeqId id : to_sample) {
    Sequence& seq = m_seqs.at(id);
    const SampleOutcome outcome = sample(seq);
    seq.tokens.push_back(outcome.token);
    const bool done = outcome.finished || static_cast<int64_t>(seq.tokens.size()) >= seq.max_len;
    events.push_back({id, seq.request_id, outcome.token, done});
    if (done) finish(id);
  }
  return events;
}

void Scheduler::abort_request(int64_t request_id) {
  auto it = m_request_seqs.find(request_id);
  if (it == m_request_seqs.end()) return;
  const std::vector<SeqId> ids = it->second;
  for (SeqId id : ids) finish(id);
}

const Sequence& Scheduler::sequence(SeqId id) const {
  auto it = m_seqs.find(id);
  if (it == m_seqs.end()) fail("sequence {} is not queued or running", id);
  return it->second;
}

void Scheduler::check_invariants() const {
  size_t waiting = 0, running = 0;
  for (const auto& [id, seq] : m_seqs) {
    const bool held = m_allocator.holds(id);
    if (seq.status == SeqStatus::RUNNING) {
      ++running;
      if (!held) fail("running sequence {} holds no KV", id);
      if (std::find(m_running.begin(), m_running.end(), id) == m_running.end())
        fail("sequence {} not in running", id);
    } else if (seq.status == SeqStatus::WAITING) {
      ++waiting;
      if (held) fail("waiting sequence {} still holds KV", id);
      if (m_waiting.count(wait_key(seq)) == 0) fail("sequence {} not in the waiting queue", id);
      if (seq.num_computed != 0) fail("waiting sequence {} has computed tokens", id);
    }
    if (seq.num_computed >= static_cast<int64_t>(seq.tokens.size()))
      fail("sequence {} has nothing to compute", id);
  }
  if (waiting != m_waiting.size() || running != m_running.size()) {
    fail("queues hold {} waiting / {} running, statuses say {} / {}", m_waiting.size(), m_running.size(),
         waiting, running);
  }
  m_allocator.check_invariants();
}

}  // namespace xpusim::serving
