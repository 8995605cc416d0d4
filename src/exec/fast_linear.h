// The fast LINEAR kernel: y[n, out] = x[n, in] W^T (+ b) with W in any stored dtype, multi-threaded and SIMD
// (simd/simd_kernels.h). Two shapes:
//   * few tokens (decode, n < kGemmMinTokens): GEMV over output rows split across threads. Block formats
//     with integer dots (GGUF q4_0 / q4_1 / q8_0, numerics q4_0 / q8_0 / mxfp4 / nvfp4) by default round the
//     activations to int8 per 32-block once per call and dot with VNNI (Activations::kInt8Blocks); other
//     rows are decoded in registers inside an fp32 dot (fused: bf16 / f16 and, at AVX-512, every numerics
//     format but bf19 / e8m0), fp32 rows are read in place, the rest is decoded a row at a time into an L1
//     buffer, then dotted.
//   * many tokens (prefill): panels of kPanelRows weight rows are decoded once, packed k-major into a
//     thread-local buffer (16 x 16 SIMD transposes) and multiplied with all tokens by the register-blocked
//     micro-kernel, depth-blocked so the packed slice stays in L2. Threads claim panels from a shared
//     counter. Always fp32 activations.
// Tolerance against the reference (run_linear_reference): with fp32 activations, reassociation only (tests:
// |diff| <= 1e-5 * sum |x_k w_k| + 1e-6); at levels with exact_dots fused rows equal decode + dot_f32 bit for
// bit, so packed numerics weights and the same values dequantized to fp32 give identical results. With int8
// activation blocks add sum_k |w_k| * amax(x block of k) / 254 (the rounding of x; typically ~0.5% relative
// per output). XPUSIM_EXACT_LINEAR=1 keeps fp32 activations everywhere; the executor keeps them for the LM
// head always (run_linear).
// Non-goals: AMX tiles, int8 activations in the GEMM (prefill is compute-bound in fp32 already).
#pragma once

#include <cstdint>

#include "exec/simd/simd_kernels.h"
#include "exec/thread_pool.h"
#include "model/weights.h"

namespace xpusim::exec {

// From this many tokens on, the GEMM path is used.
constexpr int64_t kGemmMinTokens = 4;

// While one is alive on a thread, LINEAR calls made from that thread take the decode (GEMV) path for any
// token count, so each token's output is bit for bit what a one-token step computes (the GEMV treats tokens
// independently; the GEMMs round differently). Speculative decoding's verify step needs this: its k + 1
// tokens must choose exactly what plain decoding would. Scopes nest.
class DecodeNumericsScope {
 public:
  DecodeNumericsScope();
  ~DecodeNumericsScope();
  DecodeNumericsScope(const DecodeNumericsScope&) = delete;
  DecodeNumericsScope& operator=(const DecodeNumericsScope&) = delete;
};

// How the GEMV treats activations for block formats with integer dots (q4_0, q4_1, q8_0, mxfp4, nvfp4):
// kInt8Blocks rounds them to int8 per 32-block first (llama.cpp's scheme, several times less arithmetic per
// weight; error bound in simd_kernels.h), kFp32 keeps them exact (fused fp32 dots).
enum class Activations : uint8_t { kInt8Blocks, kFp32 };
// kInt8Blocks, or kFp32 while the environment has XPUSIM_EXACT_LINEAR=1 (read at each call).
Activations default_activations();

// The kernel the GEMV (decode) uses for `weight` at `kernels` with `activations` (for load-time reports:
// `xpusim bench --verbose`). kDecodedRows is the slow fallback: the row decoded to fp32 one at a time.
enum class LinearPath : uint8_t { kIntegerDot, kFusedDot, kFp32InPlace, kHalfDot, kDecodedRows };
LinearPath decode_path(const model::TensorView& weight, const simd::SimdKernels& kernels,
                       Activations activations);
const char* linear_path_name(LinearPath path);
// Whether the executor's LINEAR keeps fp32 activations for this weight (the LM head: run_linear).
bool is_lm_head(const model::TensorView& weight);

// `kernels`: the SIMD level (simd::simd_kernels() in the executor; tests pass each level).
void linear_fast(const model::TensorView& weight, const float* bias, const float* x, int64_t n, float* y,
                 ThreadPool& pool, const simd::SimdKernels& kernels,
                 Activations activations = default_activations());

}  // namespace xpusim::exec
