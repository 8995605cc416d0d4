// Speculative decoding on the one generation loop's targets (runtime/step_runner.h): a drafter proposes up
// to k tokens cheaply, the target scores all k + 1 positions in one forward and keeps the longest prefix
// the rejection rule accepts, plus one token of its own (the correction at the first rejection, or a bonus
// token when all k pass). Exactness: greedy output is the target's greedy output token for token; with
// sampling, draft token x is accepted with probability min(1, p(x)/q(x)) and a rejection resamples from
// norm(max(0, p − q)), so the output distribution is the target's p (Leviathan et al. 2023; Chen et al.
// 2023; ../shared/reference/architectures.md §6.2). p is the distribution the target's sampler draws from
// (temperature, top-k, top-p, min-p, repetition penalty), q the drafter's. The KV rows of rejected tokens
// are dropped by rewinding the target's position. Non-goals: tree drafts (Medusa/EAGLE trees), batching.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/generate.h"
#include "runtime/sampler.h"
#include "runtime/step_runner.h"
#include "runtime/text_codec.h"

namespace xpusim::runtime {

// Up to k proposed tokens; `probs[i]` is the drafter's full-vocabulary distribution q that token i was drawn
// from. Empty `probs`: a deterministic drafter (q is one-hot at each token).
struct DraftProposal {
  std::vector<int32_t> tokens;
  std::vector<std::vector<double>> probs;
};

class Drafter {
 public:
  virtual ~Drafter() = default;
  virtual std::string name() const = 0;
  // Proposes at most `k` tokens to follow `context` (prompt + every token emitted so far).
  virtual DraftProposal propose(std::span<const int32_t> context, int64_t k) = 0;
};

// Prompt lookup: for n from max_n down to min_n, find the latest earlier occurrence of the context's last n
// tokens and propose the (up to k) tokens that followed it. No model; deterministic.
class NgramDrafter final : public Drafter {
 public:
  explicit NgramDrafter(int64_t max_n = 3, int64_t min_n = 1);
  std::string name() const override { return "ngram"; }
  DraftProposal propose(std::span<const int32_t> context, int64_t k) override;

 private:
  int64_t m_max_n, m_min_n;
};

// A model as drafter (a smaller model with the same tokenizer, or the target's checkpoint in a cheaper
// number format) through its own StepRunner and KV cache. It drafts autoregressively with the same
// sampling parameters as the target (its own random stream) and keeps its KV cache in step with the
// context: only the tokens after the common prefix with what it last saw are fed again.
class ModelDrafter final : public Drafter {
 public:
  ModelDrafter(std::string name, StepRunner& runner, const SamplingParams& sampling);
  std::string name() const override { return m_name; }
  DraftProposal propose(std::span<const int32_t> context, int64_t k) override;

 private:
  std::string m_name;
  StepRunner& m_runner;
  Sampler m_sampler;
  std::vector<int32_t> m_fed;  // the tokens whose KV rows the runner holds, in order
};

struct SpeculativeOptions {
  int64_t draft_tokens = 4;  // k: most tokens drafted per verify step
};

struct SpeculativeStats {
  int64_t verify_steps = 0;   // target forwards after the prefill
  int64_t drafted = 0;        // draft tokens offered to the target
  int64_t accepted = 0;       // of those, accepted
  int64_t rejections = 0;     // verify steps that stopped at a rejected draft token
  int64_t emitted = 0;        // tokens emitted by verify steps (accepted + correction / bonus)
  double draft_seconds = 0;   // time in the drafter
  double verify_seconds = 0;  // time in target forwards after the prefill
  int64_t draft_tokens = 0;   // k
  // Share of drafted tokens accepted (vLLM's "draft acceptance rate").
  double acceptance_rate() const;
  // Per-position acceptance a under the i.i.d. model: accepted / (accepted + rejections), the estimate for
  // which (1 − a^(k+1)) / (1 − a) predicts tokens per verify step.
  double per_position_acceptance() const;
  double tokens_per_step() const;  // emitted / verify_steps
};

// Expected tokens per target pass with per-position acceptance a and k drafts: (1 − a^(k+1)) / (1 − a).
double expected_tokens_per_step(double acceptance, int64_t draft_tokens);

// The generation loop with speculation: same options, stop rules, streaming and result as generate()
// (decode_steps counts the tokens emitted after the prefill's first, so decode tokens/s compares with plain
// decoding). `target.supports_speculation()` must hold; the target must be at position 0. The drafter
// must share the target's vocabulary.
GenerateResult generate_speculative(StepRunner& target, Drafter& drafter, const TextCodec& codec,
                                    std::vector<int32_t> prompt_ids, const GenerateOptions& options,
                                    const SpeculativeOptions& speculative, SpeculativeStats* stats = nullptr,
                                    const std::function<void(std::string_view)>& on_text = {});

// The rejection rule for one draft token x ~ q against target distribution p: accepted with probability
// min(1, p(x)/q(x)) (`uniform` in [0, 1)). `q` empty: a deterministic draft (q(x) = 1).
bool accept_draft(std::span<const double> p, std::span<const double> q, int32_t x, double uniform);
// The distribution to resample from after rejecting x: norm(max(0, p − q)); with a deterministic draft,
// p with x removed. Falls back to p when nothing is left (p == q up to rounding).
std::vector<double> residual_distribution(std::span<const double> p, std::span<const double> q, int32_t x);

}  // namespace xpusim::runtime
