// RoPE (HF rotate_half convention with default / llama3 / linear frequency scaling), KV cache stores and
// causal softmax attention with GQA, optional sliding window and optional logit soft-cap. Follows HF's eager
// path: scores = (q . k) * scale [-> cap * tanh(scores / cap)], softmax in fp32, then probabilities times V.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "exec/kernels.h"
#include "model/rope.h"

namespace xpusim::exec {
namespace {}  // namespace

void run_rope(const KernelArgs& args) {
  const auto& a = args.op.attrs;
  const int64_t d = a.head_dim, half = d / 2, n = args.in[0]->tensor->shape[0];
  const std::vector<float> inv_freq = model::rope_inverse_frequencies(a.rope, d);
  // Tokens are independent: split across the pool in prefill (8 tokens at least per thread).
  args.pool.parallel_for(n, 8, [&](int64_t t_begin, int64_t t_end) {
    std::vector<float> cos_table(static_cast<size_t>(half)), sin_table(static_cast<size_t>(half));
    for (int64_t t = t_begin; t < t_end; ++t) {
      const float pos = static_cast<float>(args.in[1]->ids[t]);
      for (int64_t i = 0; i < half; ++i) {
        const float angle = pos * inv_freq[static_cast<size_t>(i)];
        cos_table[static_cast<size_t>(i)] = std::cos(angle);
        sin_table[static_cast<size_t>(i)] = std::sin(angle);
      }
      for (int64_t h = 0; h < a.n_heads; ++h) {
        const float* x = args.in[0]->f32 + (t * a.n_heads + h) * d;
        float* y = args.out.f32 + (t * a.n_heads + h) * d;
        for (int64_t i = 0; i < half; ++i) {
          const float c = cos_table[static_cast<size_t>(i)], s = sin_table[static_cast<size_t>(i)];
          const float x1 = x[i], x2 = x[i + half];
          y[i] = x1 * c - x2 * s;         // q * cos + rotate_half(q) * sin, first half: rotate_half = -x2
          y[i + half] = x2 * c + x1 * s;  // second half: rotate_half = x1
        }
      }
    }
  });
}

void run_kv_store(const KernelArgs& args) {
  const int64_t width = args.in[0]->tensor->shape[1], n = args.in[0]->tensor->shape[0];
  std::memcpy(args.out.f32 + args.op.attrs.start_pos * width, args.in[0]->f32,
              static_cast<size_t>(n * width) * sizeof(float));
}

// out[t, h] = softmax_k(scale * q[t, h] . K[k, h / group]) V[k, h / group] over visible keys k (causal,
// windowed).
void run_attention_reference(const KernelArgs& args) {
  const auto& a = args.op.attrs;
  const int64_t n = args.in[0]->tensor->shape[0], d = a.head_dim, group = a.n_heads / a.n_kv_heads;
  const int64_t q_width = a.n_heads * d, kv_width = a.n_kv_heads * d;
  const float* k_cache = args.in[1]->f32;
  const float* v_cache = args.in[2]->f32;
  const float scale = static_cast<float>(a.scale), cap = static_cast<float>(a.softcap);
  args.pool.parallel_for(n * a.n_heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores;
    std::vector<double> acc(static_cast<size_t>(d));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t t = item / a.n_heads, h = item % a.n_heads, kv_head = h / group;
      const int64_t pos = a.start_pos + t;
      const int64_t first = a.window > 0 ? std::max<int64_t>(0, pos - a.window + 1) : 0;
      const float* q = args.in[0]->f32 + t * q_width + h * d;
      scores.resize(static_cast<size_t>(pos + 1 - first));
      float max_score = -INFINITY;
      for (int64_t k = first; k <= pos; ++k) {
        float s = dot_f32(q, k_cache + k * kv_width + kv_head * d, d) * scale;
        if (cap > 0) s = std::tanh(s / cap) * cap;
        scores[static_cast<size_t>(k - first)] = s;
        max_score = std::max(max_score, s);
      }
      float sum = 0;
      for (float& s : scores) {
        s = std::exp(s - max_score);
        sum += s;
      }
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t k = first; k <= pos; ++k) {
        const float p = scores[static_cast<size_t>(k - first)] / sum;
        const float* v = v_cache + k * kv_width + kv_head * d;
        for (int64_t i = 0; i < d; ++i) acc[static_cast<size_t>(i)] += static_cast<double>(p * v[i]);
      }
      float* out = args.out.f32 + t * q_width + h * d;
      for (int64_t i = 0; i < d; ++i) out[i] = static_cast<float>(acc[static_cast<size_t>(i)]);
    }
  });
}

}  // namespace xpusim::exec
