// SIMD building blocks of the fast host kernels, chosen once per process by CPU features (runtime dispatch):
// AVX-512 (F/BW/VL + FMA + F16C), AVX2 + FMA, or portable C++. Each level is one file compiled with target
// attributes (simd_avx512.cpp, simd_avx2.cpp, simd_generic.cpp), so the binary runs on any x86-64 (and builds
// elsewhere: only the generic level exists there). XPUSIM_SIMD=generic|avx2|avx512 in the environment caps
// the level (tests compare levels; a level the CPU lacks is never chosen).
// Owns: the fp32 dot, dots of a quantized weight row decoded in registers (q4_0, q4_1, q8_0, bf16, f16), and
// the GEMM micro-kernel over a packed weight panel. Non-goals: threading and tiling (fast_linear.cpp), other
// block formats (they are decoded a row at a time by numerics and use dot_f32 / the panel GEMM).
// Summation order: within one level, dot_f32 of a decoded row is the same for every weight source (F32 or any
// format decoded to fp32), so packed and dequantized-at-load weights give identical results. Fused dots
// (dot_q4_0 ...) differ from decode + dot_f32 by rounding only, or not at all where exact_q_dots
// (tests/exec/fast_linear_test.cpp).
// HOWTO add a level: a file simd_<level>.cpp defining `const SimdKernels* simd_kernels_<level>()` (nullptr
// when the CPU lacks it), its entry in simd_dispatch.cpp; HOWTO add a fused type: a member here, filled by
// every level (nullptr = not fused; callers fall back to decode + dot_f32).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/dtype.h"
#include "numerics/format_table.h"

namespace xpusim::exec::simd {

// Rows of one packed GEMM panel: weights are stored [k][kPanelRows] (row index fastest), so one k step is a
// few full vectors of weights times a broadcast activation.
constexpr int64_t kPanelRows = 64;
// Independent FMA chains of fma_burst: enough to cover FMA latency x pipes on current cores.
constexpr int kFmaBurstChains = 12;

// Dot of one quantized row (`blocks` blocks of 32 elements, ggml layout) with x[32 * blocks].
using FusedDot = float (*)(const uint8_t* row, const float* x, int64_t blocks);

struct SimdKernels {
  std::string_view name;  // "avx512", "avx2", "generic"
  int vector_floats;      // fp32 lanes of one register
  // dot_q4_0 / dot_q8_0 / dot_bf16 / dot_f16 give exactly decode + dot_f32 (so they may serve
  // numerics-packed q4_0 / q8_0 / bf16 / fp16 weights, which must match their fp32 dequantization bit for
  // bit).
  bool exact_dots;
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  FusedDot dot_q4_0, dot_q4_1, dot_q8_0;
  // Numerics 4-bit formats (element 2i in the low nibble of byte i), exact like the q dots; `blocks` counts
  // the format's blocks: ue-int4 / ue-fp4 / ue-if4 (64 values, bf16 scale) and mxfp4 (32 values, E8M0).
  FusedDot dot_ue_4bit, dot_mxfp4;
  // bf16 / f16 rows: `n` elements (any n).
  float (*dot_bf16)(const uint16_t* row, const float* x, int64_t n);
  float (*dot_f16)(const uint16_t* row, const float* x, int64_t n);
  // Runs iterations x kFmaBurstChains independent vector FMAs (vector_floats lanes each) and returns a value
  // that depends on all of them: the peak-FMA probe of `xpusim bench`.
  float (*fma_burst)(int64_t iterations);
  // dst[i] = bf16 src[i] as fp32 (exact), i < n: GEMM panel decode of bf16 rows.
  void (*widen_bf16)(const uint16_t* src, float* dst, int64_t n);
  // dst[c * dst_stride + r] = src[r][c] for r, c < 16: one 16 x 16 tile of the GEMM panel packing.
  void (*transpose16)(const float* const* src, float* dst, int64_t dst_stride);
  // One query against keys [0, count) (rows of `stride` floats at k and v, head_dim d), no soft-cap: folds
  // scores scale * (q . k) into the online-softmax state (*max, *sum, acc[d]). Returns false (touching
  // nothing) for a head_dim the level has no kernel for; nullptr: no such kernel at this level.
  bool (*attend_keys)(const float* q, const float* k, const float* v, int64_t stride, int64_t count,
                      int64_t d, float scale, float* max, float* sum, float* acc);
  // y[i] += a * x[i] for i < n (attention's probability-weighted V sum).
  void (*axpy)(float a, const float* x, float* y, int64_t n);
  // y[t * ldy + r] (+)= sum_k x[t * ldx + k] * panel[k * kPanelRows + r] for t < tokens, r < rows (<=
  // kPanelRows), k < depth. accumulate = false overwrites y.
  void (*gemm_panel)(const float* x, int64_t ldx, int64_t tokens, const float* panel, int64_t depth, float* y,
                     int64_t ldy, int64_t rows, bool accumulate);
};

// The best level this CPU supports (capped by XPUSIM_SIMD), picked on first use.
const SimdKernels& simd_kernels();
// A specific level, or nullptr if this CPU (or build) lacks it. Names: "avx512", "avx2", "generic".
const SimdKernels* simd_kernels_named(std::string_view name);

// The fused dot for a GGUF storage type, or nullptr.
FusedDot fused_dot(const SimdKernels& kernels, DType dtype);
// The fused dot for numerics-packed rows of `format` (q4_0 / q8_0 share ggml's layout), or nullptr unless the
// level's dots are exact. (bf16 / fp16 rows: use dot_bf16 / dot_f16 when exact_dots.)
FusedDot fused_dot_numerics(const SimdKernels& kernels, numerics::Format format);

// Per-level tables (simd_<level>.cpp). nullptr when the CPU or the build lacks the level.
const SimdKernels* simd_kernels_avx512();
const SimdKernels* simd_kernels_avx2();
const SimdKernels* simd_kernels_generic();

}  // namespace xpusim::exec::simd
