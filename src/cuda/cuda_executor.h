// CudaExecutor: runs a model on an NVIDIA GPU from the same step graph as the host Executor
// (exec/executor.h), with the same API (forward(tokens) -> logits, position(), reset()). Weights are uploaded
// once (device_weights.h); each forward() builds the step graph on the host, then enqueues one kernel per op
// on one stream (device_kernels.h; LINEAR with bf16 weights and >= 16 tokens goes to cuBLASLt, cublas_gemm.h)
// and synchronises once, when the logits (or, for forward_greedy, one argmax id) are copied back: no host
// round trip per layer. Activations come from a recycled device buffer pool; the KV cache is one contiguous
// fp32 [capacity, kv_heads * head_dim] array per layer and K/V, grown by doubling.
// Non-goals (not implemented yet, docs/cuda.md): MoE layers (fail with a message), a paged KV cache, CUDA
// graph capture of the decode step, batched decode of several sequences.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cuda/cublas_gemm.h"
#include "cuda/device_weights.h"
#include "graph/graph.h"
#include "model/config.h"
#include "model/weights.h"

namespace xpusim::cuda {

struct CudaOptions {
  int64_t initial_context = 0;  // KV rows to allocate up front (grows on demand anyway)
  bool prefill_gemm = true;     // cuBLASLt (bf16 activations) for bf16 weights at >= kGemmMinTokens tokens
};
constexpr int64_t kGemmMinTokens = 16;

class CudaExecutor {
 public:
  // Uploads every weight the config's graph binds (xpusim::Error if one is missing or misshapen, or when
  // no CUDA device is usable). `weights` must outlive the executor.
  CudaExecutor(const model::ModelConfig& config, const model::Weights& weights, CudaOptions options = {});
  ~CudaExecutor();
  CudaExecutor(const CudaExecutor&) = delete;
  CudaExecutor& operator=(const CudaExecutor&) = delete;

  // As exec::Executor::forward: fp32 logits, [n, vocab] when all_logits, else the last token's [vocab].
  std::vector<float> forward(std::span<const int32_t> tokens, bool all_logits = false);
  // Runs the step and returns the argmax of the last token's logits, computed on the GPU (4 bytes copied).
  int32_t forward_greedy(std::span<const int32_t> tokens);

  int64_t position() const { return m_position; }
  void reset() { m_position = 0; }
  const model::ModelConfig& config() const { return m_config; }
  size_t weight_bytes() const { return m_weights_device.device_bytes(); }
  size_t kv_bytes() const;
  cudaStream_t stream() const { return m_stream; }

 private:
  struct PoolBuffer {
    void* ptr = nullptr;
    size_t bytes = 0;
    bool busy = false;
  };
  // Enqueues the step; returns the device logits ([rows, vocab]) and their row count.
  const float* enqueue_step(std::span<const int32_t> tokens, bool all_logits, int64_t* logits_rows);
  void run_op(const graph::Graph& g, const graph::Op& op, std::vector<void*>& data);
  void* take(size_t bytes);
  void release(void* ptr);
  void reserve_kv(int64_t capacity);
  const float* inv_freq(const graph::OpAttrs& attrs);

  model::ModelConfig m_config;
  const model::Weights& m_weights;
  CudaOptions m_options;
  cudaStream_t m_stream = nullptr;
  DeviceWeights m_weights_device;
  std::unique_ptr<CublasGemm> m_gemm;
  std::vector<PoolBuffer> m_pool;
  int64_t m_kv_capacity = 0;
  int64_t m_kv_width = 0;
  std::vector<float*> m_keys, m_values;  // per layer
  int32_t* m_ids = nullptr;              // device tokens, positions, argmax result
  int64_t m_ids_capacity = 0;
  std::map<std::string, float*> m_inv_freq;  // RoPE tables by configuration
  int64_t m_position = 0;
};

}  // namespace xpusim::cuda
