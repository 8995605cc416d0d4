// The fast LINEAR kernel: y[n, out] = x[n, in] W^T (+ b) with W in any stored dtype, multi-threaded and SIMD
// (simd/simd_kernels.h). Two shapes:
//   * few tokens (decode, n < kGemmMinTokens): GEMV over output rows split across threads; GGUF q4_0 / q4_1 /
//     q8_0, bf16 / f16, and numerics q4_0 / q8_0 / bf16 / fp16 / ue-int4 / ue-fp4 / ue-if4 / mxfp4 rows are
//     decoded in registers inside the dot (fused), fp32 rows are read in place, every other dtype and format
//     is decoded a row at a time into an L1 buffer, then dotted.
//   * many tokens (prefill): panels of kPanelRows weight rows are decoded once, packed k-major into a
//     thread-local buffer (16 x 16 SIMD transposes) and multiplied with all tokens by the register-blocked
//     micro-kernel, depth-blocked so the packed slice stays in L2. Threads claim panels from a shared
//     counter.
// Tolerance against the reference (run_linear_reference): fp32 reassociation only (tests: |diff| <= 1e-5 *
// sum |x_k w_k| + 1e-6). At levels with exact_dots, fused rows equal decode + dot_f32 bit for bit, so packed
// numerics weights and the same values dequantized to fp32 give identical results on both paths.
// Non-goals: int8 activation quantization (VNNI; would change the numerics), AMX tiles.
#pragma once

#include <cstdint>

#include "exec/simd/simd_kernels.h"
#include "exec/thread_pool.h"
#include "model/weights.h"

namespace xpusim::exec {

// From this many tokens on, the GEMM path is used.
constexpr int64_t kGemmMinTokens = 4;

// `kernels`: the SIMD level (simd::simd_kernels() in the executor; tests pass each level).
void linear_fast(const model::TensorView& weight, const float* bias, const float* x, int64_t n, float* y,
                 ThreadPool& pool, const simd::SimdKernels& kernels);

}  // namespace xpusim::exec
