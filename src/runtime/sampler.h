// Sampler: logits -> next token id, with Hugging Face semantics for every knob. Order (as HF generate applies
// its processors): repetition penalty (divide positive logits / multiply negative ones of every token already
// in the sequence) -> temperature (<= 0: greedy, the first maximum like torch.argmax) -> top-k (keeps ties
// with the k-th value) -> softmax -> top-p (smallest set of most likely tokens whose mass reaches p) -> min-p
// (drop tokens below min_p * max prob) -> draw. The draw uses std::mt19937_64 seeded by `seed` and 53-bit
// uniforms, so the same seed gives the same tokens on every platform. Non-goals: beam search, logit bias,
// grammar constraints.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace xpusim::runtime {

struct SamplingParams {
  double temperature = 0.8;
  int64_t top_k = 40;           // 0 = off
  double top_p = 0.95;          // 1 = off
  double min_p = 0.05;          // 0 = off
  double repeat_penalty = 1.0;  // 1 = off
  uint64_t seed = 42;

  bool greedy() const { return temperature <= 0.0; }
  // Throws xpusim::Error naming the flag when a value is out of range.
  void validate() const;
  std::string describe() const;  // "greedy" or "temperature 0.8, top-k 40, ..."
};

class Sampler {
 public:
  explicit Sampler(SamplingParams params);
  // `logits` is modified in place (penalty, temperature). `history` holds the ids the penalty applies to.
  int32_t sample(std::span<float> logits, std::span<const int32_t> history);
  // The full-vocabulary distribution sample() draws from (after every knob; one-hot at the argmax when
  // greedy). `logits` is modified in place as by sample(). Speculative decoding's rejection rule needs it.
  std::vector<double> distribution(std::span<float> logits, std::span<const int32_t> history) const;
  // Draws an id from `probs` (any non-negative weights with mass) with this sampler's random stream.
  int32_t draw(std::span<const double> probs);
  // A 53-bit uniform in [0, 1) from this sampler's random stream.
  double uniform();
  const SamplingParams& params() const { return m_params; }

 private:
  struct Candidates {
    std::vector<int32_t> ids;   // kept ids, most likely first
    std::vector<double> probs;  // their probabilities (not renormalized after top-p / min-p)
  };
  Candidates candidates(std::span<float> logits, std::span<const int32_t> history) const;

  SamplingParams m_params;
  std::mt19937_64 m_rng;
};

int32_t argmax_first(std::span<const float> logits);

}  // namespace xpusim::runtime
