// Attention over the contiguous per-layer K/V rows: grid (head, query, split), 4 warps per block. Each warp
// streams keys k = begin + warp, begin + warp + 4, ... of its split: lanes hold head_dim / 32 dims of q and
// of the running output, the q.k dot product is reduced with shuffles, and an online softmax (running max m,
// running sum l) rescales the accumulator (flash-attention style, one pass over K and V). The 4 warps are
// merged in shared memory; with several splits (decode: flash-decoding, the positions split over blocks so a
// single query still fills the GPU) each split writes (m, l, acc) to scratch and merge_kernel combines them.
// Prefill runs the same kernel with one block per (query, head); it is not a tensor-core tiled kernel.
#include <cfloat>

#include "cuda/device_kernels.h"

namespace xpusim::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kPerLane = kMaxHeadDim / 32;  // dims per lane
constexpr int64_t kKeysPerSplit = 256;
constexpr int kMaxSplits = 64;

struct Range {
  int64_t first, last;  // visible keys [first, last]
};

__device__ __forceinline__ Range visible_keys(const AttentionArgs& a, int64_t t) {
  const int64_t pos = a.start_pos + t;
  const int64_t first = a.window > 0 && pos - a.window + 1 > 0 ? pos - a.window + 1 : 0;
  return {first, pos};
}

__global__ void __launch_bounds__(32 * kWarps) attention_kernel(AttentionArgs a) {
  const int64_t h = blockIdx.x, t = blockIdx.y, split = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t d = a.head_dim, group = a.n_heads / a.n_kv_heads, kv_head = h / group;
  const int64_t kv_width = a.n_kv_heads * d;
  const Range keys = visible_keys(a, t);
  const int64_t count = keys.last - keys.first + 1;
  const int64_t per_split = (count + a.splits - 1) / a.splits;
  const int64_t begin = keys.first + split * per_split;
  const int64_t end = begin + per_split < keys.last + 1 ? begin + per_split : keys.last + 1;

  float q[kPerLane], acc[kPerLane];
  const float* q_row = a.q + (t * a.n_heads + h) * d;
#pragma unroll
  for (int j = 0; j < kPerLane; ++j) {
    const int64_t dim = lane + 32 * j;
    q[j] = dim < d ? q_row[dim] : 0.0f;
    acc[j] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;
  for (int64_t k = begin + warp; k < end; k += kWarps) {
    const float* k_row = a.k_cache + k * kv_width + kv_head * d;
    float dot = 0.0f;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int64_t dim = lane + 32 * j;
      if (dim < d) dot += q[j] * k_row[dim];
    }
    for (int offset = 16; offset > 0; offset /= 2) dot += __shfl_xor_sync(0xFFFFFFFFu, dot, offset);
    float s = dot * a.scale;
    if (a.softcap > 0.0f) s = tanhf(s / a.softcap) * a.softcap;
    const float m_new = fmaxf(m, s);
    const float correction = expf(m - m_new);  // 0 on the first key (m = -inf)
    const float p = expf(s - m_new);
    l = l * correction + p;
    const float* v_row = a.v_cache + k * kv_width + kv_head * d;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int64_t dim = lane + 32 * j;
      acc[j] = acc[j] * correction + (dim < d ? p * v_row[dim] : 0.0f);
    }
    m = m_new;
  }

  // Merge the warps.
  __shared__ float shared_m[kWarps], shared_l[kWarps];
  __shared__ float shared_acc[kWarps][kMaxHeadDim];
  if (lane == 0) {
    shared_m[warp] = m;
    shared_l[warp] = l;
  }
#pragma unroll
  for (int j = 0; j < kPerLane; ++j) shared_acc[warp][lane + 32 * j] = acc[j];
  __syncthreads();
  float m_all = -INFINITY;
  for (int w = 0; w < kWarps; ++w) m_all = fmaxf(m_all, shared_m[w]);
  float weights[kWarps];
  float l_all = 0.0f;
  for (int w = 0; w < kWarps; ++w) {
    weights[w] = shared_m[w] == -INFINITY ? 0.0f : expf(shared_m[w] - m_all);
    l_all += shared_l[w] * weights[w];
  }
  const int64_t item = t * a.n_heads + h;
  for (int64_t dim = threadIdx.x; dim < d; dim += blockDim.x) {
    float sum = 0.0f;
    for (int w = 0; w < kWarps; ++w) sum += shared_acc[w][dim] * weights[w];
    if (a.splits == 1) {
      a.out[item * d + dim] = sum / l_all;
    } else {
      a.scratch[(item * a.splits + split) * d + dim] = sum;
    }
  }
  if (a.splits > 1 && threadIdx.x == 0) {
    float* stats = a.scratch + a.n * a.n_heads * a.splits * d;
    stats[2 * (item * a.splits + split)] = m_all;
    stats[2 * (item * a.splits + split) + 1] = l_all;
  }
}

// out[item] = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M); empty splits have m = -inf and weigh 0.
__global__ void merge_kernel(AttentionArgs a) {
  const int64_t item = blockIdx.x, d = a.head_dim;
  const float* stats = a.scratch + a.n * a.n_heads * a.splits * d;
  float m_all = -INFINITY;
  for (int s = 0; s < a.splits; ++s) m_all = fmaxf(m_all, stats[2 * (item * a.splits + s)]);
  float l_all = 0.0f;
  for (int s = 0; s < a.splits; ++s) {
    const float m = stats[2 * (item * a.splits + s)];
    if (m != -INFINITY) l_all += stats[2 * (item * a.splits + s) + 1] * expf(m - m_all);
  }
  for (int64_t dim = threadIdx.x; dim < d; dim += blockDim.x) {
    float sum = 0.0f;
    for (int s = 0; s < a.splits; ++s) {
      const float m = stats[2 * (item * a.splits + s)];
      if (m != -INFINITY) sum += a.scratch[(item * a.splits + s) * d + dim] * expf(m - m_all);
    }
    a.out[item * d + dim] = sum / l_all;
  }
}

}  // namespace

int attention_splits(int64_t n, int64_t start_pos, int64_t n_heads) {
  // Enough blocks to fill the GPU (~132 SMs on an H100) when n * heads alone does not.
  if (n * n_heads >= 256) return 1;
  const int64_t keys = start_pos + n;
  int64_t splits = (keys + kKeysPerSplit - 1) / kKeysPerSplit;
  if (splits > kMaxSplits) splits = kMaxSplits;
  return static_cast<int>(splits < 1 ? 1 : splits);
}

int64_t attention_scratch_floats(const AttentionArgs& a) {
  if (a.splits <= 1) return 0;
  return a.n * a.n_heads * a.splits * (a.head_dim + 2);
}

void launch_attention(const AttentionArgs& a, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(a.n_heads), static_cast<unsigned>(a.n),
                  static_cast<unsigned>(a.splits));
  attention_kernel<<<grid, 32 * kWarps, 0, stream>>>(a);
  if (a.splits > 1) merge_kernel<<<static_cast<unsigned>(a.n * a.n_heads), 128, 0, stream>>>(a);
}

}  // namespace xpusim::cuda
