// AVX2 + FMA level of simd_kernels.h: 8 fp32 lanes. The fp32 dot, bf16/f16 dots, the GEMM micro-kernel
// (3 tokens x 32 rows, 12 accumulators of the 16 ymm registers, run on each half of a 64-row panel) and the
// integer dots of q4_0 / q4_1 / q8_0 with int8 activations (vpmaddubsw + vpmaddwd, one 32-block per step).
// Without int8 activations, quantized rows are decoded a row at a time (fast_decode.h) and dotted with
// dot_f32; numerics formats likewise.
#include <cstring>

#include "exec/simd/kquant_common.h"
#include "exec/simd/simd_kernels.h"
#include "numerics/ggml_blocks.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define XPUSIM_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace xpusim::exec::simd {
namespace {

XPUSIM_AVX2 inline float reduce(__m256 v) {
  const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
  return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_movehdup_ps(sum2)));
}

XPUSIM_AVX2 float dot_f32(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(),
         acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return reduce(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3))) + tail;
}

XPUSIM_AVX2 float dot_bf16(const uint16_t* row, const float* x, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + i));
    const __m256 w = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
    acc = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + i), acc);
  }
  float tail = 0.0f;
  for (; i < n; ++i) tail += _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128(row[i] << 16))) * x[i];
  return reduce(acc) + tail;
}

XPUSIM_AVX2 float dot_f16(const uint16_t* row, const float* x, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 w = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + i)));
    acc = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + i), acc);
  }
  float tail = 0.0f;
  for (; i < n; ++i) tail += _cvtsh_ss(row[i]) * x[i];
  return reduce(acc) + tail;
}

FusedDot no_numerics_dot(numerics::Format) { return nullptr; }

XPUSIM_AVX2 inline float half_at(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, sizeof bits);
  return _cvtsh_ss(bits);
}

// 16 nibble bytes as 32 unsigned bytes: low nibbles (elements 0..15), then high nibbles.
XPUSIM_AVX2 inline __m256i nibbles32(const uint8_t* bytes) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
  const __m128i mask = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), mask), _mm_and_si128(raw, mask));
}

// Pairs of u8 x s8 products summed to int32 (8 lanes). vpmaddubsw saturates at int16: callers keep each
// pair sum below 2^15 (nibbles: 2 x 15 x 127; q8_0 uses |w| <= 128 with the sign moved onto q).
XPUSIM_AVX2 inline __m256i sum_products(__m256i unsigned_bytes, __m256i signed_bytes) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(unsigned_bytes, signed_bytes), _mm256_set1_epi16(1));
}

// The 32 activation codes of ggml 4-bit block b (Q8Order::kNibbleQuads): elements 0..15, then 16..31.
XPUSIM_AVX2 inline __m256i nibble_block_q(const Q8Activations& x, int64_t b) {
  if ((b / 4) * 4 + 4 <= x.blocks) {
    const int8_t* low = x.q.data() + 128 * (b / 4) + 16 * (b % 4);
    return _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(low + 64)),
                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(low)));
  }
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.q.data() + 32 * b));
}

XPUSIM_AVX2 float q8_dot_q4_0(const uint8_t* row, const Q8Activations& x, float) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < x.blocks; ++b, row += 18) {
    const __m256i q = nibble_block_q(x, b);
    // (n - 8) q = n q + 8 (-q): both pair sums stay within int16 (3810 + 2032).
    const __m256i pairs = _mm256_add_epi16(
        _mm256_maddubs_epi16(nibbles32(row + 2), q),
        _mm256_maddubs_epi16(_mm256_set1_epi8(8), _mm256_sub_epi8(_mm256_setzero_si256(), q)));
    const __m256i sums = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums),
                          _mm256_set1_ps(half_at(row) * x.scale[static_cast<size_t>(b)]), acc);
  }
  return reduce(acc);
}

XPUSIM_AVX2 float q8_dot_q4_1(const uint8_t* row, const Q8Activations& x, float) {
  __m256 acc = _mm256_setzero_ps();
  float min_total = 0.0f;
  for (int64_t b = 0; b < x.blocks; ++b, row += 20) {
    const __m256i sums = sum_products(nibbles32(row + 4), nibble_block_q(x, b));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums),
                          _mm256_set1_ps(half_at(row) * x.scale[static_cast<size_t>(b)]), acc);
    min_total += half_at(row + 2) * x.sum[static_cast<size_t>(b)];
  }
  return reduce(acc) + min_total;
}

XPUSIM_AVX2 float q8_dot_q8_0(const uint8_t* row, const Q8Activations& x, float) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < x.blocks; ++b, row += 34) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2));
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.q.data() + 32 * b));
    const __m256i sums = sum_products(_mm256_abs_epi8(w), _mm256_sign_epi8(q, w));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums),
                          _mm256_set1_ps(half_at(row) * x.scale[static_cast<size_t>(b)]), acc);
  }
  return reduce(acc);
}

// GGUF K-quants (kquant_common.h): the one-row integer dots are the one-token instances of the multi-token
// kernels shared with the AVX-512 level.
#define XPUSIM_KQ_TARGET XPUSIM_AVX2
#include "exec/simd/kquant_kernels.inc"
#undef XPUSIM_KQ_TARGET

// Q5_0 / Q5_1: the 32 codes as bytes (nibbles32 gives elements 0..15, then 16..31; bit j of qh spread to
// byte j by a shuffle, an OR with all bits but bit j % 8 and a compare with all ones, as ggml does).
XPUSIM_AVX2 inline __m256i fifth_bits(const uint8_t* qh) {
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
  const __m256i others = _mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
  return _mm256_and_si256(_mm256_cmpeq_epi8(others, _mm256_set1_epi64x(-1)), _mm256_set1_epi8(0x10));
}

template <bool kQ5_1>
XPUSIM_AVX2 float q8_dot_q5(const uint8_t* row, const Q8Activations& x, float) {
  constexpr int64_t kBytes = kQ5_1 ? 24 : 22, kHead = kQ5_1 ? 4 : 2;
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0.0f;
  for (int64_t b = 0; b < x.blocks; ++b, row += kBytes) {
    const __m256i codes = _mm256_or_si256(nibbles32(row + kHead + 4), fifth_bits(row + kHead));
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.q.data() + 32 * b));
    const float d = half_at(row);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum_products(codes, q)),
                          _mm256_set1_ps(d * x.scale[static_cast<size_t>(b)]), acc);
    offsets += (kQ5_1 ? half_at(row + 2) : -16.0f * d) * x.sum[static_cast<size_t>(b)];
  }
  return reduce(acc) + offsets;
}

// IQ4_NL / IQ4_XS: the grid values looked up with vpshufb (signed, |v| <= 127), dotted as q8_0 is (|w| x
// sign(q, w)).
XPUSIM_AVX2 inline __m256i iq4_sums(const uint8_t* nibbles, const int8_t* q) {
  const __m256i grid = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(numerics::ggml::kIq4NlValues)));
  const __m256i w = _mm256_shuffle_epi8(grid, nibbles32(nibbles));
  const __m256i activations = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
  return sum_products(_mm256_abs_epi8(w), _mm256_sign_epi8(activations, w));
}
XPUSIM_AVX2 float q8_dot_iq4_nl(const uint8_t* row, const Q8Activations& x, float) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < x.blocks; ++b, row += 18) {
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(iq4_sums(row + 2, x.q.data() + 32 * b)),
                          _mm256_set1_ps(half_at(row) * x.scale[static_cast<size_t>(b)]), acc);
  }
  return reduce(acc);
}
XPUSIM_AVX2 float q8_dot_iq4_xs(const uint8_t* row, const Q8Activations& x, float) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t s = 0; s < x.blocks / 8; ++s, row += kquant::kIq4XsBytes) {
    const float d = half_at(row);
    for (int ib = 0; ib < 8; ++ib) {
      const int64_t b = 8 * s + ib;
      const float scale =
          d * static_cast<float>(kquant::iq4_xs_scale(row, ib)) * x.scale[static_cast<size_t>(b)];
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(iq4_sums(row + 8 + 16 * ib, x.q.data() + 32 * b)),
                            _mm256_set1_ps(scale), acc);
    }
  }
  return reduce(acc);
}

// Fused fp32 K-quant dots (the LM head keeps fp32 activations): per 32-value block the codes as bytes (the
// integer kernels' unpacking), widened 8 at a time, value = factor * code - offset, FMA with x.
XPUSIM_AVX2 inline __m256 fma_codes(__m256i codes, __m256 factor, __m256 offset, const float* x, __m256 acc) {
  const __m128i halves[2] = {_mm256_castsi256_si128(codes), _mm256_extracti128_si256(codes, 1)};
  for (int h = 0; h < 2; ++h) {
    for (int part = 0; part < 2; ++part) {
      const __m128i bytes = part == 0 ? halves[h] : _mm_srli_si128(halves[h], 8);
      const __m256 values = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
      acc = _mm256_fmadd_ps(_mm256_fmsub_ps(values, factor, offset), _mm256_loadu_ps(x + 16 * h + 8 * part),
                            acc);
    }
  }
  return acc;
}

template <bool kFifthBit>
XPUSIM_AVX2 float dot_k_min(const uint8_t* row, const float* x, int64_t blocks, float) {
  constexpr int64_t kBytes = kFifthBit ? kquant::kQ5KBytes : kquant::kQ4KBytes;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (int64_t s = 0; s < blocks; ++s, row += kBytes, x += 256) {
    uint8_t unpacked[16];
    kquant::unpack_scales_mins(row + 4, unpacked);
    const float d = half_at(row), dmin = half_at(row + 2);
    const __m256i high_bits = kq_min_high_bits<kFifthBit>(row);
    for (int64_t j = 0; j < 8; ++j) {
      const __m256i codes = kq_min_codes<kFifthBit>(row, high_bits, j);
      const __m256 factor = _mm256_set1_ps(d * static_cast<float>(unpacked[j]));
      const __m256 offset = _mm256_set1_ps(dmin * static_cast<float>(unpacked[8 + j]));
      if (j % 2 == 0) {
        acc0 = fma_codes(codes, factor, offset, x + 32 * j, acc0);
      } else {
        acc1 = fma_codes(codes, factor, offset, x + 32 * j, acc1);
      }
    }
  }
  return reduce(_mm256_add_ps(acc0, acc1));
}

XPUSIM_AVX2 float dot_q6_k(const uint8_t* row, const float* x, int64_t blocks, float) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (int64_t s = 0; s < blocks; ++s, row += kquant::kQ6KBytes, x += 256) {
    const float d = half_at(row + 208);
    const auto* scales = reinterpret_cast<const int8_t*>(row + 192);
    for (int64_t j = 0; j < 8; ++j) {
      const __m256i codes = kq_q6_k_codes(row, j);
      // value = d sc (code - 32): factor d sc, offset 32 d sc; the two 16-value halves have their own sc.
      for (int h = 0; h < 2; ++h) {
        const float factor = d * static_cast<float>(scales[2 * j + h]);
        const __m128i bytes = h == 0 ? _mm256_castsi256_si128(codes) : _mm256_extracti128_si256(codes, 1);
        for (int part = 0; part < 2; ++part) {
          const __m256 values =
              _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(part == 0 ? bytes : _mm_srli_si128(bytes, 8)));
          const __m256 w = _mm256_fmsub_ps(values, _mm256_set1_ps(factor), _mm256_set1_ps(32.0f * factor));
          if (part == 0) {
            acc0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 32 * j + 16 * h), acc0);
          } else {
            acc1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + 32 * j + 16 * h + 8), acc1);
          }
        }
      }
    }
  }
  return reduce(_mm256_add_ps(acc0, acc1));
}

// Q4_0 / Q8_0 rows against fp32 activations in dot_f32's order (a 32-element block is one of its steps:
// acc0..3 take elements 0-7, 8-15, 16-23, 24-31) from values decoded as fast_decode does (code x d, exact in
// fp32), so the result equals decode + dot_f32 bit for bit. The LM head runs with fp32 activations: without
// these, the Q8_0 / Q4_0 heads of the GGUFs people download decoded every row into a scratch buffer first.
template <int kBlockBytes, void (*kDecode)(const uint8_t*, __m256 (&)[4])>
XPUSIM_AVX2 inline float dot_blocks_in_f32_order(const uint8_t* row, const float* x, int64_t blocks) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t b = 0; b < blocks; ++b, row += kBlockBytes, x += 32) {
    __m256 w[4];
    kDecode(row, w);
    for (int part = 0; part < 4; ++part)
      acc[part] = _mm256_fmadd_ps(_mm256_loadu_ps(x + 8 * part), w[part], acc[part]);
  }
  return reduce(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

// Q8_0: f16 d, 32 int8; element = q * d.
XPUSIM_AVX2 inline void q8_0_values(const uint8_t* block, __m256 (&w)[4]) {
  const __m256 d = _mm256_set1_ps(half_at(block));
  for (int part = 0; part < 4; ++part) {
    const __m128i codes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(block + 2 + 8 * part));
    w[part] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(codes)), d);
  }
}

// Q4_0: f16 d, 16 bytes; element j < 16 = (low nibble of byte j - 8) d, element j + 16 = (high nibble - 8) d.
XPUSIM_AVX2 inline void q4_0_values(const uint8_t* block, __m256 (&w)[4]) {
  const __m256 d = _mm256_set1_ps(half_at(block));
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
  const __m128i low = _mm_and_si128(bytes, _mm_set1_epi8(0x0F));
  const __m128i high = _mm_and_si128(_mm_srli_epi16(bytes, 4), _mm_set1_epi8(0x0F));
  const __m128i parts[4] = {low, _mm_srli_si128(low, 8), high, _mm_srli_si128(high, 8)};
  for (int part = 0; part < 4; ++part) {
    const __m256i codes = _mm256_sub_epi32(_mm256_cvtepu8_epi32(parts[part]), _mm256_set1_epi32(8));
    w[part] = _mm256_mul_ps(_mm256_cvtepi32_ps(codes), d);
  }
}

XPUSIM_AVX2 float dot_q8_0(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_blocks_in_f32_order<34, q8_0_values>(row, x, blocks);
}

XPUSIM_AVX2 float dot_q4_0(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_blocks_in_f32_order<18, q4_0_values>(row, x, blocks);
}

XPUSIM_AVX2 float fma_burst(int64_t iterations) {
  __m256 acc[kFmaBurstChains];
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int c = 0; c < kFmaBurstChains; ++c) acc[c] = _mm256_set1_ps(static_cast<float>(c));
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kFmaBurstChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  }
  __m256 sum = acc[0];
  for (int c = 1; c < kFmaBurstChains; ++c) sum = _mm256_add_ps(sum, acc[c]);
  return reduce(sum);
}

// Portable loops here: AVX2 machines spend little time packing relative to their slower GEMM.
void widen_bf16(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = static_cast<uint32_t>(src[i]) << 16;
    std::memcpy(dst + i, &bits, sizeof bits);
  }
}

void transpose16(const float* const* src, float* dst, int64_t dst_stride) {
  for (int64_t c = 0; c < 16; ++c) {
    for (int64_t r = 0; r < 16; ++r) dst[c * dst_stride + r] = src[r][c];
  }
}

XPUSIM_AVX2 void axpy(float a, const float* x, float* y, int64_t n) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

// kTokens tokens x 32 rows (columns [col, col + 32) of the panel); rows_here <= 32 are written.
template <int kTokens>
XPUSIM_AVX2 inline void micro_kernel(const float* x, int64_t ldx, const float* panel, int64_t depth, float* y,
                                     int64_t ldy, int64_t rows_here, bool accumulate) {
  __m256 acc[kTokens][4];
  alignas(32) float staging[kTokens][32];
#pragma GCC unroll 4
  for (int t = 0; t < kTokens; ++t) {
    for (int r = 0; r < 32; ++r) staging[t][r] = accumulate && r < rows_here ? y[t * ldy + r] : 0.0f;
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) acc[t][v] = _mm256_load_ps(&staging[t][8 * v]);
  }
  for (int64_t k = 0; k < depth; ++k) {
    const float* w = panel + k * kPanelRows;
    const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8), w2 = _mm256_loadu_ps(w + 16),
                 w3 = _mm256_loadu_ps(w + 24);
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) {
      const __m256 xv = _mm256_broadcast_ss(x + t * ldx + k);
      acc[t][0] = _mm256_fmadd_ps(w0, xv, acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(w1, xv, acc[t][1]);
      acc[t][2] = _mm256_fmadd_ps(w2, xv, acc[t][2]);
      acc[t][3] = _mm256_fmadd_ps(w3, xv, acc[t][3]);
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < kTokens; ++t) {
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) _mm256_store_ps(&staging[t][8 * v], acc[t][v]);
    for (int r = 0; r < rows_here; ++r) y[t * ldy + r] = staging[t][r];
  }
}

XPUSIM_AVX2 void gemm_panel(const float* x, int64_t ldx, int64_t tokens, const float* panel, int64_t depth,
                            float* y, int64_t ldy, int64_t rows, bool accumulate) {
  for (int64_t half = 0; half < kPanelRows && half < rows; half += 32) {
    const int64_t rows_here = rows - half < 32 ? rows - half : 32;
    int64_t t = 0;
    for (; t + 3 <= tokens; t += 3) {
      micro_kernel<3>(x + t * ldx, ldx, panel + half, depth, y + t * ldy + half, ldy, rows_here, accumulate);
    }
    if (tokens - t == 2) {
      micro_kernel<2>(x + t * ldx, ldx, panel + half, depth, y + t * ldy + half, ldy, rows_here, accumulate);
    } else if (tokens - t == 1) {
      micro_kernel<1>(x + t * ldx, ldx, panel + half, depth, y + t * ldy + half, ldy, rows_here, accumulate);
    }
  }
}

constexpr SimdKernels kAvx2 = {
    .name = "avx2",
    .vector_floats = 8,
    .exact_dots = false,
    .dot_f32 = dot_f32,
    .dot_q4_0 = dot_q4_0,
    .dot_q4_1 = nullptr,
    .dot_q8_0 = dot_q8_0,
    .dot_q4_k = dot_k_min<false>,
    .dot_q5_k = dot_k_min<true>,
    .dot_q6_k = dot_q6_k,
    .numerics_dot = no_numerics_dot,
    .q8_dots = {q8_dot_q4_0, q8_dot_q4_1, q8_dot_q8_0, nullptr, nullptr, nullptr, kq_dot_one<KqQ4K>,
                kq_dot_one<KqQ5K>, kq_dot_one<KqQ6K>, q8_dot_q5<false>, q8_dot_q5<true>, q8_dot_iq4_nl,
                q8_dot_iq4_xs, kq_dot_one<KqQ2K>, kq_dot_one<KqQ3K>},
    .q8_dot_rows = {},
    .q8_dot_tokens = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, kq_dot_tokens<KqQ4K>,
                      kq_dot_tokens<KqQ5K>, kq_dot_tokens<KqQ6K>, nullptr, nullptr, nullptr, nullptr,
                      kq_dot_tokens<KqQ2K>, kq_dot_tokens<KqQ3K>},
    .quantize_q8 = simd::quantize_q8,
    .dot_bf16 = dot_bf16,
    .dot_f16 = dot_f16,
    .fma_burst = fma_burst,
    .widen_bf16 = widen_bf16,
    .transpose16 = transpose16,
    .attend_keys = nullptr,
    .axpy = axpy,
    .gemm_panel = gemm_panel};

}  // namespace

const SimdKernels* simd_kernels_avx2() {
  __builtin_cpu_init();
  const bool ok =
      __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma");  // every AVX2 / AVX-512 CPU has F16C (not a clang 14 feature name)
  return ok ? &kAvx2 : nullptr;
}

}  // namespace xpusim::exec::simd

#else

namespace xpusim::exec::simd {
const SimdKernels* simd_kernels_avx2() { return nullptr; }
}  // namespace xpusim::exec::simd

#endif
