// Fast ATTENTION (same semantics as run_attention_reference: causal, GQA, sliding window, soft-cap): a
// flash-style pass per (token, head) with an online softmax over tiles of keys (scores of one tile in an L1
// array, the running output rescaled when the maximum grows), SIMD dots and axpys. Work items are (token,
// head, key range): when there are fewer (token, head) pairs than 4x the threads (decode with few heads or
// long contexts), the visible keys are split into ranges run on different threads and the partial softmax
// states (max, sum, output) are merged. Levels with an attend_keys kernel (AVX-512, head_dim 64 / 128, no
// soft-cap) keep q and the output in registers and exponentiate 16 scores at once (polynomial exp, ~2e-7
// relative). Tolerance: fp32 online softmax vs the reference's double sums, |diff| <= 1e-5 * max |v| in
// tests.
#include <algorithm>
#include <cmath>
#include <vector>

#include "exec/kernels.h"
#include "exec/simd/simd_kernels.h"

namespace xpusim::exec {
namespace {

constexpr int64_t kKeyTile = 64;
constexpr int64_t kMinKeysPerSplit = 128;

struct SoftmaxState {
  float max = -INFINITY;
  float sum = 0.0f;
};

// Folds keys [first, last) into (state, acc[d]).
void attend_range(const float* q, const float* k_cache, const float* v_cache, int64_t kv_width, int64_t d,
                  int64_t first, int64_t last, float scale, float cap, const simd::SimdKernels& kernels,
                  SoftmaxState& state, float* acc) {
  if (cap == 0 && kernels.attend_keys && last > first &&
      kernels.attend_keys(q, k_cache + first * kv_width, v_cache + first * kv_width, kv_width, last - first,
                          d, scale, &state.max, &state.sum, acc)) {
    return;
  }
  float scores[kKeyTile];
  for (int64_t k0 = first; k0 < last; k0 += kKeyTile) {
    const int64_t count = std::min(kKeyTile, last - k0);
    float tile_max = -INFINITY;
    for (int64_t j = 0; j < count; ++j) {
      float s = kernels.dot_f32(q, k_cache + (k0 + j) * kv_width, d) * scale;
      if (cap > 0) s = std::tanh(s / cap) * cap;
      scores[j] = s;
      tile_max = std::max(tile_max, s);
    }
    if (tile_max > state.max) {
      const float rescale = std::exp(state.max - tile_max);  // exp(-inf) = 0 on the first tile
      for (int64_t i = 0; i < d; ++i) acc[i] *= rescale;
      state.sum *= rescale;
      state.max = tile_max;
    }
    for (int64_t j = 0; j < count; ++j) {
      const float p = std::exp(scores[j] - state.max);
      state.sum += p;
      kernels.axpy(p, v_cache + (k0 + j) * kv_width, acc, d);
    }
  }
}

}  // namespace

void run_attention(const KernelArgs& args) {
  const auto& a = args.op.attrs;
  const int64_t n = args.in[0]->tensor->shape[0], d = a.head_dim, group = a.n_heads / a.n_kv_heads;
  const int64_t q_width = a.n_heads * d, kv_width = a.n_kv_heads * d;
  const float* k_cache = args.in[1]->f32;
  const float* v_cache = args.in[2]->f32;
  const float scale = static_cast<float>(a.scale), cap = static_cast<float>(a.softcap);
  const simd::SimdKernels& kernels = simd::simd_kernels();
  const int64_t pairs = n * a.n_heads;
  const int64_t last_pos = a.start_pos + n - 1;
  const int64_t visible = a.window > 0 ? std::min<int64_t>(a.window, last_pos + 1) : last_pos + 1;
  int64_t splits = 1;
  if (pairs < 4 * args.pool.size()) {
    const int64_t wanted = (4 * args.pool.size() + pairs - 1) / pairs;
    splits = std::max<int64_t>(1, std::min(wanted, visible / kMinKeysPerSplit));
  }
  std::vector<SoftmaxState> states(static_cast<size_t>(pairs * splits));
  std::vector<float> partial(static_cast<size_t>(splits > 1 ? pairs * splits * d : 0));

  args.pool.parallel_for(pairs * splits, 1, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t pair = item / splits, split = item % splits;
      const int64_t t = pair / a.n_heads, h = pair % a.n_heads, kv_head = h / group;
      const int64_t pos = a.start_pos + t;
      const int64_t first = a.window > 0 ? std::max<int64_t>(0, pos - a.window + 1) : 0;
      const int64_t span = pos + 1 - first;
      const int64_t lo = first + span * split / splits, hi = first + span * (split + 1) / splits;
      float* acc = splits > 1 ? partial.data() + item * d : args.out.f32 + t * q_width + h * d;
      std::fill(acc, acc + d, 0.0f);
      SoftmaxState& state = states[static_cast<size_t>(item)];
      attend_range(args.in[0]->f32 + t * q_width + h * d, k_cache + kv_head * d, v_cache + kv_head * d,
                   kv_width, d, lo, hi, scale, cap, kernels, state, acc);
      if (splits == 1) {
        const float inv = 1.0f / state.sum;
        for (int64_t i = 0; i < d; ++i) acc[i] *= inv;
      }
    }
  });
  if (splits == 1) return;
  // Merge the key ranges of each pair: rescale every partial to the common maximum.
  for (int64_t pair = 0; pair < pairs; ++pair) {
    const int64_t t = pair / a.n_heads, h = pair % a.n_heads;
    float max = -INFINITY;
    for (int64_t s = 0; s < splits; ++s)
      max = std::max(max, states[static_cast<size_t>(pair * splits + s)].max);
    float* out = args.out.f32 + t * q_width + h * d;
    std::fill(out, out + d, 0.0f);
    float sum = 0.0f;
    for (int64_t s = 0; s < splits; ++s) {
      const SoftmaxState& state = states[static_cast<size_t>(pair * splits + s)];
      if (state.sum == 0.0f) continue;  // an empty key range
      const float weight = std::exp(state.max - max);
      sum += state.sum * weight;
      kernels.axpy(weight, partial.data() + (pair * splits + s) * d, out, d);
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < d; ++i) out[i] *= inv;
  }
}

}  // namespace xpusim::exec
