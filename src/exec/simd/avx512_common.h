// Shared pieces of the AVX-512 level (simd_avx512*.cpp), for those files only: the target attribute, the
// exact dot loop every fp32 row kind uses (its summation order is what makes fused dots bit-identical to
// decode + dot_f32), loaders that widen stored weights to fp32 in registers, and nibble helpers.
// Non-goals: anything a caller outside simd/ uses (simd_kernels.h is the interface).
// HOWTO add a row kind with exact numerics: a loader struct (load / load_masked of 16 weights at element i)
// and dot_exact<Loader>.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// GCC 12's AVX-512 headers self-initialize "undefined" vectors (__m512 __Y = __Y), which -Wuninitialized
// flags once inlined into target-attribute functions: a known false positive of the headers.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "exec/simd/simd_kernels.h"
#include "numerics/format_table.h"

#define XPUSIM_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
// The integer dots also use vpermb (VBMI): every CPU with AVX-512 VNNI but Cascade Lake has it.
#define XPUSIM_AVX512_VNNI \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi,avx2,fma,f16c")))

namespace xpusim::exec::simd::avx512 {

XPUSIM_AVX512 inline float half_at(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, sizeof bits);
  return _cvtsh_ss(bits);
}

XPUSIM_AVX512 inline __mmask16 tail_mask(int64_t lanes) {
  return static_cast<__mmask16>(lanes >= 16 ? 0xFFFF : (1u << lanes) - 1u);
}

// The dot of every fp32 row kind at this level: four accumulators over 64-element chunks, a masked tail in
// 16-lane steps into acc0, one fixed reduction. Loader::load / load_masked give 16 weights from element i as
// fp32; a weight decoded exactly gives exactly decode + dot_f32.
//
// Software prefetch kStreamPrefetchBytes ahead of a weight stream: the hardware prefetchers of this machine
// (Zen 5, virtualised) leave DRAM bandwidth unused on one sequential stream per core. Measured on
// llama-3.2-1b-sized GEMVs, 2 threads, interleaved A/B: bf16 35 -> 43 GB/s, q4_0 50 -> 57, mxfp4 48 -> 55,
// ue-if4 46 -> 58 (nvfp4, arithmetic-bound, unchanged); 8 KiB ahead beat 1 and 4 KiB.
constexpr int64_t kStreamPrefetchBytes = 8192;
constexpr int64_t kStreamMinBytes = 4096;
// Prefetches the lines kStreamPrefetchBytes past [p, p + lines * 64).
XPUSIM_AVX512 inline void prefetch_stream(const char* p, int64_t lines) {
  for (int64_t line = 0; line < lines; ++line)
    _mm_prefetch(p + kStreamPrefetchBytes + 64 * line, _MM_HINT_T0);
}

template <typename Loader>
XPUSIM_AVX512 inline float dot_exact(const float* x, const void* w, int64_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(),
         acc3 = _mm512_setzero_ps();
  // Long rows of plain element loaders (kBytesPerElement) are streamed with software prefetch; short vectors
  // (attention heads) are not, so they pay nothing for it.
  constexpr int64_t kElementBytes = [] {
    if constexpr (requires { Loader::kBytesPerElement; }) return Loader::kBytesPerElement;
    return int64_t{0};
  }();
  const bool stream = kElementBytes > 0 && n * kElementBytes >= kStreamMinBytes;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    if (stream) prefetch_stream(static_cast<const char*>(w) + kElementBytes * i, kElementBytes);
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), Loader::load(w, i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), Loader::load(w, i + 16), acc1);
    acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), Loader::load(w, i + 32), acc2);
    acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), Loader::load(w, i + 48), acc3);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), Loader::load_masked(w, i, m), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

// Rows of 32-element blocks in the same order as dot_exact: two blocks (one 64-element chunk) per step, a
// last odd block into acc0. kDecode gives a block's elements 0..15 and 16..31 as fp32.
template <int kBlockBytes, void (*kDecode)(const uint8_t*, __m512&, __m512&)>
XPUSIM_AVX512 inline float dot_blocks_exact(const uint8_t* row, const float* x, int64_t blocks) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(),
         acc3 = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= blocks; b += 2, row += 2 * kBlockBytes, x += 64) {
    __m512 w0, w1, w2, w3;
    kDecode(row, w0, w1);
    kDecode(row + kBlockBytes, w2, w3);
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x), w0, acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 16), w1, acc1);
    acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 32), w2, acc2);
    acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 48), w3, acc3);
  }
  if (b < blocks) {
    __m512 w0, w1;
    kDecode(row, w0, w1);
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x), w0, acc0);
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 16), w1, acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

// Numerics 4-bit blocks: element 2i is the low nibble of byte i. 16 bytes widen to 16 int32; the low and
// high nibbles look up the block's 16-value table (even and odd elements), then two two-source permutes
// interleave them back into elements 0..15 and 16..31.
XPUSIM_AVX512 inline void interleaved_nibbles(const uint8_t* bytes, __m512 table, __m512& first,
                                              __m512& second) {
  const __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes)));
  const __m512 even = _mm512_permutexvar_ps(q, table);
  const __m512 odd = _mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), table);
  const __m512i low_half = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i high_half = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  first = _mm512_permutex2var_ps(even, low_half, odd);
  second = _mm512_permutex2var_ps(even, high_half, odd);
}

// 16 interleaved nibbles (8 bytes, element 2i in the low nibble of byte i) as table indices in element
// order: each byte widened into two lanes, the odd lane shifted by 4 (vpermps reads only the low 4 bits of
// an index). `lanes` < 16 reads only the bytes those elements need.
XPUSIM_AVX512 inline __m512i nibble_indices16(const uint8_t* bytes, int64_t lanes) {
  const __m128i b = lanes >= 16
                        ? _mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes))
                        : _mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << ((lanes + 1) / 2)) - 1u), bytes);
  const __m512i wide = _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(b, b));
  return _mm512_srlv_epi32(wide, _mm512_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4));
}

// E4M3FN codes (int32 lanes, 0..255) as fp32, as numerics' decode table: normals by exponent arithmetic,
// subnormals (exponent 0) as m * 2^-9, 0x7F / 0xFF NaN.
XPUSIM_AVX512 inline __m512 e4m3_to_f32(__m512i code) {
  const __m512i magnitude = _mm512_and_si512(code, _mm512_set1_epi32(0x7F));
  const __m512i normal = _mm512_add_epi32(_mm512_slli_epi32(magnitude, 20), _mm512_set1_epi32(120 << 23));
  const __m512 subnormal = _mm512_mul_ps(_mm512_cvtepi32_ps(magnitude), _mm512_set1_ps(0x1p-9f));
  __m512 value = _mm512_mask_mov_ps(_mm512_castsi512_ps(normal),
                                    _mm512_cmplt_epi32_mask(magnitude, _mm512_set1_epi32(8)), subnormal);
  value = _mm512_mask_mov_ps(value, _mm512_cmpeq_epi32_mask(magnitude, _mm512_set1_epi32(0x7F)),
                             _mm512_set1_ps(NAN));
  const __m512i sign = _mm512_slli_epi32(_mm512_and_si512(code, _mm512_set1_epi32(0x80)), 24);
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(value), sign));
}

// 2^(e - 127) for an E8M0 code (0xFF: NaN), as numerics::decode_e8m0.
inline float e8m0_value(uint8_t code) {
  const uint32_t bits = code == 0xFF ? 0x7FC00000u
                        : code == 0  ? 0x00400000u
                                     : static_cast<uint32_t>(code) << 23;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// f32 -> bf16 -> f32 with round-to-nearest-even (numerics' to_bf16 for finite values and infinities).
XPUSIM_AVX512 inline __m512 round_to_bf16(__m512 v) {
  const __m512i bits = _mm512_castps_si512(v);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(0x7FFF)), odd);
  return _mm512_castsi512_ps(_mm512_and_si512(rounded, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

// simd_avx512_numerics.cpp: the exact fused dot of numerics-packed rows of `format`, or nullptr.
FusedDot numerics_dot(numerics::Format format);
// simd_avx512_q8.cpp: integer dots (need AVX-512 VNNI + VBMI), by Q8Kind.
XPUSIM_AVX512_VNNI bool quantize_q8(const float* x, int64_t n, Q8Order order, Q8Activations& out);
XPUSIM_AVX512_VNNI float q8_dot_q4_0(const uint8_t* row, const Q8Activations& x, float tensor_factor);
XPUSIM_AVX512_VNNI void q8_dot_rows_q4_0(const uint8_t* row, int64_t stride, int64_t rows,
                                         const Q8Activations& x, float tensor_factor, float* out);
XPUSIM_AVX512_VNNI float q8_dot_q4_1(const uint8_t* row, const Q8Activations& x, float tensor_factor);
XPUSIM_AVX512_VNNI void q8_dot_rows_q4_1(const uint8_t* row, int64_t stride, int64_t rows,
                                         const Q8Activations& x, float tensor_factor, float* out);
XPUSIM_AVX512_VNNI float q8_dot_q8_0(const uint8_t* row, const Q8Activations& x, float tensor_factor);
XPUSIM_AVX512_VNNI void q8_dot_rows_q8_0(const uint8_t* row, int64_t stride, int64_t rows,
                                         const Q8Activations& x, float tensor_factor, float* out);
XPUSIM_AVX512_VNNI float q8_dot_mxfp4(const uint8_t* row, const Q8Activations& x, float tensor_factor);
XPUSIM_AVX512_VNNI void q8_dot_rows_mxfp4(const uint8_t* row, int64_t stride, int64_t rows,
                                          const Q8Activations& x, float tensor_factor, float* out);
XPUSIM_AVX512_VNNI float q8_dot_nvfp4(const uint8_t* row, const Q8Activations& x, float tensor_factor);
XPUSIM_AVX512_VNNI void q8_dot_rows_nvfp4(const uint8_t* row, int64_t stride, int64_t rows,
                                          const Q8Activations& x, float tensor_factor, float* out);
XPUSIM_AVX512_VNNI float q8_dot_ue_4bit(const uint8_t* row, const Q8Activations& x, float tensor_factor);
XPUSIM_AVX512_VNNI void q8_dot_rows_ue_4bit(const uint8_t* row, int64_t stride, int64_t rows,
                                            const Q8Activations& x, float tensor_factor, float* out);
// simd_avx512_kquants.cpp: GGUF K-quant and Q5_0 / Q5_1 integer dots (VNNI), exact fused fp32 K-quant dots.
// Q4_K (kFifthBit = false) / Q5_K; Q5_0 (kQ5_1 = false) / Q5_1.
template <bool kFifthBit>
XPUSIM_AVX512_VNNI float q8_dot_k_min(const uint8_t* row, const Q8Activations& x, float tensor_factor);
XPUSIM_AVX512_VNNI float q8_dot_q6_k(const uint8_t* row, const Q8Activations& x, float tensor_factor);
template <bool kQ5_1>
XPUSIM_AVX512_VNNI float q8_dot_q5(const uint8_t* row, const Q8Activations& x, float tensor_factor);
XPUSIM_AVX512_VNNI float q8_dot_q2_k(const uint8_t* row, const Q8Activations& x, float tensor_factor);
XPUSIM_AVX512_VNNI float q8_dot_q3_k(const uint8_t* row, const Q8Activations& x, float tensor_factor);
// Multi-token Q2_K / Q3_K kernels (Q8DotTokens), shared with the AVX2 level (kquant_kernels.inc).
#define XPUSIM_Q8_DOT_TOKENS(name)                                                                \
  XPUSIM_AVX512_VNNI void name(const uint8_t* row, const Q8Activations* const* x, int64_t tokens, \
                               float tensor_factor, float* out, int64_t out_stride)
XPUSIM_Q8_DOT_TOKENS(q8_dot_tokens_q2_k);
XPUSIM_Q8_DOT_TOKENS(q8_dot_tokens_q3_k);
#undef XPUSIM_Q8_DOT_TOKENS
XPUSIM_AVX512_VNNI float q8_dot_iq4_nl(const uint8_t* row, const Q8Activations& x, float tensor_factor);
XPUSIM_AVX512_VNNI float q8_dot_iq4_xs(const uint8_t* row, const Q8Activations& x, float tensor_factor);
XPUSIM_AVX512 float dot_q4_k(const uint8_t* row, const float* x, int64_t blocks, float tensor_amax);
XPUSIM_AVX512 float dot_q5_k(const uint8_t* row, const float* x, int64_t blocks, float tensor_amax);
XPUSIM_AVX512 float dot_q6_k(const uint8_t* row, const float* x, int64_t blocks, float tensor_amax);

}  // namespace xpusim::exec::simd::avx512

#endif
