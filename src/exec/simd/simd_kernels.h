// SIMD building blocks of the fast host kernels, chosen once per process by CPU features (runtime dispatch):
// AVX-512 (F/BW/VL + FMA + F16C; VNNI + VBMI for the integer dots), AVX2 + FMA, or portable C++. Each level
// is one or more files compiled with target attributes (simd_avx512*.cpp, simd_avx2.cpp, simd_generic.cpp),
// so the binary runs on any x86-64 (and builds elsewhere: only the generic level exists there).
// XPUSIM_SIMD=generic|avx2|avx512 in the environment caps the level (tests compare levels; a level the CPU
// lacks is never chosen).
//
// Owns: the fp32 dot; dots of a quantized weight row decoded in registers ("fused": GGUF q4_0 / q4_1 / q8_0,
// bf16, f16 and the numerics formats of numerics_dot); integer dots of block-format rows with activations
// quantized to int8 blocks (Q8Activations: llama.cpp's scheme); the GEMM micro-kernel over a packed panel.
// Non-goals: threading and tiling (fast_linear.cpp), formats without a dot here (decoded a row at a time by
// numerics, then dot_f32 / the panel GEMM).
//
// Summation order: within one level, dot_f32 of a decoded row is the same for every weight source (F32 or
// any format decoded to fp32), so packed and dequantized-at-load weights give identical results. Fused dots
// (dot_q4_0 ..., numerics_dot) differ from decode + dot_f32 by rounding only, or not at all where exact_dots
// (tests/exec/fast_linear_test.cpp). Integer dots are NOT exact: the activations are rounded to int8 per
// 32-block (|x - x'| <= amax of the block / 254), so |integer dot - exact dot| <= sum_k |w_k| * amax(block of
// k) / 254 plus fp32 rounding of the per-block sums (tests/exec/q8_dot_test.cpp checks that bound at every
// level, and every level against the generic definition).
//
// HOWTO add a level: a file simd_<level>.cpp defining `const SimdKernels* simd_kernels_<level>()` (nullptr
// when the CPU lacks it), its entry in simd_dispatch.cpp. A fused type: a member here (or a case of the
// level's numerics_dot), filled by every level (nullptr = not fused; callers fall back to decode + dot_f32).
// An integer dot: a Q8Kind, its case in q8_target(), a function per level (generic first).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "numerics/format_table.h"

namespace xpusim::exec::simd {

// Rows of one packed GEMM panel: weights are stored [k][kPanelRows] (row index fastest), so one k step is a
// few full vectors of weights times a broadcast activation.
constexpr int64_t kPanelRows = 64;
// Independent FMA chains of fma_burst: enough to cover FMA latency x pipes on current cores.
constexpr int kFmaBurstChains = 12;

// Dot of one quantized row (`blocks` blocks of the format, whole blocks only) with x[elements]. tensor_amax:
// the per-tensor scale of numerics formats that have one (ignored by the others).
using FusedDot = float (*)(const uint8_t* row, const float* x, int64_t blocks, float tensor_amax);

// Activations quantized for the integer dots, one token: blocks of kQ8Block values, q = round(x / d) with
// d = amax(block) / 127 (so |q| <= 127), scale[b] = d, sum[b] = d * sum(q of block b) (the "-8" / min terms
// of offset formats). The order of q follows the weight format's nibble layout (Q8Order, q8_position), so
// the kernels load weight nibbles without shuffling them into element order.
constexpr int64_t kQ8Block = 32;
enum class Q8Order : uint8_t {
  kElements,     // element order (q8_0)
  kNibbleQuads,  // ggml 4-bit (q4_0, q4_1): per 4 blocks, the low halves (elements 0..15) of the 4 blocks,
                 // then their high halves; a last partial group of blocks in element order
  kEvenThenOddQuads,  // formats with element 2i in the low nibble of byte i (mxfp4, nvfp4, ue-* 4-bit): per 4
                      // blocks the even elements of the 4 blocks, then their odd ones; each block of a last
                      // partial group: its even elements, then its odd ones
};
struct Q8Activations {
  std::vector<int8_t> q;
  std::vector<float> scale, sum;
  int64_t blocks = 0;
};
// Where element j (< kQ8Block) of block b of a `blocks`-block vector sits in Q8Activations::q.
int64_t q8_position(int64_t b, int64_t j, int64_t blocks, Q8Order order);
// n must be a multiple of kQ8Block. Portable: the definition; a level's SimdKernels::quantize_q8 gives the
// same bytes (tests/exec/q8_dot_test.cpp). Returns false (out unspecified) if x holds NaN or Inf: those must
// reach the output, so the caller takes the fp32 path.
bool quantize_q8(const float* x, int64_t n, Q8Order order, Q8Activations& out);

// Weight kinds with integer dots.
// kUe4bit (ue-int4 / ue-fp4 / ue-if4) is the one kind whose integer dot also skips a weight rounding: the
// format decodes to to_bf16(level x |scale|), the dot uses level x |scale| (<= 2^-9 relative per weight).
// K-quants (kQ4_K, kQ5_K, kQ6_K: 256-value super-blocks = 8 activation blocks in element order) take the
// same 32-blocks: a 32-element sub-block's (Q4_K / Q5_K) or two 16-element sub-blocks' (Q6_K) integer sums
// times weight scale x activation scale in fp32, the min / offset terms from Q8Activations::sum (Q4_K, Q5_K)
// or in int32 (Q6_K's -32).
// kQ5_0 / kQ5_1 (GGUF 5-bit, element order): codes 0..31 with the fifth bit from the block's 32-bit qh.
// kIq4Nl / kIq4Xs (element order): nibbles index ggml's non-uniform int8 grid (kIq4NlValues); IQ4_XS has a
// 6-bit scale per 32 values.
// kQ2_K / kQ3_K (element order, 256-value super-blocks): 2-bit (Q2_K: code - min) and 3-bit (Q3_K: code in
// -4..3) values with a scale per 16 values: per activation block the two 16-value integer sums times their
// integer scales in int32, then d d_x in fp32; Q2_K's mins take the 16-value sums of q (in int32).
enum class Q8Kind : uint8_t {
  kQ4_0,
  kQ4_1,
  kQ8_0,
  kMxfp4,
  kNvfp4,
  kUe4bit,
  kQ4_K,
  kQ5_K,
  kQ6_K,
  kQ5_0,
  kQ5_1,
  kIq4Nl,
  kIq4Xs,
  kQ2_K,
  kQ3_K,
  kNone
};
// Dot of one weight row (x.blocks 32-value blocks of it) with x. tensor_factor: the per-tensor factor of
// formats with a tensor scale (Q8Target), else 1.
using Q8Dot = float (*)(const uint8_t* row, const Q8Activations& x, float tensor_factor);
// out[i] = the Q8Dot of row + i * stride, i < rows (one indirect call per range of rows, not per row); each
// out[i] equals the one-row dot bit for bit.
using Q8DotRows = void (*)(const uint8_t* row, int64_t stride, int64_t rows, const Q8Activations& x,
                           float tensor_factor, float* out);

// out[t * out_stride] = the Q8Dot of `row` with *x[t], t < tokens (1..kQ8Tokens), each bit for bit the
// one-row dot: the prefill GEMM's inner kernel (the row's codes are unpacked once for all the tokens).
constexpr int64_t kQ8Tokens = 4;
using Q8DotTokens = void (*)(const uint8_t* row, const Q8Activations* const* x, int64_t tokens,
                             float tensor_factor, float* out, int64_t out_stride);

struct SimdKernels {
  std::string_view name;  // "avx512", "avx2", "generic"
  int vector_floats;      // fp32 lanes of one register
  // dot_q4_0 / dot_q8_0 / dot_bf16 / dot_f16 give exactly decode + dot_f32 (so they may serve
  // numerics-packed q4_0 / q8_0 / bf16 / fp16 weights, which must match their fp32 dequantization bit for
  // bit).
  bool exact_dots;
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  FusedDot dot_q4_0, dot_q4_1, dot_q8_0;
  // GGUF K-quant rows (`blocks` = 256-value super-blocks) with fp32 activations (the LM head, exact mode);
  // nullptr: decode a row, then dot_f32. Exact (decode + dot_f32 bit for bit) where exact_dots.
  FusedDot dot_q4_k, dot_q5_k, dot_q6_k;
  // The fused dot of numerics-packed rows of `format`, or nullptr; exact like the q dots where exact_dots.
  FusedDot (*numerics_dot)(numerics::Format format);
  // Integer dots by Q8Kind (nullptr: none at this level), and the activation quantizer they take (equal to
  // quantize_q8 byte for byte).
  Q8Dot q8_dots[static_cast<int>(Q8Kind::kNone)];
  Q8DotRows q8_dot_rows[static_cast<int>(Q8Kind::kNone)];  // nullptr: call the one-row dot per row
  // nullptr: no integer prefill GEMM for the kind at this level (the fp32 panel GEMM runs instead).
  Q8DotTokens q8_dot_tokens[static_cast<int>(Q8Kind::kNone)];
  bool (*quantize_q8)(const float* x, int64_t n, Q8Order order, Q8Activations& out);
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

// The integer-dot kind of a stored dtype / numerics format and its activation order; kNone if it has none.
struct Q8Target {
  Q8Kind kind = Q8Kind::kNone;
  Q8Order order = Q8Order::kElements;
  float tensor_divisor = 1.0f;  // tensor_factor = tensor_amax / tensor_divisor (nvfp4 family)
  int64_t row_multiple = 32;    // the integer dot needs rows of a multiple of this many values
};
Q8Target q8_target(DType dtype);
Q8Target q8_target(numerics::Format format);
// The level's integer dot for `kind`, or nullptr.
Q8Dot q8_dot(const SimdKernels& kernels, Q8Kind kind);
// The level's multi-row integer dot for `kind`, or nullptr (none at this level: use q8_dot per row).
Q8DotRows q8_dot_rows(const SimdKernels& kernels, Q8Kind kind);
// The level's multi-token integer dot for `kind`, or nullptr.
Q8DotTokens q8_dot_tokens(const SimdKernels& kernels, Q8Kind kind);

// Per-level tables (simd_<level>.cpp). nullptr when the CPU or the build lacks the level.
const SimdKernels* simd_kernels_avx512();
const SimdKernels* simd_kernels_avx2();
const SimdKernels* simd_kernels_generic();

}  // namespace xpusim::exec::simd
