#include "runtime/sampler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>
#include <vector>

#include "core/error.h"

namespace xpusim::runtime {

void SamplingParams::validate() const {
  if (!std::isfinite(temperature) || temperature < 0)
    fail("--temperature must be >= 0 (got {})", temperature);
  if (top_k < 0) fail("--top-k must be >= 0 (got {})", top_k);
  if (!(top_p > 0 && top_p <= 1)) fail("--top-p must be in (0, 1] (got {})", top_p);
  if (!(min_p >= 0 && min_p < 1)) fail("--min-p must be in [0, 1) (got {})", min_p);
  if (!std::isfinite(repeat_penalty) || repeat_penalty <= 0) {
    fail("--repeat-penalty must be > 0 (got {})", repeat_penalty);
  }
}

std::string SamplingParams::describe() const {
  std::string text = greedy() ? "greedy"
                              : fmt::format("temperature {}, top-k {}, top-p {}, min-p {}, seed {}",
                                            temperature, top_k, top_p, min_p, seed);
  if (repeat_penalty != 1.0) text += fmt::format(", repeat penalty {}", repeat_penalty);
  return text;
}

int32_t argmax_first(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

Sampler::Sampler(SamplingParams params) : m_params(params), m_rng(params.seed) { m_params.validate(); }

Sampler::Candidates Sampler::candidates(std::span<float> logits, std::span<const int32_t> history) const {
  const int64_t vocab = static_cast<int64_t>(logits.size());
  if (m_params.repeat_penalty != 1.0) {
    const float penalty = static_cast<float>(m_params.repeat_penalty);
    std::unordered_set<int32_t> seen(history.begin(), history.end());
    for (int32_t id : seen) {
      if (id < 0 || id >= vocab) continue;
      float& logit = logits[static_cast<size_t>(id)];
      logit = logit > 0 ? logit / penalty : logit * penalty;
    }
  }
  Candidates out;
  if (m_params.greedy()) {
    out.ids = {argmax_first(logits)};
    out.probs = {1.0};
    return out;
  }

  const float temperature = static_cast<float>(m_params.temperature);
  for (float& logit : logits) logit /= temperature;

  // Candidates sorted by logit, descending; ties keep the lower id first (stable).
  std::vector<int32_t>& ids = out.ids;
  ids.resize(static_cast<size_t>(vocab));
  std::iota(ids.begin(), ids.end(), 0);
  auto by_logit = [&](int32_t a, int32_t b) {
    return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)] ||
           (logits[static_cast<size_t>(a)] == logits[static_cast<size_t>(b)] && a < b);
  };
  size_t keep = ids.size();
  if (m_params.top_k > 0 && m_params.top_k < vocab) {
    std::partial_sort(ids.begin(), ids.begin() + m_params.top_k, ids.end(), by_logit);
    const float kth = logits[static_cast<size_t>(ids[static_cast<size_t>(m_params.top_k - 1)])];
    keep = static_cast<size_t>(m_params.top_k);
    // HF removes only logits strictly below the k-th value: ties with it stay.
    auto ties = std::partition(ids.begin() + static_cast<int64_t>(keep), ids.end(),
                               [&](int32_t id) { return logits[static_cast<size_t>(id)] == kth; });
    std::sort(ids.begin() + static_cast<int64_t>(keep), ties);
    keep = static_cast<size_t>(ties - ids.begin());
  } else {
    std::sort(ids.begin(), ids.end(), by_logit);
  }
  ids.resize(keep);

  std::vector<double>& probs = out.probs;
  probs.resize(ids.size());
  const double max_logit = logits[static_cast<size_t>(ids[0])];
  double sum = 0;
  for (size_t i = 0; i < ids.size(); ++i)
    sum += probs[i] = std::exp(logits[static_cast<size_t>(ids[i])] - max_logit);
  for (double& p : probs) p /= sum;

  if (m_params.top_p < 1.0) {
    double mass = 0;
    size_t cut = 0;
    while (cut < probs.size()) {
      mass += probs[cut++];
      if (mass >= m_params.top_p) break;
    }
    probs.resize(cut);
  }
  if (m_params.min_p > 0) {
    const double floor = m_params.min_p * probs[0];
    size_t cut = 1;
    while (cut < probs.size() && probs[cut] >= floor) ++cut;
    probs.resize(cut);
  }
  ids.resize(probs.size());
  return out;
}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> history) {
  if (m_params.greedy()) return candidates(logits, history).ids[0];  // no draw: the rng stays untouched
  const Candidates kept = candidates(logits, history);
  const double total = std::accumulate(kept.probs.begin(), kept.probs.end(), 0.0);
  const double u = uniform() * total;
  double acc = 0;
  for (size_t i = 0; i < kept.probs.size(); ++i) {
    acc += kept.probs[i];
    if (u < acc) return kept.ids[i];
  }
  return kept.ids[kept.probs.size() - 1];
}

std::vector<double> Sampler::distribution(std::span<float> logits, std::span<const int32_t> history) const {
  const Candidates kept = candidates(logits, history);
  const double total = std::accumulate(kept.probs.begin(), kept.probs.end(), 0.0);
  std::vector<double> probs(logits.size(), 0.0);
  for (size_t i = 0; i < kept.ids.size(); ++i)
    probs[static_cast<size_t>(kept.ids[i])] = kept.probs[i] / total;
  return probs;
}

int32_t Sampler::draw(std::span<const double> probs) {
  const double total = std::accumulate(probs.begin(), probs.end(), 0.0);
  if (!(total > 0)) fail("Sampler::draw: the distribution has no mass");
  const double u = uniform() * total;
  double acc = 0;
  int32_t last_nonzero = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (probs[i] <= 0) continue;
    acc += probs[i];
    last_nonzero = static_cast<int32_t>(i);
    if (u < acc) return last_nonzero;
  }
  return last_nonzero;  // rounding left u at the very top
}

double Sampler::uniform() { return static_cast<double>(m_rng() >> 11) * 0x1.0p-53; }

}  // namespace xpusim::runtime
