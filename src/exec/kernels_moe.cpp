// Mixture-of-experts MLP (Qwen3-MoE, Mixtral), following HF: router softmax over all experts in fp32, top-k
// (ties -> lower index), optional renormalisation of the k weights, each expert down(act(gate x) * up x),
// outputs weighted and summed in expert-index order (HF loops over experts). Tokens are grouped per expert so
// each expert's weights are read once per step.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "exec/kernels.h"

namespace xpusim::exec {
namespace {

void linear_parallel(ThreadPool& pool, const model::TensorView& weight, const float* x, int64_t n, float* y) {
  pool.parallel_for(weight.rows(), 16,
                    [&](int64_t begin, int64_t end) { linear_rows(weight, nullptr, x, n, y, begin, end); });
}

}  // namespace

void run_moe(const KernelArgs& args) {
  const auto& a = args.op.attrs;
  const int64_t n = args.in[0]->tensor->shape[0], hidden = args.in[0]->tensor->shape[1];
  const int64_t experts = args.in[1]->tensor->shape[1], top_k = a.top_k;
  const int64_t ffn = args.in[2]->tensor->shape[0];
  const float* x = args.in[0]->f32;

  // Routing: per token, the chosen experts and their weights.
  std::vector<std::vector<std::pair<int64_t, float>>> routed(
      static_cast<size_t>(experts));  // expert -> (token, w)
  std::vector<float> probs(static_cast<size_t>(experts));
  std::vector<int64_t> order(static_cast<size_t>(experts));
  for (int64_t t = 0; t < n; ++t) {
    const float* logits = args.in[1]->f32 + t * experts;
    const float max_logit = *std::max_element(logits, logits + experts);
    float sum = 0;
    for (int64_t e = 0; e < experts; ++e)
      sum += probs[static_cast<size_t>(e)] = std::exp(logits[e] - max_logit);
    for (float& p : probs) p /= sum;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t l, int64_t r) {
      return probs[static_cast<size_t>(l)] > probs[static_cast<size_t>(r)];
    });
    float top_sum = 0;
    for (int64_t k = 0; k < top_k; ++k) top_sum += probs[static_cast<size_t>(order[static_cast<size_t>(k)])];
    for (int64_t k = 0; k < top_k; ++k) {
      const int64_t e = order[static_cast<size_t>(k)];
      float w = probs[static_cast<size_t>(e)];
      if (a.norm_topk) w /= top_sum;
      routed[static_cast<size_t>(e)].push_back({t, w});
    }
  }

  float* y = args.out.f32;
  std::fill(y, y + n * hidden, 0.0f);
  std::vector<float> xs, gate, up, down;
  for (int64_t e = 0; e < experts; ++e) {
    const auto& tokens = routed[static_cast<size_t>(e)];
    if (tokens.empty()) continue;
    const int64_t m = static_cast<int64_t>(tokens.size());
    xs.resize(static_cast<size_t>(m * hidden));
    for (int64_t i = 0; i < m; ++i) {
      std::copy_n(x + tokens[static_cast<size_t>(i)].first * hidden, hidden, xs.begin() + i * hidden);
    }
    gate.resize(static_cast<size_t>(m * ffn));
    up.resize(static_cast<size_t>(m * ffn));
    down.resize(static_cast<size_t>(m * hidden));
    linear_parallel(args.pool, *args.in[static_cast<size_t>(2 + 3 * e)]->weight, xs.data(), m, gate.data());
    linear_parallel(args.pool, *args.in[static_cast<size_t>(3 + 3 * e)]->weight, xs.data(), m, up.data());
    for (size_t i = 0; i < gate.size(); ++i) {
      gate[i] = (a.activation == model::Activation::SILU ? silu(gate[i]) : gelu_tanh(gate[i])) * up[i];
    }
    linear_parallel(args.pool, *args.in[static_cast<size_t>(4 + 3 * e)]->weight, gate.data(), m, down.data());
    for (int64_t i = 0; i < m; ++i) {
      const auto [t, w] = tokens[static_cast<size_t>(i)];
      for (int64_t j = 0; j < hidden; ++j) y[t * hidden + j] += w * down[static_cast<size_t>(i * hidden + j)];
    }
  }
}

}  // namespace xpusim::exec
