// Launchers of the CUDA target's kernels (kernels_linear.cu, kernels_pointwise.cu, kernels_attention.cu).
// Plain pointers and sizes only, so nvcc never sees the project's graph/model headers and the host code
// never sees kernel code. Every launcher enqueues on `stream` and returns at once (no synchronisation); the
// executor checks cudaGetLastError once per step. Semantics of each op: graph/op.h and the host reference
// kernels in src/exec (the definition these mirror). Non-goals: MoE (not implemented on the GPU yet).
// HOWTO add a kernel: write it in the .cu file of its category, declare its launcher here, call it from
// cuda_executor.cpp's op dispatch.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/packed_formats.h"

namespace xpusim::cuda {

// y[t, r] = sum_c x[t, c] * W[r, c] (+ bias[r]) for t < n, r < out: one warp per weight row, up to 8 tokens
// per weight pass (decode and small batches), W decoded in registers from `format`.
struct GemvArgs {
  PackedFormat format = PackedFormat::BF16;
  const uint8_t* weight = nullptr;
  int64_t row_bytes = 0;
  float tensor_amax = 0.0f;
  const float* bias = nullptr;  // may be null
  const float* x = nullptr;     // [n, in]
  float* y = nullptr;           // [n, out]
  int64_t n = 0;
  int64_t in = 0;
  int64_t out = 0;
};
void launch_gemv(const GemvArgs& args, cudaStream_t stream);

// out[t, :] = row ids[t] of the table (decoded from its format).
void launch_embed_rows(PackedFormat format, const uint8_t* table, int64_t row_bytes, float tensor_amax,
                       int64_t vocab, const int32_t* ids, int64_t n, int64_t width, float* out,
                       cudaStream_t stream);

enum class PointwiseOp : uint8_t { ADD, MUL, SCALE, SOFTCAP, GELU_TANH, SILU };
// y = op(a[, b]); `param` is the SCALE factor or SOFTCAP cap.
void launch_pointwise(PointwiseOp op, const float* a, const float* b, float param, float* y, int64_t count,
                      cudaStream_t stream);
// y[r, c] += bias[c]
void launch_add_bias_rows(float* y, const float* bias, int64_t rows, int64_t cols, cudaStream_t stream);
// fp32 -> bf16 (RNE) for the cuBLASLt prefill GEMM's activations.
void launch_to_bf16(const float* x, uint16_t* y, int64_t count, cudaStream_t stream);

void launch_rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t width, float eps,
                     bool plus_one, cudaStream_t stream);
void launch_layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t width,
                       float eps, cudaStream_t stream);
// HF rotate_half RoPE; inv_freq [head_dim / 2] (device, scaling already applied).
void launch_rope(const float* x, const int32_t* positions, const float* inv_freq, float* y, int64_t n,
                 int64_t heads, int64_t head_dim, cudaStream_t stream);

// Causal (optionally windowed, soft-capped) GQA attention of n queries at positions start_pos .. over
// contiguous fp32 K/V rows [capacity, n_kv_heads * head_dim]. Keys are split over `splits` blocks per
// (query, head) (flash-decoding) and merged by a second kernel; `scratch` holds
// attention_scratch_floats(...) floats when splits > 1.
struct AttentionArgs {
  const float* q = nullptr;
  const float* k_cache = nullptr;
  const float* v_cache = nullptr;
  float* out = nullptr;
  float* scratch = nullptr;
  int64_t n = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;  // <= kMaxHeadDim
  int64_t start_pos = 0;
  int64_t window = 0;
  float scale = 1.0f;
  float softcap = 0.0f;
  int splits = 1;
};
constexpr int64_t kMaxHeadDim = 256;
int attention_splits(int64_t n, int64_t start_pos, int64_t n_heads);
int64_t attention_scratch_floats(const AttentionArgs& args);
void launch_attention(const AttentionArgs& args, cudaStream_t stream);

// out[0] = index of the largest logit (the first on ties, as std::max_element).
void launch_argmax(const float* logits, int64_t count, int32_t* out, cudaStream_t stream);

}  // namespace xpusim::cuda
