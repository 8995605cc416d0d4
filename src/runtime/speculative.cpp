#include "runtime/speculative.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "runtime/sequence_output.h"

namespace xpusim::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

constexpr int64_t kMaxDraftTokens = 64;

}  // namespace

std::vector<float> StepRunner::forward_all(std::span<const int32_t> /*tokens*/) {
  fail("{}: this target cannot return every token's logits (speculative decoding needs them)", config().name);
}

void StepRunner::rewind(int64_t /*position*/) {
  fail("{}: this target cannot drop KV positions (speculative decoding needs it)", config().name);
}

// --- acceptance ---------------------------------------------------------------------------------------

double SpeculativeStats::acceptance_rate() const {
  return drafted > 0 ? static_cast<double>(accepted) / static_cast<double>(drafted) : 0.0;
}

double SpeculativeStats::per_position_acceptance() const {
  const int64_t tried = accepted + rejections;
  return tried > 0 ? static_cast<double>(accepted) / static_cast<double>(tried) : 0.0;
}

double SpeculativeStats::tokens_per_step() const {
  return verify_steps > 0 ? static_cast<double>(emitted) / static_cast<double>(verify_steps) : 0.0;
}

double expected_tokens_per_step(double acceptance, int64_t draft_tokens) {
  if (acceptance >= 1.0) return static_cast<double>(draft_tokens + 1);
  return (1.0 - std::pow(acceptance, static_cast<double>(draft_tokens + 1))) / (1.0 - acceptance);
}

bool accept_draft(std::span<const double> p, std::span<const double> q, int32_t x, double uniform) {
  const double px = p[static_cast<size_t>(x)];
  const double qx = q.empty() ? 1.0 : q[static_cast<size_t>(x)];
  if (qx <= 0) return px > 0;  // cannot be drawn from q; accept only what p allows
  return uniform < std::min(1.0, px / qx);
}

std::vector<double> residual_distribution(std::span<const double> p, std::span<const double> q, int32_t x) {
  std::vector<double> residual(p.begin(), p.end());
  if (q.empty()) {
    residual[static_cast<size_t>(x)] = 0;
  } else {
    for (size_t i = 0; i < residual.size(); ++i) residual[i] = std::max(0.0, p[i] - q[i]);
  }
  double mass = 0;
  for (double r : residual) mass += r;
  if (!(mass > 0)) return std::vector<double>(p.begin(), p.end());
  for (double& r : residual) r /= mass;
  return residual;
}

// --- drafters ------------------------------------------------------------------------------------------

NgramDrafter::NgramDrafter(int64_t max_n, int64_t min_n) : m_max_n(max_n), m_min_n(min_n) {
  if (min_n < 1 || max_n < min_n) fail("ngram drafter: need 1 <= min_n <= max_n (got {}..{})", min_n, max_n);
}

DraftProposal NgramDrafter::propose(std::span<const int32_t> context, int64_t k) {
  DraftProposal out;
  const int64_t length = static_cast<int64_t>(context.size());
  for (int64_t n = m_max_n; n >= m_min_n; --n) {
    if (length < n + 1) continue;
    const auto pattern = context.subspan(static_cast<size_t>(length - n));
    // Latest earlier occurrence first: recent text predicts best.
    for (int64_t start = length - n - 1; start >= 0; --start) {
      if (!std::equal(pattern.begin(), pattern.end(), context.begin() + start)) continue;
      const int64_t from = start + n;
      const int64_t to = std::min(from + k, length);
      out.tokens.assign(context.begin() + from, context.begin() + to);
      return out;
    }
  }
  return out;
}

ModelDrafter::ModelDrafter(std::string name, StepRunner& runner, const SamplingParams& sampling)
    : m_name(std::move(name)), m_runner(runner), m_sampler([&] {
        SamplingParams own = sampling;
        own.seed = sampling.seed ^ 0x9E3779B97F4A7C15ULL;  // its own stream, independent of the target's
        return own;
      }()) {
  if (!runner.supports_speculation()) fail("drafter {}: its target cannot rewind its KV cache", m_name);
  if (runner.position() != 0) fail("drafter {}: the runner must start at position 0", m_name);
}

DraftProposal ModelDrafter::propose(std::span<const int32_t> context, int64_t k) {
  DraftProposal out;
  if (context.empty() || k <= 0) return out;
  // Keep the KV rows of the common prefix; the context's last token is always fed to get its logits.
  size_t common = 0;
  while (common < m_fed.size() && common < context.size() && m_fed[common] == context[common]) ++common;
  common = std::min(common, context.size() - 1);
  m_runner.rewind(static_cast<int64_t>(common));
  m_fed.resize(common);

  const bool greedy = m_sampler.params().greedy();
  const int64_t limit = m_runner.config().max_positions;
  std::vector<int32_t> history(context.begin(), context.end());
  std::vector<int32_t> pending(context.begin() + static_cast<int64_t>(common), context.end());
  for (int64_t i = 0; i < k; ++i) {
    if (m_runner.position() + static_cast<int64_t>(pending.size()) > limit) break;
    StepOutput step = m_runner.forward(pending, greedy);
    m_fed.insert(m_fed.end(), pending.begin(), pending.end());
    int32_t id = 0;
    if (greedy) {
      id = step.greedy_id >= 0 && m_sampler.params().repeat_penalty == 1.0
               ? step.greedy_id
               : m_sampler.sample(step.logits, history);
    } else {
      std::vector<double> q = m_sampler.distribution(step.logits, history);
      id = m_sampler.draw(q);
      out.probs.push_back(std::move(q));
    }
    out.tokens.push_back(id);
    history.push_back(id);
    pending.assign(1, id);
  }
  return out;
}

// --- the loop -------------------------------------------------------------------------------------------

namespace {

// One verify step's walk over the target's k + 1 rows of logits: accepts draft tokens by the rule and ends
// with the target's own token. `emit` returns false when the sequence has ended. Returns the number of draft
// tokens accepted.
struct VerifyWalk {
  Sampler& sampler;
  std::vector<int32_t>& context;
  SpeculativeStats& stats;
  const std::function<bool(int32_t)>& emit;
  bool ended = false;  // emit() said the sequence is over

  int64_t run(std::span<float> rows, int64_t vocab, const DraftProposal& draft) {
    const int64_t drafted = static_cast<int64_t>(draft.tokens.size());
    const bool greedy = sampler.params().greedy();
    int64_t accepted = 0;
    for (int64_t i = 0; i <= drafted; ++i) {
      std::span<float> row = rows.subspan(static_cast<size_t>(i * vocab), static_cast<size_t>(vocab));
      const bool has_draft = i < drafted;
      const int32_t x = has_draft ? draft.tokens[static_cast<size_t>(i)] : -1;
      int32_t id = 0;
      bool is_draft = false;
      if (greedy) {
        id = sampler.sample(row, context);
        is_draft = has_draft && id == x;
      } else {
        const std::vector<double> p = sampler.distribution(row, context);
        // q exists for the drafted positions only (none for a deterministic drafter); the bonus row has none.
        const std::span<const double> q = has_draft && !draft.probs.empty()
                                              ? std::span<const double>(draft.probs[static_cast<size_t>(i)])
                                              : std::span<const double>();
        if (has_draft && accept_draft(p, q, x, sampler.uniform())) {
          id = x;
          is_draft = true;
        } else {
          id = sampler.draw(has_draft ? residual_distribution(p, q, x) : p);
        }
      }
      ++stats.emitted;
      if (is_draft) {
        ++accepted;
        ++stats.accepted;
        if (!emit(id)) {
          ended = true;
          return accepted;
        }
        continue;
      }
      if (has_draft) ++stats.rejections;
      ended = !emit(id);
      return accepted;
    }
    return accepted;
  }
};

}  // namespace

GenerateResult generate_speculative(StepRunner& target, Drafter& drafter, const TextCodec& codec,
                                    std::vector<int32_t> prompt_ids, const GenerateOptions& options,
                                    const SpeculativeOptions& speculative, SpeculativeStats* stats_out,
                                    const std::function<void(std::string_view)>& on_text) {
  const model::ModelConfig& config = target.config();
  if (prompt_ids.empty()) fail("the prompt is empty (no tokens to start from)");
  if (options.max_tokens < 0) fail("--max-tokens must be >= 0 (got {})", options.max_tokens);
  if (speculative.draft_tokens < 1 || speculative.draft_tokens > kMaxDraftTokens)
    fail("--draft-tokens must be in 1..{} (got {})", kMaxDraftTokens, speculative.draft_tokens);
  options.sampling.validate();
  if (!target.supports_speculation() || !target.produces_values())
    fail("{}: speculative decoding needs a target that returns every token's logits and rewinds its KV cache",
         config.name);
  if (static_cast<int64_t>(prompt_ids.size()) > config.max_positions) {
    fail("the prompt has {} tokens, more than the model's context of {}", prompt_ids.size(),
         config.max_positions);
  }
  XPUSIM_ASSERT(target.position() == 0);

  SpeculativeStats scratch;
  SpeculativeStats& stats = stats_out != nullptr ? *stats_out : scratch;
  stats = SpeculativeStats{};
  stats.draft_tokens = speculative.draft_tokens;
  GenerateResult result;
  result.prompt_ids = std::move(prompt_ids);
  result.stop_reason = "max_tokens";
  Sampler sampler(options.sampling);
  SequenceOutput output(codec, options.stop_ids, options.stop_strings);
  std::vector<int32_t> context = result.prompt_ids;
  // Accounts one chosen id; false once the sequence has ended (eos, stop string, token budget).
  const std::function<bool(int32_t)> emit = [&](int32_t id) {
    context.push_back(id);
    const std::string piece = output.push(id);
    if (!piece.empty() && on_text) on_text(piece);
    if (output.finished() == SequenceOutput::Finish::eos) {
      result.stop_reason = "eos";
      return false;
    }
    result.output_ids.push_back(id);
    if (output.finished() == SequenceOutput::Finish::stop_string) {
      result.stop_reason = "stop_string";
      return false;
    }
    return static_cast<int64_t>(result.output_ids.size()) < options.max_tokens;
  };

  const auto start = Clock::now();
  StepOutput prefill = target.forward(result.prompt_ids, false);
  result.prompt_seconds = seconds_since(start);
  bool going = options.max_tokens > 0 && emit(sampler.sample(prefill.logits, context));
  const int64_t vocab = config.vocab_size;
  VerifyWalk walk{sampler, context, stats, emit};
  const auto decode_start = Clock::now();
  while (going) {
    // Invariant: the target holds the KV rows of every context token but the last.
    const int64_t position = target.position();
    XPUSIM_ASSERT(position + 1 == static_cast<int64_t>(context.size()));
    if (position >= config.max_positions) {
      result.stop_reason = "context";
      break;
    }
    const int64_t remaining = options.max_tokens - static_cast<int64_t>(result.output_ids.size());
    const int64_t k =
        std::min({speculative.draft_tokens, remaining - 1, config.max_positions - position - 1});
    const auto draft_start = Clock::now();
    DraftProposal draft = k > 0 ? drafter.propose(context, k) : DraftProposal{};
    stats.draft_seconds += seconds_since(draft_start);
    if (static_cast<int64_t>(draft.tokens.size()) > k) {
      draft.tokens.resize(static_cast<size_t>(k));
      if (!draft.probs.empty()) draft.probs.resize(static_cast<size_t>(k));
    }
    for (int32_t id : draft.tokens) {
      if (id < 0 || id >= vocab)
        fail("drafter {} proposed token {} outside the vocabulary", drafter.name(), id);
    }
    std::vector<int32_t> input{context.back()};
    input.insert(input.end(), draft.tokens.begin(), draft.tokens.end());
    const auto verify_start = Clock::now();
    std::vector<float> rows = target.forward_all(input);
    stats.verify_seconds += seconds_since(verify_start);
    ++stats.verify_steps;
    stats.drafted += static_cast<int64_t>(draft.tokens.size());
    const int64_t accepted = walk.run(rows, vocab, draft);
    going = !walk.ended;
    // Drop the KV rows of the rejected drafts; the last context token is fed by the next step.
    target.rewind(position + 1 + accepted);
  }
  result.decode_seconds = seconds_since(decode_start);
  result.decode_steps = std::max<int64_t>(0, static_cast<int64_t>(result.output_ids.size()) - 1);
  const std::string tail = output.flush();
  if (!tail.empty() && on_text) on_text(tail);
  result.text = output.text();
  return result;
}

}  // namespace xpusim::runtime
