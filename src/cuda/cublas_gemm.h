// The prefill GEMM: y[n, out] = x[n, in] W^T for bf16 weights through cuBLASLt (bf16 inputs, fp32
// accumulate and output). Activations are rounded to bf16 first (the one numerics difference from the host
// target, which keeps them fp32; docs/cuda.md). Plans (layouts + heuristic algorithm) are cached per shape.
// Non-goals: packed 4-bit weights (the GEMV handles them, 8 tokens per pass), fp8 GEMMs.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <tuple>

namespace xpusim::cuda {

class CublasGemm {
 public:
  CublasGemm();
  ~CublasGemm();
  CublasGemm(const CublasGemm&) = delete;
  CublasGemm& operator=(const CublasGemm&) = delete;

  // x_bf16 [n, in], w_bf16 [out, in] (row-major), y [n, out] fp32. Enqueued on `stream`.
  void run(const uint16_t* x_bf16, const uint16_t* w_bf16, float* y, int64_t n, int64_t in, int64_t out,
           cudaStream_t stream);

 private:
  struct Plan {
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
    cublasLtMatmulAlgo_t algo{};
  };
  Plan& plan_for(int64_t n, int64_t in, int64_t out);

  cublasLtHandle_t m_handle = nullptr;
  void* m_workspace = nullptr;
  size_t m_workspace_bytes = 32u << 20;
  std::map<std::tuple<int64_t, int64_t, int64_t>, Plan> m_plans;
};

}  // namespace xpusim::cuda
