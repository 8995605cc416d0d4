// AVX-512 level of simd_kernels.h (F/BW/VL/DQ + FMA + F16C): 16 fp32 lanes, GGUF quantized rows decoded in
// registers (nibbles / bytes widened to int32 and converted), a 6-token x 64-row GEMM micro-kernel holding
// 24 accumulators in registers, the level's tables. Numerics formats: simd_avx512_numerics.cpp; integer
// dots (VNNI): simd_avx512_q8.cpp. Every function carries the target attribute, so the file builds with the
// baseline flags and runs only after the dispatcher saw the features.
#include "exec/simd/simd_kernels.h"
#include "numerics/decode.h"
#include "numerics/scalar_codecs.h"

#include "exec/simd/avx512_common.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cmath>

namespace xpusim::exec::simd {
namespace {

using avx512::dot_blocks_exact;
using avx512::dot_exact;
using avx512::half_at;
using avx512::tail_mask;

constexpr int64_t kQK = 32;

// Loaders of 16 weights as fp32 (full or masked), for dot_exact.
struct F32Loader {
  static constexpr int64_t kBytesPerElement = 4;
  XPUSIM_AVX512 static __m512 load(const void* p, int64_t i) {
    return _mm512_loadu_ps(static_cast<const float*>(p) + i);
  }
  XPUSIM_AVX512 static __m512 load_masked(const void* p, int64_t i, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(p) + i);
  }
};
struct Bf16Loader {
  static constexpr int64_t kBytesPerElement = 2;
  XPUSIM_AVX512 static __m512 load_masked(const void* p, int64_t i, __mmask16 m) {
    const __m256i raw = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + i);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
  }
  XPUSIM_AVX512 static __m512 load(const void* p, int64_t i) {
    const __m256i raw =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(p) + i));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
  }
};
struct F16Loader {
  static constexpr int64_t kBytesPerElement = 2;
  XPUSIM_AVX512 static __m512 load_masked(const void* p, int64_t i, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + i));
  }
  XPUSIM_AVX512 static __m512 load(const void* p, int64_t i) { return load_masked(p, i, 0xFFFF); }
};

XPUSIM_AVX512 float dot_f32(const float* a, const float* b, int64_t n) {
  return dot_exact<F32Loader>(a, b, n);
}
XPUSIM_AVX512 float dot_bf16(const uint16_t* row, const float* x, int64_t n) {
  return dot_exact<Bf16Loader>(x, row, n);
}
XPUSIM_AVX512 float dot_f16(const uint16_t* row, const float* x, int64_t n) {
  return dot_exact<F16Loader>(x, row, n);
}

// q4_0, q4_1 and q8_0 rows give exactly decode (numerics / fast_decode) followed by dot_f32: the same
// products, the same four accumulators over 64-element chunks (two blocks), the same tail (a last odd block
// goes to acc0 in two 16-lane steps) and the same final reduction. So numerics-packed q4_0 / q8_0 weights
// stay bit-identical to their fp32 dequantization on the fused path.
// 4-bit blocks: the 16 nibble bytes are widened to 16 int32 once; low nibbles are used as they are, high
// nibbles after one shift. q4_1 looks its values up in a 16-entry table of the block's possible values
// (computed with the decoder's own arithmetic, so exact) with vpermps, which reads only the low 4 bits of
// each index.
XPUSIM_AVX512 inline void q4_0_block(const uint8_t* block, __m512& lo, __m512& hi) {
  // q - 8 without a float conversion: the bits 0x4B000000 | q are the float 2^23 + q, and subtracting
  // 2^23 + 8 is exact. ternarylogic 0xEA computes (a & b) | c in one op.
  const __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2)));
  const __m512i nibble = _mm512_set1_epi32(0x0F), magic = _mm512_set1_epi32(0x4B000000);
  const __m512 bias = _mm512_set1_ps(8388616.0f), d = _mm512_set1_ps(half_at(block));
  const __m512i lo_bits = _mm512_ternarylogic_epi32(q, nibble, magic, 0xEA);
  const __m512i hi_bits = _mm512_ternarylogic_epi32(_mm512_srli_epi32(q, 4), nibble, magic, 0xEA);
  lo = _mm512_mul_ps(_mm512_sub_ps(_mm512_castsi512_ps(lo_bits), bias), d);
  hi = _mm512_mul_ps(_mm512_sub_ps(_mm512_castsi512_ps(hi_bits), bias), d);
}

// q4_1: q * d + m as fast_decode computes it (a rounded product, then a rounded sum; the explicit-rounding
// intrinsics keep the compiler from contracting them into one FMA).
XPUSIM_AVX512 inline void q4_1_block(const uint8_t* block, __m512& lo, __m512& hi) {
  constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const __m512 levels = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512 table =
      _mm512_add_round_ps(_mm512_mul_round_ps(levels, _mm512_set1_ps(half_at(block)), kRound),
                          _mm512_set1_ps(half_at(block + 2)), kRound);
  const __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 4)));
  lo = _mm512_permutexvar_ps(q, table);
  hi = _mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), table);
}

XPUSIM_AVX512 inline void q8_0_block(const uint8_t* block, __m512& lo, __m512& hi) {
  const __m512 d = _mm512_set1_ps(half_at(block));
  lo = _mm512_mul_ps(
      _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2)))),
      d);
  hi = _mm512_mul_ps(
      _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 18)))),
      d);
}

XPUSIM_AVX512 float dot_q4_0(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_blocks_exact<18, q4_0_block>(row, x, blocks);
}

XPUSIM_AVX512 float dot_q4_1(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_blocks_exact<20, q4_1_block>(row, x, blocks);
}

XPUSIM_AVX512 float dot_q8_0(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_blocks_exact<34, q8_0_block>(row, x, blocks);
}

XPUSIM_AVX512 float fma_burst(int64_t iterations) {
  __m512 acc[kFmaBurstChains];
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int c = 0; c < kFmaBurstChains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c));
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kFmaBurstChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  }
  __m512 sum = acc[0];
  for (int c = 1; c < kFmaBurstChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
  return _mm512_reduce_add_ps(sum);
}

XPUSIM_AVX512 void widen_bf16(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, src + i));
    _mm512_mask_storeu_ps(dst + i, m, _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16)));
  }
}

// 16 x 16 transpose in registers: 32-bit, 64-bit and 128-bit interleaves, then 256-bit lane swaps (the
// usual four-stage network; 64 shuffles for 256 elements instead of 256 scalar stores).
XPUSIM_AVX512 void transpose16(const float* const* src, float* dst, int64_t dst_stride) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src[i]);
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
  }
  // r[4g + j] now holds, in each 128-bit lane L, column 4L + j' of rows 4g..4g+3 (j' = j's column order:
  // 0, 1, 2, 3 for j = 0, 1, 2, 3). Gather the 128-bit lanes: 0x88 / 0xDD pick lanes (0, 2) / (1, 3).
  for (int j = 0; j < 4; ++j) {
    t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
    t[4 + j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);
    t[8 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
    t[12 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
  }
  for (int j = 0; j < 4; ++j) {
    // Columns j, 8 + j (from lanes 0 / 2 of the first picks) and 4 + j, 12 + j (lanes 1 / 3).
    _mm512_storeu_ps(dst + (j)*dst_stride, _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88));
    _mm512_storeu_ps(dst + (8 + j) * dst_stride, _mm512_shuffle_f32x4(t[j], t[8 + j], 0xDD));
    _mm512_storeu_ps(dst + (4 + j) * dst_stride, _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88));
    _mm512_storeu_ps(dst + (12 + j) * dst_stride, _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xDD));
  }
}

// exp(x) for x <= 0 (softmax exponents): Cephes expf polynomial on x - n ln2, times 2^n by scalef (which
// flushes to 0 far below the normal range). Max relative error ~2e-7 over [-87, 0].
XPUSIM_AVX512 inline __m512 exp_nonpositive(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

// attend_keys for head_dim = 16 * kChunks: q and the output accumulator live in registers; keys go 16 at a
// time (16 dots, one vector exp, 16 broadcast FMAs into the accumulator per V chunk).
template <int kChunks>
XPUSIM_AVX512 void attend_chunks(const float* q, const float* k, const float* v, int64_t stride,
                                 int64_t count, float scale, float* max, float* sum, float* acc) {
  __m512 qv[kChunks], out[kChunks];
  for (int c = 0; c < kChunks; ++c) {
    qv[c] = _mm512_loadu_ps(q + 16 * c);
    out[c] = _mm512_loadu_ps(acc + 16 * c);
  }
  float m = *max, l = *sum;
  alignas(64) float tile[16];
  for (int64_t j0 = 0; j0 < count; j0 += 16) {
    const int64_t n = count - j0 < 16 ? count - j0 : 16;
    const __mmask16 valid = tail_mask(n);
    for (int64_t j = 0; j < n; ++j) {
      const float* key = k + (j0 + j) * stride;
      __m512 dot = _mm512_mul_ps(qv[0], _mm512_loadu_ps(key));
      for (int c = 1; c < kChunks; ++c) dot = _mm512_fmadd_ps(qv[c], _mm512_loadu_ps(key + 16 * c), dot);
      tile[j] = _mm512_reduce_add_ps(dot);
    }
    const __m512 scores = _mm512_mul_ps(_mm512_maskz_load_ps(valid, tile), _mm512_set1_ps(scale));
    const float tile_max = _mm512_mask_reduce_max_ps(valid, scores);
    if (tile_max > m) {
      const float rescale = std::exp(m - tile_max);  // 0 on the first tile (m = -inf)
      for (int c = 0; c < kChunks; ++c) out[c] = _mm512_mul_ps(out[c], _mm512_set1_ps(rescale));
      l *= rescale;
      m = tile_max;
    }
    const __m512 p = _mm512_maskz_mov_ps(valid, exp_nonpositive(_mm512_sub_ps(scores, _mm512_set1_ps(m))));
    l += _mm512_reduce_add_ps(p);
    _mm512_store_ps(tile, p);
    for (int64_t j = 0; j < n; ++j) {
      const float* value = v + (j0 + j) * stride;
      const __m512 pj = _mm512_set1_ps(tile[j]);
      for (int c = 0; c < kChunks; ++c) out[c] = _mm512_fmadd_ps(pj, _mm512_loadu_ps(value + 16 * c), out[c]);
    }
  }
  for (int c = 0; c < kChunks; ++c) _mm512_storeu_ps(acc + 16 * c, out[c]);
  *max = m;
  *sum = l;
}

XPUSIM_AVX512 bool attend_keys(const float* q, const float* k, const float* v, int64_t stride, int64_t count,
                               int64_t d, float scale, float* max, float* sum, float* acc) {
  switch (d) {
    case 64:
      attend_chunks<4>(q, k, v, stride, count, scale, max, sum, acc);
      return true;
    case 128:
      attend_chunks<8>(q, k, v, stride, count, scale, max, sum, acc);
      return true;
    default:
      return false;
  }
}

XPUSIM_AVX512 void axpy(float a, const float* x, float* y, int64_t n) {
  const __m512 av = _mm512_set1_ps(a);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(
        y + i, m, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

// kTokens tokens x 64 rows: 4 * kTokens accumulators; per k step 4 weight loads and kTokens broadcasts.
template <int kTokens>
XPUSIM_AVX512 inline void micro_kernel(const float* x, int64_t ldx, const float* panel, int64_t depth,
                                       float* y, int64_t ldy, int64_t rows, bool accumulate) {
  __m512 acc[kTokens][4];
  __mmask16 masks[4];
  for (int v = 0; v < 4; ++v) masks[v] = rows > 16 * v ? tail_mask(rows - 16 * v) : 0;
#pragma GCC unroll 8
  for (int t = 0; t < kTokens; ++t) {
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      acc[t][v] = accumulate ? _mm512_maskz_loadu_ps(masks[v], y + t * ldy + 16 * v) : _mm512_setzero_ps();
    }
  }
  for (int64_t k = 0; k < depth; ++k) {
    const float* w = panel + k * kPanelRows;
    const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16), w2 = _mm512_loadu_ps(w + 32),
                 w3 = _mm512_loadu_ps(w + 48);
#pragma GCC unroll 8
    for (int t = 0; t < kTokens; ++t) {
      const __m512 xv = _mm512_set1_ps(x[t * ldx + k]);
      acc[t][0] = _mm512_fmadd_ps(w0, xv, acc[t][0]);
      acc[t][1] = _mm512_fmadd_ps(w1, xv, acc[t][1]);
      acc[t][2] = _mm512_fmadd_ps(w2, xv, acc[t][2]);
      acc[t][3] = _mm512_fmadd_ps(w3, xv, acc[t][3]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < kTokens; ++t) {
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) _mm512_mask_storeu_ps(y + t * ldy + 16 * v, masks[v], acc[t][v]);
  }
}

XPUSIM_AVX512 void gemm_panel(const float* x, int64_t ldx, int64_t tokens, const float* panel, int64_t depth,
                              float* y, int64_t ldy, int64_t rows, bool accumulate) {
  constexpr int kBlock = 6;
  int64_t t = 0;
  for (; t + kBlock <= tokens; t += kBlock) {
    micro_kernel<kBlock>(x + t * ldx, ldx, panel, depth, y + t * ldy, ldy, rows, accumulate);
  }
  const float* xt = x + t * ldx;
  float* yt = y + t * ldy;
  switch (tokens - t) {
    case 5:
      micro_kernel<5>(xt, ldx, panel, depth, yt, ldy, rows, accumulate);
      break;
    case 4:
      micro_kernel<4>(xt, ldx, panel, depth, yt, ldy, rows, accumulate);
      break;
    case 3:
      micro_kernel<3>(xt, ldx, panel, depth, yt, ldy, rows, accumulate);
      break;
    case 2:
      micro_kernel<2>(xt, ldx, panel, depth, yt, ldy, rows, accumulate);
      break;
    case 1:
      micro_kernel<1>(xt, ldx, panel, depth, yt, ldy, rows, accumulate);
      break;
    default:
      break;
  }
}

// Without VNNI (+ VBMI) the level has no integer dots (quantized rows take the exact fp32 fused dots).
constexpr SimdKernels kAvx512 = {.name = "avx512",
                                 .vector_floats = 16,
                                 .exact_dots = true,
                                 .dot_f32 = dot_f32,
                                 .dot_q4_0 = dot_q4_0,
                                 .dot_q4_1 = dot_q4_1,
                                 .dot_q8_0 = dot_q8_0,
                                 .dot_q4_k = avx512::dot_q4_k,
                                 .dot_q5_k = avx512::dot_q5_k,
                                 .dot_q6_k = avx512::dot_q6_k,
                                 .numerics_dot = avx512::numerics_dot,
                                 .q8_dots = {},
                                 .q8_dot_rows = {},
                                 .q8_dot_tokens = {},
                                 .quantize_q8 = simd::quantize_q8,
                                 .dot_bf16 = dot_bf16,
                                 .dot_f16 = dot_f16,
                                 .fma_burst = fma_burst,
                                 .widen_bf16 = widen_bf16,
                                 .transpose16 = transpose16,
                                 .attend_keys = attend_keys,
                                 .axpy = axpy,
                                 .gemm_panel = gemm_panel};

constexpr SimdKernels kAvx512Vnni = {
    .name = "avx512",
    .vector_floats = 16,
    .exact_dots = true,
    .dot_f32 = dot_f32,
    .dot_q4_0 = dot_q4_0,
    .dot_q4_1 = dot_q4_1,
    .dot_q8_0 = dot_q8_0,
    .dot_q4_k = avx512::dot_q4_k,
    .dot_q5_k = avx512::dot_q5_k,
    .dot_q6_k = avx512::dot_q6_k,
    .numerics_dot = avx512::numerics_dot,
    .q8_dots = {avx512::q8_dot_q4_0, avx512::q8_dot_q4_1, avx512::q8_dot_q8_0, avx512::q8_dot_mxfp4,
                avx512::q8_dot_nvfp4, avx512::q8_dot_ue_4bit, avx512::q8_dot_k_min<false>,
                avx512::q8_dot_k_min<true>, avx512::q8_dot_q6_k, avx512::q8_dot_q5<false>,
                avx512::q8_dot_q5<true>, avx512::q8_dot_iq4_nl, avx512::q8_dot_iq4_xs, avx512::q8_dot_q2_k,
                avx512::q8_dot_q3_k},
    .q8_dot_rows = {avx512::q8_dot_rows_q4_0, avx512::q8_dot_rows_q4_1, avx512::q8_dot_rows_q8_0,
                    avx512::q8_dot_rows_mxfp4, avx512::q8_dot_rows_nvfp4, avx512::q8_dot_rows_ue_4bit},
    // Q4_K / Q5_K / Q6_K: none, since this level's one-row dots are 512-bit kernels with another summation
    // order (a shared multi-token kernel would not give a token its decode bits): the fp32 panel GEMM runs.
    .q8_dot_tokens = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                      nullptr, nullptr, nullptr, nullptr, avx512::q8_dot_tokens_q2_k,
                      avx512::q8_dot_tokens_q3_k},
    .quantize_q8 = avx512::quantize_q8,
    .dot_bf16 = dot_bf16,
    .dot_f16 = dot_f16,
    .fma_burst = fma_burst,
    .widen_bf16 = widen_bf16,
    .transpose16 = transpose16,
    .attend_keys = attend_keys,
    .axpy = axpy,
    .gemm_panel = gemm_panel};

}  // namespace

const SimdKernels* simd_kernels_avx512() {
  __builtin_cpu_init();
  const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("fma");
  if (!ok) return nullptr;
  const bool integer_dots = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vbmi");
  return integer_dots ? &kAvx512Vnni : &kAvx512;
}

}  // namespace xpusim::exec::simd

#else

namespace xpusim::exec::simd {
const SimdKernels* simd_kernels_avx512() { return nullptr; }
}  // namespace xpusim::exec::simd

#endif
