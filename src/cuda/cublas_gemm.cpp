#include "cuda/cublas_gemm.h"

#include "cuda/cuda_check.h"

namespace xpusim::cuda {

CublasGemm::CublasGemm() {
  XPUSIM_CUBLAS_CHECK(cublasLtCreate(&m_handle));
  XPUSIM_CUDA_CHECK(cudaMalloc(&m_workspace, m_workspace_bytes));
}

CublasGemm::~CublasGemm() {
  for (auto& entry : m_plans) {
    cublasLtMatrixLayoutDestroy(entry.second.a);
    cublasLtMatrixLayoutDestroy(entry.second.b);
    cublasLtMatrixLayoutDestroy(entry.second.c);
    cublasLtMatmulDescDestroy(entry.second.op);
  }
  cudaFree(m_workspace);
  cublasLtDestroy(m_handle);
}

// Column-major view: W (row-major [out, in]) is a column-major [in, out] matrix, used transposed; x is a
// column-major [in, n]; y is a column-major [out, n]. So y = op(W)^T x with m = out, n = n, k = in.
CublasGemm::Plan& CublasGemm::plan_for(int64_t n, int64_t in, int64_t out) {
  const auto key = std::make_tuple(n, in, out);
  if (auto it = m_plans.find(key); it != m_plans.end()) return it->second;
  Plan plan;
  XPUSIM_CUBLAS_CHECK(cublasLtMatmulDescCreate(&plan.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t transpose = CUBLAS_OP_T, none = CUBLAS_OP_N;
  XPUSIM_CUBLAS_CHECK(
      cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof transpose));
  XPUSIM_CUBLAS_CHECK(
      cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSB, &none, sizeof none));
  XPUSIM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.a, CUDA_R_16BF, static_cast<uint64_t>(in),
                                                 static_cast<uint64_t>(out), in));
  XPUSIM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.b, CUDA_R_16BF, static_cast<uint64_t>(in),
                                                 static_cast<uint64_t>(n), in));
  XPUSIM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.c, CUDA_R_32F, static_cast<uint64_t>(out),
                                                 static_cast<uint64_t>(n), out));
  cublasLtMatmulPreference_t preference = nullptr;
  XPUSIM_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&preference));
  XPUSIM_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
      preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &m_workspace_bytes, sizeof m_workspace_bytes));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(m_handle, plan.op, plan.a, plan.b, plan.c,
                                                               plan.c, preference, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(preference);
  if (status != CUBLAS_STATUS_SUCCESS || found == 0) {
    cublasLtMatrixLayoutDestroy(plan.a);
    cublasLtMatrixLayoutDestroy(plan.b);
    cublasLtMatrixLayoutDestroy(plan.c);
    cublasLtMatmulDescDestroy(plan.op);
    fail("cuda: cuBLASLt has no bf16 GEMM algorithm for n={} in={} out={} (status {})", n, in, out,
         static_cast<int>(status));
  }
  plan.algo = result.algo;
  return m_plans.emplace(key, plan).first->second;
}

void CublasGemm::run(const uint16_t* x_bf16, const uint16_t* w_bf16, float* y, int64_t n, int64_t in,
                     int64_t out, cudaStream_t stream) {
  Plan& plan = plan_for(n, in, out);
  const float alpha = 1.0f, beta = 0.0f;
  XPUSIM_CUBLAS_CHECK(cublasLtMatmul(m_handle, plan.op, &alpha, w_bf16, plan.a, x_bf16, plan.b, &beta, y,
                                     plan.c, y, plan.c, &plan.algo, m_workspace, m_workspace_bytes, stream));
}

}  // namespace xpusim::cuda
