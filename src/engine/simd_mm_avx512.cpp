// AVX-512 level of the engine's matrix kernels (simd_mm.h): 16 fp32 lanes = 16 independent outputs.
// decode_panel gathers one 32-bit word from each of 16 weight rows (8 nibbles = 8 reduction steps of 16
// outputs) and maps nibbles through a 32-entry table (INT4 values | E2M1 values, picked per lane by the
// sign of its bf16 block scale), times |scale| — the same fp32 products as decode_row. Their to_bf19 is the
// identity (a code value has at most 3 significant bits, a bf16 scale 8: the product fits in bf19's 11, and
// subnormal, Inf and NaN products keep their low 13 bits zero), so it is left out.
// accumulate_panel holds rows x 4 vectors of sums in registers; products and sums use explicit-rounding
// intrinsics (round to nearest, as the default MXCSR), which the compiler never contracts into an FMA.
// Every function carries the target attribute, so the file builds with the baseline flags and runs only
// after the dispatcher saw the features.
#include "engine/simd_mm.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#if defined(__GNUC__) && !defined(__clang__)  // GCC 12 AVX-512 header false positives (see exec/simd)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "numerics/float_bits.h"

#define XPUSIM_MM_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

namespace xpusim::engine::simd {
namespace {

constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

XPUSIM_MM_AVX512 inline __mmask16 lanes_mask(size_t lanes) {
  return static_cast<__mmask16>(lanes >= 16 ? 0xFFFFu : (1u << lanes) - 1u);
}

template <bool kRne>
XPUSIM_MM_AVX512 inline __m512 round_acc(__m512 v, __m512i mask, __m512i half_minus_one, __m128i drop) {
  __m512i u = _mm512_castps_si512(v);
  if constexpr (kRne) {
    const __m512i exp_bits = _mm512_set1_epi32(0x7F800000);
    const __mmask16 finite = _mm512_cmpneq_epu32_mask(_mm512_and_si512(u, exp_bits), exp_bits);
    const __m512i lsb = _mm512_and_si512(_mm512_srl_epi32(u, drop), _mm512_set1_epi32(1));
    u = _mm512_mask_add_epi32(u, finite, u, _mm512_add_epi32(half_minus_one, lsb));
  }
  return _mm512_castsi512_ps(_mm512_and_si512(u, mask));
}

template <size_t R, bool kRne>
XPUSIM_MM_AVX512 void accumulate_rows(const float* a, size_t lda, const float* panel, size_t depth,
                                      const AccRounding& rounding, float* acc) {
  const __m512i mask = _mm512_set1_epi32(static_cast<int>(rounding.mask));
  const __m512i half = _mm512_set1_epi32(static_cast<int>(rounding.half_minus_one));
  const __m128i drop = _mm_cvtsi32_si128(static_cast<int>(rounding.drop));
  __m512 sums[R][4];
  for (size_t r = 0; r < R; ++r)
    for (size_t q = 0; q < 4; ++q) sums[r][q] = _mm512_load_ps(acc + r * kPanelCols + 16 * q);
  for (size_t kk = 0; kk < depth; ++kk) {
    const float* b = panel + kk * kPanelCols;
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16), b2 = _mm512_load_ps(b + 32),
                 b3 = _mm512_load_ps(b + 48);
    for (size_t r = 0; r < R; ++r) {
      const __m512 x = _mm512_set1_ps(a[r * lda + kk]);
      sums[r][0] = round_acc<kRne>(
          _mm512_add_round_ps(sums[r][0], _mm512_mul_round_ps(x, b0, kRound), kRound), mask, half, drop);
      sums[r][1] = round_acc<kRne>(
          _mm512_add_round_ps(sums[r][1], _mm512_mul_round_ps(x, b1, kRound), kRound), mask, half, drop);
      sums[r][2] = round_acc<kRne>(
          _mm512_add_round_ps(sums[r][2], _mm512_mul_round_ps(x, b2, kRound), kRound), mask, half, drop);
      sums[r][3] = round_acc<kRne>(
          _mm512_add_round_ps(sums[r][3], _mm512_mul_round_ps(x, b3, kRound), kRound), mask, half, drop);
    }
  }
  for (size_t r = 0; r < R; ++r)
    for (size_t q = 0; q < 4; ++q) _mm512_store_ps(acc + r * kPanelCols + 16 * q, sums[r][q]);
}

template <bool kRne>
XPUSIM_MM_AVX512 void accumulate_all(const float* a, size_t lda, size_t rows, const float* panel,
                                     size_t depth, const AccRounding& rounding, float* acc) {
  size_t r = 0;
  for (; r + 4 <= rows; r += 4)
    accumulate_rows<4, kRne>(a + r * lda, lda, panel, depth, rounding, acc + r * kPanelCols);
  switch (rows - r) {
    case 3:
      accumulate_rows<3, kRne>(a + r * lda, lda, panel, depth, rounding, acc + r * kPanelCols);
      break;
    case 2:
      accumulate_rows<2, kRne>(a + r * lda, lda, panel, depth, rounding, acc + r * kPanelCols);
      break;
    case 1:
      accumulate_rows<1, kRne>(a + r * lda, lda, panel, depth, rounding, acc + r * kPanelCols);
      break;
    default:
      break;
  }
}

XPUSIM_MM_AVX512 void accumulate_panel_avx512(const float* a, size_t lda, size_t rows, const float* panel,
                                              size_t depth, const AccRounding& rounding, float* acc) {
  if (rounding.rne)
    accumulate_all<true>(a, lda, rows, panel, depth, rounding, acc);
  else
    accumulate_all<false>(a, lda, rows, panel, depth, rounding, acc);
}

XPUSIM_MM_AVX512 void zero_group(float* panel, size_t c0, size_t depth) {
  for (size_t kk = 0; kk < depth; ++kk) _mm512_store_ps(panel + kk * kPanelCols + c0, _mm512_setzero_ps());
}

XPUSIM_MM_AVX512 __m512i row_offsets(size_t row_bytes) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  return _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int>(row_bytes)));
}

// Transposes 32-byte row pieces of 16 rows (stride apart; rows >= lanes read as zero) into 8 vectors:
// words[t] lane l = 32-bit word t of row l. Three stages of two-source permutes, each swapping one bit of
// the vector index (a row bit) with one bit of the lane index (a word bit); every stage uses the same
// two index vectors.
XPUSIM_MM_AVX512 inline void transpose_words(const uint8_t* rows, size_t stride, size_t lanes,
                                             __m512i words[8]) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  __m256i row[16];
  for (size_t l = 0; l < 16; ++l)
    row[l] = l < lanes ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows + l * stride))
                       : _mm256_setzero_si256();
  for (size_t p = 0; p < 8; ++p)
    words[p] = _mm512_inserti64x4(_mm512_castsi256_si512(row[2 * p]), row[2 * p + 1], 1);
  for (size_t bit = 1; bit < 8; bit <<= 1)
    for (size_t v = 0; v < 8; ++v) {
      if (v & bit) continue;
      const __m512i a = words[v], b = words[v | bit];
      words[v] = _mm512_permutex2var_epi32(a, even, b);
      words[v | bit] = _mm512_permutex2var_epi32(a, odd, b);
    }
}

// ue-int4 / ue-fp4 / ue-if4: the 16 rows' (from row j, `lanes` of them) bf16 scales of block `block`, as
// a table select (16 for E2M1, i.e. a non-negative scale; 0 for INT4) and |scale|. A 32-bit gather holds
// this scale and its neighbour in the row (the next one, or the previous one for a row's last block), else
// one at a time.
XPUSIM_MM_AVX512 inline void load_ue4_scales(const WeightStrip& strip, size_t j, size_t block, size_t lanes,
                                             __m512i scale_offsets, __m512i& select, __m512& scale) {
  const size_t row_blocks = strip.scale_row_bytes / 2;
  const uint8_t* scale_base = strip.scales + j * strip.scale_row_bytes;
  const __mmask16 valid = lanes_mask(lanes);
  __m512i bits;
  if (block + 1 < row_blocks) {
    bits = _mm512_and_si512(
        _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), valid, scale_offsets, scale_base + 2 * block, 1),
        _mm512_set1_epi32(0xFFFF));
  } else if (block > 0) {
    bits = _mm512_srli_epi32(_mm512_mask_i32gather_epi32(_mm512_setzero_si512(), valid, scale_offsets,
                                                         scale_base + 2 * block - 2, 1),
                             16);
  } else {
    alignas(64) uint32_t scale_bits[16] = {};
    for (size_t l = 0; l < lanes; ++l) {
      uint16_t one;
      std::memcpy(&one, scale_base + l * strip.scale_row_bytes + 2 * block, 2);
      scale_bits[l] = one;
    }
    bits = _mm512_load_si512(scale_bits);
  }
  const __mmask16 integer = _mm512_test_epi32_mask(bits, _mm512_set1_epi32(0x8000));
  select = _mm512_maskz_mov_epi32(static_cast<__mmask16>(~integer), _mm512_set1_epi32(16));
  scale = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_and_si512(bits, _mm512_set1_epi32(0x7FFF)), 16));
}

// ue-int4 / ue-fp4 / ue-if4: 64-element blocks, bf16 scale whose sign selects INT4 (negative) or E2M1.
XPUSIM_MM_AVX512 void decode_ue4(const WeightStrip& strip, size_t j0, size_t cols, size_t k0, size_t depth,
                                 float* panel) {
  const __m512 int_table = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
  const __m512 fp_table = _mm512_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f, -0.0f, -0.5f, -1.0f,
                                         -1.5f, -2.0f, -3.0f, -4.0f, -6.0f);
  const __m512i nibble = _mm512_set1_epi32(0xF);
  const __m512i scale_offsets = row_offsets(strip.scale_row_bytes);
  for (size_t c0 = 0; c0 < kPanelCols; c0 += 16) {
    if (c0 >= cols) {
      zero_group(panel, c0, depth);
      continue;
    }
    const size_t lanes = std::min<size_t>(16, cols - c0);
    const uint8_t* codes = strip.codes + (j0 + c0) * strip.code_row_bytes + k0 / 2;
    for (size_t b = 0; b < depth / 64; ++b) {
      __m512i select;
      __m512 scale;
      load_ue4_scales(strip, j0 + c0, k0 / 64 + b, lanes, scale_offsets, select, scale);
      __m512i words[8];
      transpose_words(codes + b * 32, strip.code_row_bytes, lanes, words);
      float* out = panel + (b * 64) * kPanelCols + c0;
      for (size_t t = 0; t < 8; ++t) {
        __m512i word = words[t];
        for (size_t q = 0; q < 8; ++q) {
          const __m512i index = _mm512_ternarylogic_epi32(word, nibble, select, 0xEA);  // (w & 0xF) | sel
          _mm512_store_ps(
              out + (8 * t + q) * kPanelCols,
              _mm512_mul_round_ps(_mm512_permutex2var_ps(int_table, index, fp_table), scale, kRound));
          word = _mm512_srli_epi32(word, 4);
        }
      }
    }
  }
}

// Lines [first, first + count) of the strip's read-ahead region, a few per block (see WeightStrip).
struct ReadAheadSlice {
  const uint8_t* base = nullptr;
  size_t first = 0, count = 0, per_block = 0;
};

// One row of A (decode GEMV) over ue-int4/fp4/if4 weights, decode fused with accumulation: each 64-element
// block of G groups of 16 rows is transposed into registers and its decoded values go straight into the
// products, so no panel is written or read back. Per output the order is accumulate_rows' (product rounded,
// sequential add, accumulator rounded after every add); the G groups are G independent chains, which hides
// the add latency. The next block's scales are gathered before the current block is accumulated, and each
// block prefetches its share of the strip's read-ahead region.
template <size_t G, bool kRne>
XPUSIM_MM_AVX512 void gemv_ue4_panel(const WeightStrip& strip, size_t j0, size_t cols, const float* a,
                                     size_t k, const AccRounding& rounding, float* out,
                                     ReadAheadSlice ahead) {
  const __m512 int_table = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
  const __m512 fp_table = _mm512_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f, -0.0f, -0.5f, -1.0f,
                                         -1.5f, -2.0f, -3.0f, -4.0f, -6.0f);
  const __m512i nibble = _mm512_set1_epi32(0xF);
  const __m512i mask = _mm512_set1_epi32(static_cast<int>(rounding.mask));
  const __m512i half = _mm512_set1_epi32(static_cast<int>(rounding.half_minus_one));
  const __m128i drop = _mm_cvtsi32_si128(static_cast<int>(rounding.drop));
  const __m512i scale_offsets = row_offsets(strip.scale_row_bytes);
  size_t lanes[G];
  const uint8_t* codes[G];
  __m512 sums[G], scale[G], next_scale[G];
  __m512i select[G], next_select[G];
  for (size_t g = 0; g < G; ++g) {
    lanes[g] = std::min<size_t>(16, cols - 16 * g);
    codes[g] = strip.codes + (j0 + 16 * g) * strip.code_row_bytes;
    sums[g] = _mm512_setzero_ps();
    load_ue4_scales(strip, j0 + 16 * g, 0, lanes[g], scale_offsets, next_select[g], next_scale[g]);
  }
  const size_t blocks = k / 64;
  for (size_t b = 0; b < blocks; ++b) {
    for (size_t line = b * ahead.per_block; line < std::min(ahead.count, (b + 1) * ahead.per_block); ++line)
      _mm_prefetch(reinterpret_cast<const char*>(ahead.base + 64 * (ahead.first + line)), _MM_HINT_T0);
    for (size_t g = 0; g < G; ++g) select[g] = next_select[g], scale[g] = next_scale[g];
    if (b + 1 < blocks)
      for (size_t g = 0; g < G; ++g)
        load_ue4_scales(strip, j0 + 16 * g, b + 1, lanes[g], scale_offsets, next_select[g], next_scale[g]);
    __m512i words[G][8];
    for (size_t g = 0; g < G; ++g)
      transpose_words(codes[g] + b * 32, strip.code_row_bytes, lanes[g], words[g]);
    const float* x_block = a + b * 64;
    for (size_t t = 0; t < 8; ++t) {
      for (size_t q = 0; q < 8; ++q) {
        const __m512 x = _mm512_set1_ps(x_block[8 * t + q]);
        for (size_t g = 0; g < G; ++g) {
          const __m512i index = _mm512_ternarylogic_epi32(words[g][t], nibble, select[g], 0xEA);
          const __m512 w =
              _mm512_mul_round_ps(_mm512_permutex2var_ps(int_table, index, fp_table), scale[g], kRound);
          sums[g] = round_acc<kRne>(_mm512_add_round_ps(sums[g], _mm512_mul_round_ps(x, w, kRound), kRound),
                                    mask, half, drop);
          words[g][t] = _mm512_srli_epi32(words[g][t], 4);
        }
      }
    }
  }
  for (size_t g = 0; g < G; ++g) _mm512_mask_storeu_ps(out + 16 * g, lanes_mask(lanes[g]), sums[g]);
}

template <bool kRne>
XPUSIM_MM_AVX512 void gemv_ue4(const WeightStrip& strip, const float* a, size_t n, size_t k,
                               const AccRounding& rounding, float* out) {
  const size_t blocks = std::max<size_t>(k / 64, 1), panels = (n + kPanelCols - 1) / kPanelCols;
  const size_t ahead_lines = (strip.read_ahead_bytes + 63) / 64;
  const size_t per_panel = (ahead_lines + panels - 1) / panels;
  for (size_t j0 = 0; j0 < n; j0 += kPanelCols) {
    const size_t cols = std::min(kPanelCols, n - j0);
    const size_t first = std::min(ahead_lines, j0 / kPanelCols * per_panel);
    const ReadAheadSlice ahead{strip.read_ahead, first, std::min(per_panel, ahead_lines - first),
                               (per_panel + blocks - 1) / blocks};
    switch ((cols + 15) / 16) {
      case 4:
        gemv_ue4_panel<4, kRne>(strip, j0, cols, a, k, rounding, out + j0, ahead);
        break;
      case 3:
        gemv_ue4_panel<3, kRne>(strip, j0, cols, a, k, rounding, out + j0, ahead);
        break;
      case 2:
        gemv_ue4_panel<2, kRne>(strip, j0, cols, a, k, rounding, out + j0, ahead);
        break;
      default:
        gemv_ue4_panel<1, kRne>(strip, j0, cols, a, k, rounding, out + j0, ahead);
        break;
    }
  }
}

XPUSIM_MM_AVX512 bool accumulate_row_avx512(const WeightStrip& strip, const float* a, size_t n, size_t k,
                                            const AccRounding& rounding, float* out) {
  switch (strip.format) {
    case WeightFormat::ue_int4:
    case WeightFormat::ue_fp4:
    case WeightFormat::ue_if4:
      if (rounding.rne)
        gemv_ue4<true>(strip, a, n, k, rounding, out);
      else
        gemv_ue4<false>(strip, a, n, k, rounding, out);
      return true;
    default:
      return false;
  }
}

// bf16 weights are exact bf19 inputs: widening is the whole decode.
XPUSIM_MM_AVX512 void decode_bf16(const WeightStrip& strip, size_t j0, size_t cols, size_t k0, size_t depth,
                                  float* panel) {
  const __m512i high = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  const __m512i offsets = row_offsets(strip.code_row_bytes);
  for (size_t c0 = 0; c0 < kPanelCols; c0 += 16) {
    if (c0 >= cols) {
      zero_group(panel, c0, depth);
      continue;
    }
    const size_t lanes = std::min<size_t>(16, cols - c0);
    const __mmask16 valid = lanes_mask(lanes);
    const uint8_t* codes = strip.codes + (j0 + c0) * strip.code_row_bytes + 2 * k0;
    size_t kk = 0;
    for (; kk + 16 <= depth; kk += 16) {  // 16 rows x 16 elements: one transpose of 32-bit pairs
      __m512i words[8];
      transpose_words(codes + 2 * kk, strip.code_row_bytes, lanes, words);
      for (size_t t = 0; t < 8; ++t) {
        _mm512_store_ps(panel + (kk + 2 * t) * kPanelCols + c0,
                        _mm512_castsi512_ps(_mm512_slli_epi32(words[t], 16)));
        _mm512_store_ps(panel + (kk + 2 * t + 1) * kPanelCols + c0,
                        _mm512_castsi512_ps(_mm512_and_si512(words[t], high)));
      }
    }
    for (; kk + 2 <= depth; kk += 2) {
      const __m512i pair =
          _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), valid, offsets, codes + 2 * kk, 1);
      _mm512_store_ps(panel + kk * kPanelCols + c0, _mm512_castsi512_ps(_mm512_slli_epi32(pair, 16)));
      _mm512_store_ps(panel + (kk + 1) * kPanelCols + c0, _mm512_castsi512_ps(_mm512_and_si512(pair, high)));
    }
    if (kk < depth) {  // odd depth: the last column alone (a 32-bit gather could read past the strip)
      alignas(64) uint32_t last[16] = {};
      for (size_t l = 0; l < lanes; ++l) {
        uint16_t bits;
        std::memcpy(&bits, codes + l * strip.code_row_bytes + 2 * kk, 2);
        last[l] = static_cast<uint32_t>(bits) << 16;
      }
      _mm512_store_ps(panel + kk * kPanelCols + c0, _mm512_castsi512_ps(_mm512_load_si512(last)));
    }
  }
}

XPUSIM_MM_AVX512 void decode_panel_avx512(const WeightStrip& strip, size_t j0, size_t cols, size_t k0,
                                          size_t depth, float* panel) {
  switch (strip.format) {
    case WeightFormat::ue_int4:
    case WeightFormat::ue_fp4:
    case WeightFormat::ue_if4:
      return decode_ue4(strip, j0, cols, k0, depth, panel);
    case WeightFormat::bf16:
      return decode_bf16(strip, j0, cols, k0, depth, panel);
    default:
      return decode_panel_generic(strip, j0, cols, k0, depth, panel);
  }
}

// The interleaved host layout (simd_mm.h): the same arithmetic as decode_ue4 / decode_bf16, with plain
// vector loads in place of gathers.
XPUSIM_MM_AVX512 void decode_interleaved_avx512(const InterleavedWeights& weights, size_t panel, size_t k0,
                                                size_t depth, float* out) {
  const uint8_t* base = weights.bytes.data() + panel * weights.panel_bytes;
  if (weights.format == WeightFormat::bf16) {
    const __m512i high = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
    for (size_t kk = 0; kk < depth; kk += 2) {  // k0 is even (a multiple of kChunkK)
      const uint8_t* words = base + (k0 + kk) / 2 * kPanelCols * 4;
      for (size_t c0 = 0; c0 < kPanelCols; c0 += 16) {
        const __m512i pair = _mm512_loadu_si512(words + 4 * c0);
        _mm512_store_ps(out + kk * kPanelCols + c0, _mm512_castsi512_ps(_mm512_slli_epi32(pair, 16)));
        if (kk + 1 < depth)
          _mm512_store_ps(out + (kk + 1) * kPanelCols + c0,
                          _mm512_castsi512_ps(_mm512_and_si512(pair, high)));
      }
    }
    return;
  }
  const __m512 int_table = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
  const __m512 fp_table = _mm512_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f, -0.0f, -0.5f, -1.0f,
                                         -1.5f, -2.0f, -3.0f, -4.0f, -6.0f);
  const __m512i nibble = _mm512_set1_epi32(0xF);
  for (size_t b = 0; b < depth / 64; ++b) {
    const uint8_t* block = base + ((k0 / 64) + b) * kPanelCols * 34;
    // Host weights stream from DRAM: fetch the block after next while this one decodes.
    // (Integer arithmetic: the address may lie past the buffer, which a prefetch tolerates.)
    const uintptr_t ahead = reinterpret_cast<uintptr_t>(block) + 2 * kPanelCols * 34;
    for (uintptr_t line = 0; line < kPanelCols * 34; line += 64)
      _mm_prefetch(reinterpret_cast<const char*>(ahead + line), _MM_HINT_T0);
    for (size_t c0 = 0; c0 < kPanelCols; c0 += 16) {
      const __m512i bits =
          _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2 * c0)));
      const __mmask16 integer = _mm512_test_epi32_mask(bits, _mm512_set1_epi32(0x8000));
      const __m512i select = _mm512_maskz_mov_epi32(static_cast<__mmask16>(~integer), _mm512_set1_epi32(16));
      const __m512 scale =
          _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_and_si512(bits, _mm512_set1_epi32(0x7FFF)), 16));
      float* dst = out + (b * 64) * kPanelCols + c0;
      for (size_t t = 0; t < 8; ++t) {
        __m512i word = _mm512_loadu_si512(block + 2 * kPanelCols + (t * kPanelCols + c0) * 4);
        for (size_t q = 0; q < 8; ++q) {
          const __m512i index = _mm512_ternarylogic_epi32(word, nibble, select, 0xEA);
          _mm512_store_ps(
              dst + (8 * t + q) * kPanelCols,
              _mm512_mul_round_ps(_mm512_permutex2var_ps(int_table, index, fp_table), scale, kRound));
          word = _mm512_srli_epi32(word, 4);
        }
      }
    }
  }
}

constexpr MmKernels kAvx512{"avx512", decode_panel_avx512, accumulate_panel_avx512, decode_interleaved_avx512,
                            accumulate_row_avx512};

}  // namespace

const MmKernels* mm_kernels_avx512() {
  __builtin_cpu_init();
  const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return ok ? &kAvx512 : nullptr;
}

}  // namespace xpusim::engine::simd

#else

namespace xpusim::engine::simd {
const MmKernels* mm_kernels_avx512() { return nullptr; }
}  // namespace xpusim::engine::simd

#endif
