// AVX-512 kernels of the GGUF K-quants Q4_K / Q5_K / Q6_K (layouts: kquant_common.h).
//   * Integer dots (VNNI, Q8Kind::kQ4_K ...; activations in 32-blocks, element order): per 64 values one
//     vpdpbusd of the unsigned codes with the int8 activations, the int32 lanes times (weight scale x
//     activation scale) in one fp32 FMA. Q4_K / Q5_K: a 32-byte nibble chunk broadcast to both halves of a
//     register, the high half shifted by 4, gives two whole sub-blocks in element order, so the activations
//     load straight; the mins come from the activation block sums (dmin m (d_x sum q)). Q6_K: 64 ql bytes
//     give elements 0..63 (low nibbles) and 64..127 (high nibbles) of a half, the two qh bits are shifted
//     into bits 4-5 per 256-bit half; code - 32 as code q + 32 (-q) in a second vpdpbusd, exact in int32.
//   * Fused fp32 dots (the LM head, exact mode): every value decoded in registers with the decoder's own
//     fp32 operations (numerics/ggml_blocks.cpp) and multiplied in dot_exact's order (four accumulators over
//     64-value chunks, one fixed reduction), so each equals decode + dot_f32 bit for bit.
#include "exec/simd/avx512_common.h"
#include "exec/simd/kquant_common.h"
#include "numerics/ggml_blocks.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

namespace xpusim::exec::simd::avx512 {
namespace {

using kquant::kQ4KBytes;
using kquant::kQ5KBytes;
using kquant::kQ6KBytes;

#define XPUSIM_Q8 XPUSIM_AVX512_VNNI

XPUSIM_AVX512 inline float reduce256(__m256 v) {
  const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
  return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_movehdup_ps(sum2)));
}

// The 8 scales and 8 mins of a Q4_K / Q5_K super-block as fp32 (scales: lanes 0..7, mins: 8..15).
XPUSIM_AVX512 inline __m512 scales_mins(const uint8_t* packed) {
  uint8_t unpacked[16];
  kquant::unpack_scales_mins(packed, unpacked);
  return _mm512_cvtepi32_ps(
      _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(unpacked))));
}

// Codes of 32-value sub-blocks 2c (lanes 0..31) and 2c + 1 (lanes 32..63) from their 32 nibble bytes.
XPUSIM_Q8 inline __m512i nibble_chunk(const uint8_t* bytes) {
  const __m512i both = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes)));
  return _mm512_and_si512(_mm512_srlv_epi64(both, _mm512_setr_epi64(0, 0, 0, 0, 4, 4, 4, 4)),
                          _mm512_set1_epi8(0x0F));
}

// Lanes 0..7 = v[2c], lanes 8..15 = v[2c + 1] of the 8 per-sub-block factors in v.
XPUSIM_Q8 inline __m512 spread_pair_at(__m512 v, int c) {
  const __m512i index = _mm512_add_epi32(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                                         _mm512_set1_epi32(2 * c));
  return _mm512_permutexvar_ps(index, v);
}

// Q4_K (kFifthBit = false) and Q5_K: d sc_j d_x(j) sum(code q) per sub-block j, minus dmin m_j (d_x sum q).
}  // namespace

template <bool kFifthBit>
XPUSIM_Q8 float q8_dot_k_min(const uint8_t* row, const Q8Activations& x, float) {
  constexpr int64_t kBytes = kFifthBit ? kQ5KBytes : kQ4KBytes;
  constexpr int64_t kNibbles = kFifthBit ? 48 : 16;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m256 min_acc = _mm256_setzero_ps();
  const int8_t* q = x.q.data();
  const float* scale = x.scale.data();
  const float* sum = x.sum.data();
  for (int64_t s = 0; s < x.blocks / 8; ++s, row += kBytes, q += 256, scale += 8, sum += 8) {
    prefetch_stream(reinterpret_cast<const char*>(row), (kBytes + 63) / 64);
    const __m512 factors = scales_mins(row + 4);
    const __m256 block_scales = _mm256_mul_ps(
        _mm256_mul_ps(_mm512_castps512_ps256(factors), _mm256_set1_ps(half_at(row))), _mm256_loadu_ps(scale));
    const __m256 mins = _mm256_mul_ps(_mm512_extractf32x8_ps(factors, 1), _mm256_set1_ps(half_at(row + 2)));
    min_acc = _mm256_fmadd_ps(mins, _mm256_loadu_ps(sum), min_acc);
    const __m512 lanes = _mm512_castps256_ps512(block_scales);
    __m512i high_bits = _mm512_setzero_si512();
    if constexpr (kFifthBit)
      high_bits = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 16)));
    for (int c = 0; c < 4; ++c) {
      __m512i codes = nibble_chunk(row + kNibbles + 32 * c);
      if constexpr (kFifthBit) {
        // Bit 2c of qh for sub-block 2c (lanes 0..31), bit 2c + 1 for 2c + 1.
        const __m512i bit =
            _mm512_mask_blend_epi8(0xFFFFFFFF00000000ull, _mm512_set1_epi8(static_cast<char>(1 << (2 * c))),
                                   _mm512_set1_epi8(static_cast<char>(2 << (2 * c))));
        codes =
            _mm512_mask_add_epi8(codes, _mm512_test_epi8_mask(high_bits, bit), codes, _mm512_set1_epi8(0x10));
      }
      const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes, _mm512_loadu_si512(q + 64 * c));
      if (c % 2 == 0) {
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), spread_pair_at(lanes, c), acc0);
      } else {
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), spread_pair_at(lanes, c), acc1);
      }
    }
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) - reduce256(min_acc);
}

// Q6_K: int32 lane l of a 64-value step sums 4 values of one 16-value scale group; lanes times
// d sc[group] d_x(group / 2).
XPUSIM_Q8 float q8_dot_q6_k(const uint8_t* row, const Q8Activations& x, float) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  const int8_t* q = x.q.data();
  const float* scale = x.scale.data();
  const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30), offset = _mm512_set1_epi8(32);
  for (int64_t s = 0; s < x.blocks / 8; ++s, row += kQ6KBytes, q += 256, scale += 8) {
    prefetch_stream(reinterpret_cast<const char*>(row), 4);
    const __m512 group_scales =
        _mm512_mul_ps(_mm512_cvtepi32_ps(
                          _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 192)))),
                      _mm512_set1_ps(half_at(row + 208)));
    const __m512 activation =
        _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
                              _mm512_castps256_ps512(_mm256_loadu_ps(scale)));
    const __m512 lanes = _mm512_mul_ps(group_scales, activation);
    for (int half = 0; half < 2; ++half) {
      const __m512i ql = _mm512_loadu_si512(row + 64 * half);
      const __m512i qh =
          _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 128 + 32 * half)));
      // Elements 0..63: qh bits 0-1 (<< 4) and 2-3 (<< 2); elements 64..127: bits 4-5 and 6-7 (>> 2).
      const __m512i low_codes =
          _mm512_ternarylogic_epi64(_mm512_sllv_epi64(qh, _mm512_setr_epi64(4, 4, 4, 4, 2, 2, 2, 2)), bits45,
                                    _mm512_and_si512(ql, low4), 0xEA);
      const __m512i high_codes =
          _mm512_ternarylogic_epi64(_mm512_srlv_epi64(qh, _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2)), bits45,
                                    _mm512_and_si512(_mm512_srli_epi16(ql, 4), low4), 0xEA);
      for (int part = 0; part < 2; ++part) {
        const __m512i codes = part == 0 ? low_codes : high_codes;
        const __m512i activations = _mm512_loadu_si512(q + 128 * half + 64 * part);
        const __m512i sums =
            _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), codes, activations), offset,
                                _mm512_sub_epi8(_mm512_setzero_si512(), activations));
        const __m512i group =
            _mm512_add_epi32(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                             _mm512_set1_epi32(8 * half + 4 * part));
        const __m512 factor = _mm512_permutexvar_ps(group, lanes);
        if (part == 0) {
          acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), factor, acc0);
        } else {
          acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), factor, acc1);
        }
      }
    }
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

// Q5_0 / Q5_1, one block per step at 256 bits: 16 nibble bytes as codes of elements 0..15 and 16..31, the
// block's 32-bit qh used directly as the byte mask that adds the fifth bit.
template <bool kQ5_1>
XPUSIM_Q8 float q8_dot_q5(const uint8_t* row, const Q8Activations& x, float) {
  constexpr int64_t kBytes = kQ5_1 ? 24 : 22, kHead = kQ5_1 ? 4 : 2;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  float offsets = 0.0f;
  const int8_t* q = x.q.data();
  for (int64_t b = 0; b < x.blocks; ++b, row += kBytes, q += 32) {
    if (b % 2 == 0) prefetch_stream(reinterpret_cast<const char*>(row), 1);
    uint32_t high_bits;
    std::memcpy(&high_bits, row + kHead, 4);
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + kHead + 4));
    const __m256i nibbles =
        _mm256_and_si256(_mm256_inserti128_si256(_mm256_castsi128_si256(raw), _mm_srli_epi16(raw, 4), 1),
                         _mm256_set1_epi8(0x0F));
    const __m256i codes = _mm256_mask_add_epi8(nibbles, high_bits, nibbles, _mm256_set1_epi8(0x10));
    const __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), codes,
                                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
    const float d = half_at(row);
    const __m256 scale = _mm256_set1_ps(d * x.scale[static_cast<size_t>(b)]);
    if (b % 2 == 0) {
      acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), scale, acc0);
    } else {
      acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), scale, acc1);
    }
    offsets += (kQ5_1 ? half_at(row + 2) : -16.0f * d) * x.sum[static_cast<size_t>(b)];
  }
  return reduce256(_mm256_add_ps(acc0, acc1)) + offsets;
}

// IQ4_NL / IQ4_XS, one 32-value block per step at 256 bits: grid value + 128 (unsigned, vpshufb) times q in
// vpdpbusd, the 128 taken back with a second vpdpbusd of 128 with -q.
namespace {
XPUSIM_Q8 inline __m256i iq4_sums(const uint8_t* nibbles, const int8_t* q) {
  alignas(16) static constexpr auto kOffsetGrid = [] {
    struct Grid {
      uint8_t bytes[16];
    } grid{};
    for (int i = 0; i < 16; ++i) grid.bytes[i] = static_cast<uint8_t>(numerics::ggml::kIq4NlValues[i] + 128);
    return grid;
  }();
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(nibbles));
  const __m256i codes =
      _mm256_and_si256(_mm256_inserti128_si256(_mm256_castsi128_si256(raw), _mm_srli_epi16(raw, 4), 1),
                       _mm256_set1_epi8(0x0F));
  const __m256i w = _mm256_shuffle_epi8(
      _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(kOffsetGrid.bytes))),
      codes);
  const __m256i activations = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
  const __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), w, activations);
  return _mm256_dpbusd_epi32(sums, _mm256_set1_epi8(static_cast<char>(0x80)),
                             _mm256_sub_epi8(_mm256_setzero_si256(), activations));
}
}  // namespace
XPUSIM_Q8 float q8_dot_iq4_nl(const uint8_t* row, const Q8Activations& x, float) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (int64_t b = 0; b < x.blocks; ++b, row += 18) {
    if (b % 4 == 0) prefetch_stream(reinterpret_cast<const char*>(row), 2);
    const __m256 scale = _mm256_set1_ps(half_at(row) * x.scale[static_cast<size_t>(b)]);
    const __m256 sums = _mm256_cvtepi32_ps(iq4_sums(row + 2, x.q.data() + 32 * b));
    if (b % 2 == 0) {
      acc0 = _mm256_fmadd_ps(sums, scale, acc0);
    } else {
      acc1 = _mm256_fmadd_ps(sums, scale, acc1);
    }
  }
  return reduce256(_mm256_add_ps(acc0, acc1));
}
XPUSIM_Q8 float q8_dot_iq4_xs(const uint8_t* row, const Q8Activations& x, float) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (int64_t s = 0; s < x.blocks / 8; ++s, row += kquant::kIq4XsBytes) {
    prefetch_stream(reinterpret_cast<const char*>(row), 3);
    const float d = half_at(row);
    for (int ib = 0; ib < 8; ++ib) {
      const int64_t b = 8 * s + ib;
      const __m256 scale = _mm256_set1_ps(d * static_cast<float>(kquant::iq4_xs_scale(row, ib)) *
                                          x.scale[static_cast<size_t>(b)]);
      const __m256 sums = _mm256_cvtepi32_ps(iq4_sums(row + 8 + 16 * ib, x.q.data() + 32 * b));
      if (ib % 2 == 0) {
        acc0 = _mm256_fmadd_ps(sums, scale, acc0);
      } else {
        acc1 = _mm256_fmadd_ps(sums, scale, acc1);
      }
    }
  }
  return reduce256(_mm256_add_ps(acc0, acc1));
}

// Q2_K / Q3_K one-row dots and their multi-token kernels (prefill): the AVX2 level's 256-bit kernels,
// compiled for this level. (Q4_K / Q5_K / Q6_K keep the 512-bit one-row dots above and no multi-token
// kernel.)
namespace {
#define XPUSIM_KQ_TARGET XPUSIM_AVX512_VNNI
#include "exec/simd/kquant_kernels.inc"
#undef XPUSIM_KQ_TARGET
}  // namespace

XPUSIM_Q8 float q8_dot_q2_k(const uint8_t* row, const Q8Activations& x, float tensor_factor) {
  return kq_dot_one<KqQ2K>(row, x, tensor_factor);
}
XPUSIM_Q8 float q8_dot_q3_k(const uint8_t* row, const Q8Activations& x, float tensor_factor) {
  return kq_dot_one<KqQ3K>(row, x, tensor_factor);
}
XPUSIM_Q8 void q8_dot_tokens_q2_k(const uint8_t* row, const Q8Activations* const* x, int64_t tokens,
                                  float tensor_factor, float* out, int64_t out_stride) {
  kq_dot_tokens<KqQ2K>(row, x, tokens, tensor_factor, out, out_stride);
}
XPUSIM_Q8 void q8_dot_tokens_q3_k(const uint8_t* row, const Q8Activations* const* x, int64_t tokens,
                                  float tensor_factor, float* out, int64_t out_stride) {
  kq_dot_tokens<KqQ3K>(row, x, tokens, tensor_factor, out, out_stride);
}

template float q8_dot_k_min<false>(const uint8_t*, const Q8Activations&, float);
template float q8_dot_k_min<true>(const uint8_t*, const Q8Activations&, float);
template float q8_dot_q5<false>(const uint8_t*, const Q8Activations&, float);
template float q8_dot_q5<true>(const uint8_t*, const Q8Activations&, float);

// ---- fused fp32 dots, exact ----

namespace {

// Rows of super-blocks in dot_exact's order: kDecode writes the 256 values as 16 vectors.
template <int64_t kBytes, void (*kDecode)(const uint8_t*, __m512*)>
XPUSIM_AVX512 inline float dot_superblocks_exact(const uint8_t* row, const float* x, int64_t blocks) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int64_t s = 0; s < blocks; ++s, row += kBytes, x += 256) {
    prefetch_stream(reinterpret_cast<const char*>(row), (kBytes + 63) / 64);
    __m512 w[16];
    kDecode(row, w);
    for (int i = 0; i < 16; ++i) acc[i % 4] = _mm512_fmadd_ps(_mm512_loadu_ps(x + 16 * i), w[i], acc[i % 4]);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

// Q4_K / Q5_K values d1 * code - m1 with d1 = d * sc, m1 = dmin * m, each operation rounded as the decoder's
// (explicit-rounding intrinsics: never contracted into an FMA).
template <bool kFifthBit>
XPUSIM_AVX512 inline void decode_k_min(const uint8_t* block, __m512* w) {
  constexpr int64_t kNibbles = kFifthBit ? 48 : 16;
  uint8_t unpacked[16];
  kquant::unpack_scales_mins(block + 4, unpacked);
  const float d = half_at(block), dmin = half_at(block + 2);
  for (int c = 0; c < 4; ++c) {
    for (int k = 0; k < 2; ++k) {  // values 16k..16k+15 of sub-blocks 2c and 2c + 1
      const __m512i bytes = _mm512_cvtepu8_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + kNibbles + 32 * c + 16 * k)));
      __m512i low = _mm512_and_si512(bytes, _mm512_set1_epi32(0x0F));
      __m512i high = _mm512_srli_epi32(bytes, 4);
      if constexpr (kFifthBit) {
        const __m512i qh =
            _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 + 16 * k)));
        low = _mm512_or_si512(low, _mm512_and_si512(_mm512_slli_epi32(_mm512_srli_epi32(qh, 2 * c), 4),
                                                    _mm512_set1_epi32(0x10)));
        high = _mm512_or_si512(high, _mm512_and_si512(_mm512_slli_epi32(_mm512_srli_epi32(qh, 2 * c + 1), 4),
                                                      _mm512_set1_epi32(0x10)));
      }
      for (int j = 0; j < 2; ++j) {
        const int sub = 2 * c + j;
        const float d1 = d * static_cast<float>(unpacked[sub]);
        const float m1 = dmin * static_cast<float>(unpacked[8 + sub]);
        w[4 * c + 2 * j + k] = _mm512_sub_round_ps(
            _mm512_mul_round_ps(_mm512_set1_ps(d1), _mm512_cvtepi32_ps(j == 0 ? low : high), kRound),
            _mm512_set1_ps(m1), kRound);
      }
    }
  }
}

// Q6_K values (d * sc) * (code - 32), as the decoder.
XPUSIM_AVX512 inline void decode_q6_k(const uint8_t* block, __m512* w) {
  const float d = half_at(block + 208);
  const auto* scales = reinterpret_cast<const int8_t*>(block + 192);
  for (int half = 0; half < 2; ++half) {
    for (int k = 0; k < 2; ++k) {  // values 16k..16k+15 of each quarter
      const __m512i qh = _mm512_cvtepu8_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 128 + 32 * half + 16 * k)));
      for (int quarter = 0; quarter < 4; ++quarter) {
        const __m512i ql = _mm512_cvtepu8_epi32(_mm_loadu_si128(
            reinterpret_cast<const __m128i*>(block + 64 * half + 32 * (quarter % 2) + 16 * k)));
        const __m512i low =
            _mm512_and_si512(_mm512_srli_epi32(ql, 4 * (quarter / 2)), _mm512_set1_epi32(0x0F));
        const __m512i high = _mm512_and_si512(_mm512_srli_epi32(qh, 2 * quarter), _mm512_set1_epi32(3));
        const __m512i code =
            _mm512_sub_epi32(_mm512_or_si512(low, _mm512_slli_epi32(high, 4)), _mm512_set1_epi32(32));
        const int e = 128 * half + 32 * quarter + 16 * k;  // first element
        const float factor = d * static_cast<float>(scales[e / 16]);
        w[e / 16] = _mm512_mul_round_ps(_mm512_set1_ps(factor), _mm512_cvtepi32_ps(code), kRound);
      }
    }
  }
}

}  // namespace

XPUSIM_AVX512 float dot_q4_k(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_superblocks_exact<kQ4KBytes, decode_k_min<false>>(row, x, blocks);
}
XPUSIM_AVX512 float dot_q5_k(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_superblocks_exact<kQ5KBytes, decode_k_min<true>>(row, x, blocks);
}
XPUSIM_AVX512 float dot_q6_k(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_superblocks_exact<kQ6KBytes, decode_q6_k>(row, x, blocks);
}

}  // namespace xpusim::exec::simd::avx512

#endif
