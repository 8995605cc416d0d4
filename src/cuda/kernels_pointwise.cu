// Elementwise ops, RMSNorm / LayerNorm (one 256-thread block per row, fp32 sums reduced through shared
// memory), HF rotate_half RoPE and the argmax of greedy decoding. Formulas follow the host reference kernels
// (src/exec/kernels_elementwise.cpp, kernels_norm.cpp, kernels_attention.cpp); reductions run in a different
// order than the host's, so results agree to rounding, not bit for bit (docs/cuda.md gives the tolerance).
#include <cfloat>

#include "cuda/device_kernels.h"

namespace xpusim::cuda {
namespace {

constexpr int kNormThreads = 256;

unsigned grid_for(int64_t count, int threads) {
  const int64_t blocks = (count + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

__device__ __forceinline__ float gelu_tanh(float x) {
  const float inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
  return 0.5f * x * (1.0f + tanhf(inner));
}

__global__ void pointwise_kernel(PointwiseOp op, const float* __restrict__ a, const float* __restrict__ b,
                                 float param, float* __restrict__ y, int64_t count) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float v = a[i];
    switch (op) {
      case PointwiseOp::ADD:
        y[i] = v + b[i];
        break;
      case PointwiseOp::MUL:
        y[i] = v * b[i];
        break;
      case PointwiseOp::SCALE:
        y[i] = v * param;
        break;
      case PointwiseOp::SOFTCAP:
        y[i] = tanhf(v / param) * param;
        break;
      case PointwiseOp::GELU_TANH:
        y[i] = gelu_tanh(v);
        break;
      case PointwiseOp::SILU:
        y[i] = v / (1.0f + expf(-v));
        break;
    }
  }
}

// Sum over the block; every thread gets the result.
__device__ float block_sum(float v, float* shared) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xFFFFFFFFu, v, offset);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();  // `shared` may still be read by a previous call
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < static_cast<int>(blockDim.x / 32); ++w) total += shared[w];
  return total;
}

__global__ void rms_norm_kernel(const float* __restrict__ x, const float* __restrict__ w,
                                float* __restrict__ y, int64_t width, float eps, bool plus_one) {
  __shared__ float shared[32];
  const float* xr = x + blockIdx.x * width;
  float* yr = y + blockIdx.x * width;
  float sum_sq = 0.0f;
  for (int64_t i = threadIdx.x; i < width; i += blockDim.x) sum_sq += xr[i] * xr[i];
  const float total = block_sum(sum_sq, shared);
  const float inv = rsqrtf(total / static_cast<float>(width) + eps);
  for (int64_t i = threadIdx.x; i < width; i += blockDim.x)
    yr[i] = (xr[i] * inv) * (plus_one ? 1.0f + w[i] : w[i]);
}

__global__ void layer_norm_kernel(const float* __restrict__ x, const float* __restrict__ w,
                                  const float* __restrict__ b, float* __restrict__ y, int64_t width,
                                  float eps) {
  __shared__ float shared[32];
  const float* xr = x + blockIdx.x * width;
  float* yr = y + blockIdx.x * width;
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < width; i += blockDim.x) sum += xr[i];
  const float mean = block_sum(sum, shared) / static_cast<float>(width);
  float var_sum = 0.0f;
  for (int64_t i = threadIdx.x; i < width; i += blockDim.x) var_sum += (xr[i] - mean) * (xr[i] - mean);
  const float inv = rsqrtf(block_sum(var_sum, shared) / static_cast<float>(width) + eps);
  for (int64_t i = threadIdx.x; i < width; i += blockDim.x) yr[i] = (xr[i] - mean) * inv * w[i] + b[i];
}

// One thread per (token, head, i < d/2) pair of rotated elements.
__global__ void rope_kernel(const float* __restrict__ x, const int32_t* __restrict__ positions,
                            const float* __restrict__ inv_freq, float* __restrict__ y, int64_t n,
                            int64_t heads, int64_t head_dim) {
  const int64_t half = head_dim / 2;
  const int64_t count = n * heads * half;
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < count;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = idx % half, th = idx / half, t = th / heads;
    const float angle = static_cast<float>(positions[t]) * inv_freq[i];
    float s, c;
    sincosf(angle, &s, &c);
    const float* xh = x + th * head_dim;
    float* yh = y + th * head_dim;
    const float x1 = xh[i], x2 = xh[i + half];
    yh[i] = x1 * c - x2 * s;
    yh[i + half] = x2 * c + x1 * s;
  }
}

// One block: per-thread best (value, index), then a shared-memory tree; ties keep the lower index.
__global__ void argmax_kernel(const float* __restrict__ logits, int64_t count, int32_t* __restrict__ out) {
  __shared__ float best_value[1024];
  __shared__ int32_t best_index[1024];
  float value = -FLT_MAX;
  int32_t index = 0;
  bool found = false;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    const float v = logits[i];
    if (!found || v > value || value != value) {  // a NaN is replaced by the next value
      value = v;
      index = static_cast<int32_t>(i);
      found = true;
    }
  }
  best_value[threadIdx.x] = found ? value : -INFINITY;
  best_index[threadIdx.x] = found ? index : INT32_MAX;
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) {
      const float other = best_value[threadIdx.x + stride];
      const int32_t other_index = best_index[threadIdx.x + stride];
      if (other > best_value[threadIdx.x] ||
          (other == best_value[threadIdx.x] && other_index < best_index[threadIdx.x])) {
        best_value[threadIdx.x] = other;
        best_index[threadIdx.x] = other_index;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) out[0] = best_index[0];
}

}  // namespace

void launch_pointwise(PointwiseOp op, const float* a, const float* b, float param, float* y, int64_t count,
                      cudaStream_t stream) {
  pointwise_kernel<<<grid_for(count, 256), 256, 0, stream>>>(op, a, b, param, y, count);
}

void launch_rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t width, float eps,
                     bool plus_one, cudaStream_t stream) {
  rms_norm_kernel<<<static_cast<unsigned>(rows), kNormThreads, 0, stream>>>(x, w, y, width, eps, plus_one);
}

void launch_layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t width,
                       float eps, cudaStream_t stream) {
  layer_norm_kernel<<<static_cast<unsigned>(rows), kNormThreads, 0, stream>>>(x, w, b, y, width, eps);
}

void launch_rope(const float* x, const int32_t* positions, const float* inv_freq, float* y, int64_t n,
                 int64_t heads, int64_t head_dim, cudaStream_t stream) {
  rope_kernel<<<grid_for(n * heads * (head_dim / 2), 256), 256, 0, stream>>>(x, positions, inv_freq, y, n,
                                                                             heads, head_dim);
}

void launch_argmax(const float* logits, int64_t count, int32_t* out, cudaStream_t stream) {
  argmax_kernel<<<1, 1024, 0, stream>>>(logits, count, out);
}

}  // namespace xpusim::cuda
