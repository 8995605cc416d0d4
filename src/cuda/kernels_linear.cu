// GEMV for decode and small batches, the embedding gather and the helpers of the cuBLASLt prefill path.
// GEMV: one warp per weight row, 4 rows per 128-thread block. bf16 / fp32 rows whose length is a multiple of
// 8 / 4 elements are read with 128-bit loads (one uint4 per lane per step, coalesced across the warp);
// packed 4-bit rows are read block by block (lane i takes blocks i, i + 32, ...: consecutive lanes read
// consecutive bytes) and decoded in registers with the same decode_block the host twin test checks. Each
// weight element is used for up to 8 tokens per pass; partial sums are reduced with warp shuffles.
#include <cuda_bf16.h>

#include "cuda/device_kernels.h"

namespace xpusim::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kRowsPerBlock = 4;
constexpr int kMaxTokens = 8;

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xFFFFFFFFu, v, offset);
  return v;
}

// T = compile-time token capacity (1 for decode, 8 otherwise); n <= T tokens are valid.
template <PackedFormat F, int T, bool kVector>
__global__ void __launch_bounds__(kWarp* kRowsPerBlock)
    gemv_kernel(const uint8_t* __restrict__ weight, int64_t row_bytes, float amax,
                const float* __restrict__ x, const float* __restrict__ bias, float* __restrict__ y, int n,
                int64_t in, int64_t out) {
  const int lane = threadIdx.x % kWarp;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  if (row >= out) return;
  const uint8_t* w_row = weight + row * row_bytes;
  float acc[T];
#pragma unroll
  for (int t = 0; t < T; ++t) acc[t] = 0.0f;

  if constexpr (kVector) {
    // 16 bytes per lane per step: 8 bf16 or 4 fp32 weights.
    constexpr int kPer = F == PackedFormat::BF16 ? 8 : 4;
    const int64_t chunks = in / kPer;
    const uint4* w_vec = reinterpret_cast<const uint4*>(w_row);
    for (int64_t c = lane; c < chunks; c += kWarp) {
      const uint4 raw = __ldg(w_vec + c);
      float w[kPer];
      if constexpr (F == PackedFormat::BF16) {
        const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          w[2 * i] = __uint_as_float(words[i] << 16);
          w[2 * i + 1] = __uint_as_float(words[i] & 0xFFFF0000u);
        }
      } else {
        w[0] = __uint_as_float(raw.x);
        w[1] = __uint_as_float(raw.y);
        w[2] = __uint_as_float(raw.z);
        w[3] = __uint_as_float(raw.w);
      }
#pragma unroll
      for (int t = 0; t < T; ++t) {
        if (t < n) {
          const float4* xv = reinterpret_cast<const float4*>(x + t * in + c * kPer);
#pragma unroll
          for (int i = 0; i < kPer / 4; ++i) {
            const float4 xs = xv[i];
            acc[t] += w[4 * i] * xs.x + w[4 * i + 1] * xs.y + w[4 * i + 2] * xs.z + w[4 * i + 3] * xs.w;
          }
        }
      }
    }
  } else {
    constexpr int kElems = block_elements(F);
    constexpr int kBytes = block_bytes(F);
    const int64_t blocks = (in + kElems - 1) / kElems;
    for (int64_t b = lane; b < blocks; b += kWarp) {
      float w[kElems];
      decode_block<F>(w_row + b * kBytes, amax, w);
      const int64_t col0 = b * kElems;
      const int valid = static_cast<int>(in - col0 < kElems ? in - col0 : kElems);  // padded last block
#pragma unroll
      for (int t = 0; t < T; ++t) {
        if (t < n) {
          const float* xt = x + t * in + col0;
          float s = 0.0f;
          // Fully unrolled with a guard (not a loop to `valid`): w[] must stay in registers.
#pragma unroll
          for (int i = 0; i < kElems; ++i) {
            if (i < valid) s += w[i] * xt[i];
          }
          acc[t] += s;
        }
      }
    }
  }
#pragma unroll
  for (int t = 0; t < T; ++t) {
    const float total = warp_sum(acc[t]);
    if (lane == 0 && t < n) y[t * out + row] = total + (bias ? bias[row] : 0.0f);
  }
}

template <PackedFormat F, bool kVector>
void launch_gemv_format(const GemvArgs& a, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>((a.out + kRowsPerBlock - 1) / kRowsPerBlock));
  const dim3 block(kWarp * kRowsPerBlock);
  for (int64_t t0 = 0; t0 < a.n; t0 += kMaxTokens) {
    const int count = static_cast<int>(a.n - t0 < kMaxTokens ? a.n - t0 : kMaxTokens);
    const float* x = a.x + t0 * a.in;
    float* y = a.y + t0 * a.out;
    if (count == 1) {
      gemv_kernel<F, 1, kVector><<<grid, block, 0, stream>>>(a.weight, a.row_bytes, a.tensor_amax, x, a.bias,
                                                             y, count, a.in, a.out);
    } else {
      gemv_kernel<F, kMaxTokens, kVector><<<grid, block, 0, stream>>>(a.weight, a.row_bytes, a.tensor_amax, x,
                                                                      a.bias, y, count, a.in, a.out);
    }
  }
}

__global__ void embed_kernel(PackedFormat format, const uint8_t* __restrict__ table, int64_t row_bytes,
                             float amax, int64_t vocab, const int32_t* __restrict__ ids, int64_t width,
                             float* __restrict__ out) {
  const int64_t t = blockIdx.y;
  int32_t id = ids[t];
  if (id < 0 || id >= vocab) id = 0;  // the host validates ids; never read outside the table
  const int elems = block_elements(format), bytes = block_bytes(format);
  const int64_t blocks = (width + elems - 1) / elems;
  const uint8_t* row = table + id * row_bytes;
  for (int64_t b = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; b < blocks;
       b += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float values[kMaxBlockElements];
    decode_block_any(format, row + b * bytes, amax, values);
    for (int i = 0; i < elems && b * elems + i < width; ++i) out[t * width + b * elems + i] = values[i];
  }
}

__global__ void to_bf16_kernel(const float* __restrict__ x, __nv_bfloat16* __restrict__ y, int64_t count) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = __float2bfloat16_rn(x[i]);
}

__global__ void add_bias_kernel(float* __restrict__ y, const float* __restrict__ bias, int64_t rows,
                                int64_t cols) {
  const int64_t count = rows * cols;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] += bias[i % cols];
}

unsigned grid_for(int64_t count, int threads) {
  const int64_t blocks = (count + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

}  // namespace

void launch_gemv(const GemvArgs& a, cudaStream_t stream) {
  const bool aligned = (reinterpret_cast<uintptr_t>(a.weight) % 16 == 0) && a.row_bytes % 16 == 0 &&
                       (reinterpret_cast<uintptr_t>(a.x) % 16 == 0) && a.in % 8 == 0;
  switch (a.format) {
    case PackedFormat::BF16:
      aligned ? launch_gemv_format<PackedFormat::BF16, true>(a, stream)
              : launch_gemv_format<PackedFormat::BF16, false>(a, stream);
      break;
    case PackedFormat::F32:
      aligned ? launch_gemv_format<PackedFormat::F32, true>(a, stream)
              : launch_gemv_format<PackedFormat::F32, false>(a, stream);
      break;
    case PackedFormat::INT4:
      launch_gemv_format<PackedFormat::INT4, false>(a, stream);
      break;
    case PackedFormat::FP4:
      launch_gemv_format<PackedFormat::FP4, false>(a, stream);
      break;
    case PackedFormat::NVFP4:
      launch_gemv_format<PackedFormat::NVFP4, false>(a, stream);
      break;
    case PackedFormat::NVFP4_4O6:
      launch_gemv_format<PackedFormat::NVFP4_4O6, false>(a, stream);
      break;
    case PackedFormat::IF4:
      launch_gemv_format<PackedFormat::IF4, false>(a, stream);
      break;
    case PackedFormat::MXFP4:
      launch_gemv_format<PackedFormat::MXFP4, false>(a, stream);
      break;
    case PackedFormat::UE_4BIT:
      launch_gemv_format<PackedFormat::UE_4BIT, false>(a, stream);
      break;
    case PackedFormat::Q4_0:
      launch_gemv_format<PackedFormat::Q4_0, false>(a, stream);
      break;
    case PackedFormat::Q4_1:
      launch_gemv_format<PackedFormat::Q4_1, false>(a, stream);
      break;
    default:
      break;
  }
}

void launch_embed_rows(PackedFormat format, const uint8_t* table, int64_t row_bytes, float tensor_amax,
                       int64_t vocab, const int32_t* ids, int64_t n, int64_t width, float* out,
                       cudaStream_t stream) {
  const int threads = 128;
  const int64_t blocks_per_row = (width + block_elements(format) - 1) / block_elements(format);
  const dim3 grid(grid_for(blocks_per_row, threads), static_cast<unsigned>(n));
  embed_kernel<<<grid, threads, 0, stream>>>(format, table, row_bytes, tensor_amax, vocab, ids, width, out);
}

void launch_to_bf16(const float* x, uint16_t* y, int64_t count, cudaStream_t stream) {
  to_bf16_kernel<<<grid_for(count, 256), 256, 0, stream>>>(x, reinterpret_cast<__nv_bfloat16*>(y), count);
}

void launch_add_bias_rows(float* y, const float* bias, int64_t rows, int64_t cols, cudaStream_t stream) {
  add_bias_kernel<<<grid_for(rows * cols, 256), 256, 0, stream>>>(y, bias, rows, cols);
}

}  // namespace xpusim::cuda
