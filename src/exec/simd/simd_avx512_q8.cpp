// AVX-512 VNNI integer dots (simd_kernels.h: Q8Dot): weight codes as unsigned bytes times int8 activations
// with vpdpbusd, 64 values per instruction, one fp32 FMA per 64 or 128 values with the per-block scales
// (weight scale x activation scale, spread over the block's int32 lanes). Signed weight codes are made
// unsigned by an offset o (q8_0: code ^ 0x80 = value + 128; E2M1 x 2 + 12) taken back exactly in int32 by a
// second vpdpbusd of o with -q (|q| <= 127, so -q fits); q4_0's "-8" is taken back in fp32 with the block
// sums (8 d_w d_x sum q). The int32 sums are exact: only the activation rounding and the fp32 scale
// products differ from the fp32 dots (tolerance: simd_kernels.h).
// q4_0 / q4_1 go four blocks at a time: one two-source byte permute (VBMI) gathers their 4 x 16 nibble
// bytes from 72 / 80 bytes of row, matching Q8Order::kNibbleQuads.
#include "exec/simd/avx512_common.h"
#include "numerics/scalar_codecs.h"

#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

namespace xpusim::exec::simd::avx512 {
namespace {

#define XPUSIM_Q8 XPUSIM_AVX512_VNNI

// 16 nibble bytes of blocks a and b as unsigned bytes: lanes [a low nibbles, a high, b low, b high].
XPUSIM_Q8 inline __m512i nibble_pair(const uint8_t* a, const uint8_t* b) {
  const __m256i ab =
      _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a))),
                              _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)), 1);
  const __m512i both =
      _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3), _mm512_castsi256_si512(ab));
  return _mm512_and_si512(_mm512_srlv_epi64(both, _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4)),
                          _mm512_set1_epi8(0x0F));
}

// Lanes 0..7 = v[0], lanes 8..15 = v[1].
XPUSIM_Q8 inline __m512 spread_pair(__m128 v) {
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                               _mm512_castps128_ps512(v));
}
// Lanes 4i..4i+3 = v[i].
XPUSIM_Q8 inline __m512 spread_quad(__m128 v) {
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                               _mm512_castps128_ps512(v));
}

// Two consecutive floats (one for a tail) as [p[0], p[1], 0, 0].
template <bool kTail>
XPUSIM_Q8 inline __m128 two_floats(const float* p) {
  return _mm_maskz_loadu_ps(kTail ? 0x1 : 0x3, p);
}

// fp16 values at a and b as [f(a), f(b), 0, 0].
XPUSIM_Q8 inline __m128 two_halves(const uint8_t* a, const uint8_t* b) {
  uint16_t ha, hb;
  std::memcpy(&ha, a, 2);
  std::memcpy(&hb, b, 2);
  return _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(ha | (static_cast<uint32_t>(hb) << 16))));
}

// acc += int32 sums x scale, only the first block's lanes for a tail.
template <bool kTail>
XPUSIM_Q8 inline __m512 accumulate(__m512i sums, __m512 scale, __m512 acc) {
  return kTail ? _mm512_mask3_fmadd_ps(_mm512_cvtepi32_ps(sums), scale, acc, 0x00FF)
               : _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), scale, acc);
}

template <bool kTail>
XPUSIM_Q8 inline __m512i load_q(const int8_t* q) {
  return kTail ? _mm512_maskz_loadu_epi8(0xFFFFFFFFull, q) : _mm512_loadu_si512(q);
}

// sum(w * q) - offset * sum(q) per 4-lane group.
XPUSIM_Q8 inline __m512i offset_dot(__m512i w, __m512i q, char offset) {
  const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w, q);
  return _mm512_dpbusd_epi32(sums, _mm512_set1_epi8(offset), _mm512_sub_epi8(_mm512_setzero_si512(), q));
}

// Four ggml 4-bit blocks (kBytes each, kHead bytes of fp16 scales first): the int32 sums of nibble x q
// (lanes 4i..4i+3: block i) and the blocks' fp16 head values [d0..d3] (and [m0..m3] for q4_1) as fp32.
template <int kBytes, int kHead>
XPUSIM_Q8 inline __m512i nibble_quad(const uint8_t* row, const int8_t* q, __m256& heads) {
  const __m512i first = _mm512_loadu_si512(row);
  const __m512i second = _mm512_maskz_loadu_epi8((1ull << (4 * kBytes - 64)) - 1, row + 64);
  alignas(64) static constexpr auto kIndex = [] {
    struct Index {
      uint8_t bytes[64];
    } index{};
    for (int i = 0; i < 4; ++i)
      for (int k = 0; k < 16; ++k) index.bytes[16 * i + k] = static_cast<uint8_t>(kBytes * i + kHead + k);
    return index;
  }();
  alignas(64) static constexpr auto kHeadIndex = [] {
    struct Index {
      uint8_t bytes[64];
    } index{};
    for (int h = 0; h < kHead / 2; ++h)
      for (int i = 0; i < 4; ++i) {
        index.bytes[8 * h + 2 * i] = static_cast<uint8_t>(kBytes * i + 2 * h);
        index.bytes[8 * h + 2 * i + 1] = static_cast<uint8_t>(kBytes * i + 2 * h + 1);
      }
    return index;
  }();
  const __m512i nibbles = _mm512_permutex2var_epi8(first, _mm512_load_si512(kIndex.bytes), second);
  const __m512i low = _mm512_and_si512(nibbles, _mm512_set1_epi8(0x0F));
  const __m512i high = _mm512_and_si512(_mm512_srli_epi16(nibbles, 4), _mm512_set1_epi8(0x0F));
  const __m512i sums =
      _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), low, _mm512_loadu_si512(q)), high,
                          _mm512_loadu_si512(q + 64));
  heads = _mm256_cvtph_ps(
      _mm512_castsi512_si128(_mm512_permutexvar_epi8(_mm512_load_si512(kHeadIndex.bytes), first)));
  return sums;
}

// q4_0 (18-byte blocks: fp16 d, 16 nibble bytes; value (n - 8) d) and q4_1 (20 bytes: fp16 d, fp16 m;
// value n d + m): d d_x sum(n q) per block, plus per block -8 d (d_x sum q) or m (d_x sum q).
template <bool kQ4_1>
struct Q4Kernel {
  static constexpr int kBytes = kQ4_1 ? 20 : 18, kHead = kQ4_1 ? 4 : 2;
  static constexpr int64_t kQuadBytes = 4 * kBytes;
  struct State {
    __m512 acc;
    __m128 offset_acc;
  };
  XPUSIM_Q8 static State start() { return {_mm512_setzero_ps(), _mm_setzero_ps()}; }
  XPUSIM_Q8 static void quad(const uint8_t* row, const int8_t* q, const float* scale, const float* sum, float,
                             State& s) {
    __m256 heads;
    const __m512i sums = nibble_quad<kBytes, kHead>(row, q, heads);
    const __m128 d = _mm256_castps256_ps128(heads);
    s.acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), spread_quad(_mm_mul_ps(d, _mm_loadu_ps(scale))), s.acc);
    s.offset_acc = _mm_fmadd_ps(kQ4_1 ? _mm256_extractf128_ps(heads, 1) : d, _mm_loadu_ps(sum), s.offset_acc);
  }
  // The last 1..3 blocks (element order): two at a time, then one.
  XPUSIM_Q8 static float finish(const uint8_t* row, const int8_t* q, const float* scale, const float* sum,
                                int64_t blocks, float, State& s) {
    for (int64_t b = 0; b < blocks; b += 2, row += 2 * kBytes, q += 64) {
      const bool tail = b + 1 == blocks;
      const uint8_t* next = tail ? row : row + kBytes;
      const __m512i codes = tail ? _mm512_maskz_loadu_epi8(0xFFFFFFFFull, q) : _mm512_loadu_si512(q);
      const __m512i sums =
          _mm512_dpbusd_epi32(_mm512_setzero_si512(), nibble_pair(row + kHead, next + kHead), codes);
      const __m128 d = two_halves(row, next);
      const __m128 x_scale = tail ? two_floats<true>(scale + b) : two_floats<false>(scale + b);
      const __m128 x_sum = tail ? two_floats<true>(sum + b) : two_floats<false>(sum + b);
      const __m128 scales = _mm_mul_ps(d, x_scale);
      s.acc = tail ? accumulate<true>(sums, spread_pair(scales), s.acc)
                   : accumulate<false>(sums, spread_pair(scales), s.acc);
      s.offset_acc = _mm_fmadd_ps(kQ4_1 ? two_halves(row + 2, next + 2) : d, x_sum, s.offset_acc);
    }
    const __m128 pairs = _mm_add_ps(s.offset_acc, _mm_movehl_ps(s.offset_acc, s.offset_acc));
    const float offsets = _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)));
    return _mm512_reduce_add_ps(s.acc) + (kQ4_1 ? offsets : -8.0f * offsets);
  }
};

// q8_0: fp16 d, 32 int8 codes; code ^ 0x80 = value + 128.
template <bool kTail>
XPUSIM_Q8 inline __m512 q8_0_pair(const uint8_t* row, const int8_t* q, const float* scale, __m512 acc) {
  const uint8_t* b = kTail ? row : row + 34;
  const __m512i codes = _mm512_inserti64x4(
      _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2))),
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2)), 1);
  const __m512i sums = offset_dot(_mm512_xor_si512(codes, _mm512_set1_epi8(static_cast<char>(0x80))),
                                  load_q<kTail>(q), static_cast<char>(0x80));
  const __m128 scales = _mm_mul_ps(two_halves(row, b), two_floats<kTail>(scale));
  return accumulate<kTail>(sums, spread_pair(scales), acc);
}

// E2M1 x 2 + 12 as unsigned bytes (vpshufb table, per 128-bit lane).
XPUSIM_Q8 inline __m512i e2m1_offset_table() {
  return _mm512_broadcast_i32x4(_mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
}

// E2M1 x 2 + 12 of the low and of the high nibble of every byte. vpermb reads the low 6 bits of an index
// byte and the table repeats its 16 values four times, so nothing needs masking: bits 4-5 of the low nibble's
// index are don't-cares, and so are the neighbour's bits that a 16-bit shift brings in above the high nibble.
XPUSIM_Q8 inline void e2m1_offset_nibbles(__m512i bytes, __m512i& low, __m512i& high) {
  const __m512i table = e2m1_offset_table();
  low = _mm512_permutexvar_epi8(bytes, table);
  high = _mm512_permutexvar_epi8(_mm512_srli_epi16(bytes, 4), table);
}

// mxfp4: E8M0 scale byte, 16 interleaved nibble bytes (activations in the tail order of
// Q8Order::kEvenThenOddQuads); value = E2M1 * 2^(e - 127) = (2 E2M1) * 2^(e - 127) / 2, the / 2 taken once
// per row (exact).
template <bool kTail>
XPUSIM_Q8 inline __m512 mxfp4_pair(const uint8_t* row, const int8_t* q, const float* scale, __m512 acc) {
  const uint8_t* b = kTail ? row : row + 17;
  const __m512i w = _mm512_shuffle_epi8(e2m1_offset_table(), nibble_pair(row + 1, b + 1));
  const __m512i sums = offset_dot(w, load_q<kTail>(q), 12);
  const __m128 weight_scales = _mm_setr_ps(e8m0_value(row[0]), e8m0_value(b[0]), 0.0f, 0.0f);
  const __m128 scales = _mm_mul_ps(weight_scales, two_floats<kTail>(scale));
  return accumulate<kTail>(sums, spread_pair(scales), acc);
}

// 2^(e - 127) of four E8M0 codes (int32 lanes), as e8m0_value: 0 -> 2^-127, 0xFF -> NaN.
XPUSIM_Q8 inline __m128 e8m0_values4(__m128i codes) {
  // Codes 1..254 give bits >= 0x00800000; 0 gives 0, raised to 2^-127's 0x00400000 by the max.
  __m128i bits = _mm_max_epi32(_mm_slli_epi32(codes, 23), _mm_set1_epi32(0x00400000));
  bits =
      _mm_mask_mov_epi32(bits, _mm_cmpeq_epi32_mask(codes, _mm_set1_epi32(0xFF)), _mm_set1_epi32(0x7FC00000));
  return _mm_castsi128_ps(bits);
}

// mxfp4, four blocks (68 bytes) per step (Q8Order::kEvenThenOddQuads): one vpermt2b gathers the 4 x 16
// nibble bytes, a vpermb the 4 scale bytes. Per block s d_x sum((2 E2M1 + 12) q) - 12 s (d_x sum q), the
// row's total halved at the end.
struct Mxfp4Kernel {
  static constexpr int64_t kQuadBytes = 68;
  using State = Q4Kernel<false>::State;
  XPUSIM_Q8 static State start() { return {_mm512_setzero_ps(), _mm_setzero_ps()}; }
  XPUSIM_Q8 static void quad(const uint8_t* row, const int8_t* q, const float* scale, const float* sum, float,
                             State& s) {
    alignas(64) static constexpr auto kIndex = [] {
      struct Index {
        uint8_t bytes[64];
      } index{};
      for (int i = 0; i < 4; ++i)
        for (int k = 0; k < 16; ++k) index.bytes[16 * i + k] = static_cast<uint8_t>(17 * i + 1 + k);
      return index;
    }();
    const __m512i scale_index = _mm512_setr_epi32(0, 17, 34, 51, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i first = _mm512_loadu_si512(row);
    const __m512i second = _mm512_maskz_loadu_epi8(0xF, row + 64);
    __m512i low, high;
    e2m1_offset_nibbles(_mm512_permutex2var_epi8(first, _mm512_load_si512(kIndex.bytes), second), low, high);
    const __m512i sums =
        _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), low, _mm512_loadu_si512(q)), high,
                            _mm512_loadu_si512(q + 64));
    const __m128 block_scales =
        e8m0_values4(_mm512_castsi512_si128(_mm512_maskz_permutexvar_epi8(0x1111, scale_index, first)));
    s.acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums),
                            spread_quad(_mm_mul_ps(block_scales, _mm_loadu_ps(scale))), s.acc);
    s.offset_acc = _mm_fmadd_ps(block_scales, _mm_loadu_ps(sum), s.offset_acc);
  }
  // The last 1..3 blocks (each its even elements, then its odd ones): two at a time, then one.
  XPUSIM_Q8 static float finish(const uint8_t* row, const int8_t* q, const float* scale, const float*,
                                int64_t blocks, float, State& s) {
    for (int64_t b = 0; b < blocks; b += 2, row += 34, q += 64) {
      if (b + 1 == blocks) {
        s.acc = mxfp4_pair<true>(row, q, scale + b, s.acc);
      } else {
        s.acc = mxfp4_pair<false>(row, q, scale + b, s.acc);
      }
    }
    const __m128 pairs = _mm_add_ps(s.offset_acc, _mm_movehl_ps(s.offset_acc, s.offset_acc));
    return 0.5f *
           (_mm512_reduce_add_ps(s.acc) - 12.0f * _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs))));
  }
};

// E4M3 codes (int32 lanes, 0..255) as fp32, equal to numerics' decode table: the 7 magnitude bits moved
// to fp32's exponent / mantissa position read as a float 2^-120 times the E4M3 value (its subnormals land
// on fp32 subnormals), one exact multiply by 2^120 rebiases, the sign goes on top, 0x7F / 0xFF are NaN.
// Replaces a gather from the table (the slowest step of the nvfp4 dot).
XPUSIM_Q8 inline __m256 e4m3_values8(__m256i codes) {
  const __m256i magnitude = _mm256_and_si256(codes, _mm256_set1_epi32(0x7F));
  const __m256 unsigned_value =
      _mm256_mul_ps(_mm256_castsi256_ps(_mm256_slli_epi32(magnitude, 20)), _mm256_set1_ps(0x1p120f));
  // The code's sign bit (bit 7, at bit 31 after << 24) on top: (a & c) | b in one ternary-logic op.
  const __m256i bits =
      _mm256_ternarylogic_epi32(_mm256_slli_epi32(codes, 24), _mm256_castps_si256(unsigned_value),
                                _mm256_set1_epi32(static_cast<int>(0x80000000u)), 0xEC);
  return _mm256_castsi256_ps(_mm256_mask_mov_epi32(
      bits, _mm256_cmpeq_epi32_mask(magnitude, _mm256_set1_epi32(0x7F)), _mm256_set1_epi32(0x7FC00000)));
}

// nvfp4 family (E4M3 scale byte + 8 interleaved nibble bytes per 16 values; Q8Order::kEvenThenOddQuads,
// whose 32-value order puts the even elements of a block's two 16-halves first). Per 128 values (8 blocks,
// 72 bytes): one vpermt2b gathers the 8 x 8 nibble bytes, int32 lane l sums block l / 2, the scale bytes are
// gathered by vpermb and decoded in registers (e4m3_values8). The E2M1 offset (12) is taken back in
// int32 (the activation sums are per 32 values, the scales per 16).
XPUSIM_Q8 inline __m512 nvfp4_octet(const uint8_t* row, const int8_t* q, const int32_t* offsets,
                                    const float* activation, __m512 acc) {
  alignas(64) static constexpr auto kIndex = [] {
    struct Index {
      uint8_t bytes[64];
    } index{};
    for (int i = 0; i < 8; ++i)
      for (int k = 0; k < 8; ++k) index.bytes[8 * i + k] = static_cast<uint8_t>(9 * i + 1 + k);
    return index;
  }();
  const __m512i first = _mm512_loadu_si512(row);
  const __m512i second = _mm512_maskz_loadu_epi8(0xFF, row + 64);
  __m512i low, high;
  e2m1_offset_nibbles(_mm512_permutex2var_epi8(first, _mm512_load_si512(kIndex.bytes), second), low, high);
  const __m512i sums =
      _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_loadu_si512(offsets), low, _mm512_loadu_si512(q)), high,
                          _mm512_loadu_si512(q + 64));
  const __m512i scale_index = _mm512_setr_epi32(0, 9, 18, 27, 36, 45, 54, 63, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i codes = _mm512_castsi512_si256(_mm512_maskz_permutexvar_epi8(0x11111111, scale_index, first));
  const __m512 lanes = _mm512_permutexvar_ps(
      _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
      _mm512_castps256_ps512(_mm256_mul_ps(e4m3_values8(codes), _mm256_loadu_ps(activation))));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), lanes, acc);
}

// The token's part of every nvfp4 octet, computed once per call instead of once per row: per octet the
// int32 lanes' E2M1 offset terms -12 sum(q) (the same integers the offset dot adds) and the 8 activation
// factors d_x(block / 2) * tensor_factor / 2 (the same fp32 products).
struct Nvfp4Prepared {
  const int32_t* offsets = nullptr;   // 16 per octet
  const float* activation = nullptr;  // 8 per octet
};
XPUSIM_Q8 inline Nvfp4Prepared prepare_nvfp4(const Q8Activations& x, float tensor_factor) {
  thread_local std::vector<int32_t> offsets;
  thread_local std::vector<float> activation;
  const int64_t octets = x.blocks / 4;
  offsets.resize(static_cast<size_t>(16 * octets));
  activation.resize(static_cast<size_t>(8 * octets));
  const __m512i twelve = _mm512_set1_epi8(12), zero = _mm512_setzero_si512();
  for (int64_t o = 0; o < octets; ++o) {
    const int8_t* q = x.q.data() + 128 * o;
    const __m512i sums =
        _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, twelve, _mm512_sub_epi8(zero, _mm512_loadu_si512(q))),
                            twelve, _mm512_sub_epi8(zero, _mm512_loadu_si512(q + 64)));
    _mm512_storeu_si512(offsets.data() + 16 * o, sums);
    const __m256 factors =
        _mm256_mul_ps(_mm256_permutexvar_ps(_mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3),
                                            _mm256_castps128_ps256(_mm_loadu_ps(x.scale.data() + 4 * o))),
                      _mm256_set1_ps(0.5f * tensor_factor));
    _mm256_storeu_ps(activation.data() + 8 * o, factors);
  }
  return {offsets.data(), activation.data()};
}

// The last 1..3 activation blocks of an nvfp4 row, two at a time (4 blocks of 16, 36 bytes): 128-bit lane 0
// holds the low nibbles (even elements) of 16-blocks 0 and 1, lane 1 their high nibbles, lanes 2-3 the same
// for blocks 2 and 3 (the tail order of Q8Order::kEvenThenOddQuads).
template <bool kTail>
XPUSIM_Q8 inline __m512 nvfp4_pair(const uint8_t* row, const int8_t* q, const float* scale, __m512 acc,
                                   float tensor_factor) {
  const __m512i bytes = _mm512_maskz_loadu_epi8(kTail ? 0x3FFFFull : 0xFFFFFFFFFull, row);
  alignas(64) static constexpr uint8_t kNibbleIndex[64] = {
      1,  2,  3,  4,  5,  6,  7,  8,  10, 11, 12, 13, 14, 15, 16, 17, 1,  2,  3,  4,  5,  6,
      7,  8,  10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24, 25, 26, 28, 29, 30, 31,
      32, 33, 34, 35, 19, 20, 21, 22, 23, 24, 25, 26, 28, 29, 30, 31, 32, 33, 34, 35};
  const __m512i nibbles =
      _mm512_and_si512(_mm512_srlv_epi64(_mm512_permutexvar_epi8(_mm512_load_si512(kNibbleIndex), bytes),
                                         _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4)),
                       _mm512_set1_epi8(0x0F));
  const __m512i sums = offset_dot(_mm512_shuffle_epi8(e2m1_offset_table(), nibbles), load_q<kTail>(q), 12);
  const __m512i scale_index = _mm512_setr_epi32(0, 9, 18, 27, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m128i codes = _mm512_castsi512_si128(_mm512_maskz_permutexvar_epi8(0x1111, scale_index, bytes));
  const __m128 block_scales = _mm256_castps256_ps128(e4m3_values8(_mm256_zextsi128_si256(codes)));
  const __m128 activation = _mm_mul_ps(_mm_permute_ps(two_floats<kTail>(scale), 0x50),  // [a, a, b, b]
                                       _mm_set1_ps(0.5f * tensor_factor));
  // int32 lane l belongs to 16-block (l / 2) % 2 + 2 (l / 8).
  const __m512 lanes =
      _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3),
                            _mm512_castps128_ps512(_mm_mul_ps(block_scales, activation)));
  return accumulate<kTail>(sums, lanes, acc);
}

// q8_0, pairs of blocks into two accumulators (four blocks per step), a last odd block as a tail.
struct Q8_0Kernel {
  static constexpr int64_t kQuadBytes = 4 * 34;
  struct State {
    __m512 acc0, acc1;
  };
  XPUSIM_Q8 static State start() { return {_mm512_setzero_ps(), _mm512_setzero_ps()}; }
  XPUSIM_Q8 static void quad(const uint8_t* row, const int8_t* q, const float* scale, const float*, float,
                             State& s) {
    s.acc0 = q8_0_pair<false>(row, q, scale, s.acc0);
    s.acc1 = q8_0_pair<false>(row + 68, q + 64, scale + 2, s.acc1);
  }
  XPUSIM_Q8 static float finish(const uint8_t* row, const int8_t* q, const float* scale, const float*,
                                int64_t blocks, float, State& s) {
    if (blocks >= 2) {
      s.acc0 = q8_0_pair<false>(row, q, scale, s.acc0);
      blocks -= 2, row += 68, q += 64, scale += 2;
    }
    if (blocks > 0) s.acc1 = q8_0_pair<true>(row, q, scale, s.acc1);
    return _mm512_reduce_add_ps(_mm512_add_ps(s.acc0, s.acc1));
  }
};

// nvfp4 family: eight 16-blocks (four activation blocks, 72 bytes) per step, then pairs.
struct Nvfp4Kernel {
  static constexpr int64_t kQuadBytes = 72;
  using Prepared = Nvfp4Prepared;
  struct State {
    __m512 acc;
    Nvfp4Prepared at;  // this step's offsets and activation factors
  };
  XPUSIM_Q8 static Prepared prepare(const Q8Activations& x, float tensor_factor) {
    return prepare_nvfp4(x, tensor_factor);
  }
  XPUSIM_Q8 static State start(const Prepared& prepared) { return {_mm512_setzero_ps(), prepared}; }
  XPUSIM_Q8 static void quad(const uint8_t* row, const int8_t* q, const float*, const float*, float,
                             State& s) {
    s.acc = nvfp4_octet(row, q, s.at.offsets, s.at.activation, s.acc);
    s.at.offsets += 16, s.at.activation += 8;
  }
  XPUSIM_Q8 static float finish(const uint8_t* row, const int8_t* q, const float* scale, const float*,
                                int64_t blocks, float tensor_factor, State& s) {
    if (blocks >= 2) {
      s.acc = nvfp4_pair<false>(row, q, scale, s.acc, tensor_factor);
      blocks -= 2, row += 36, q += 64, scale += 2;
    }
    if (blocks > 0) s.acc = nvfp4_pair<true>(row, q, scale, s.acc, tensor_factor);
    return _mm512_reduce_add_ps(s.acc);
  }
};

// ue-int4 / ue-fp4 / ue-if4: 64-value blocks (bf16 scale + 32 interleaved nibble bytes, 34 bytes) = two
// activation blocks each (Q8Order::kEvenThenOddQuads); two blocks (68 bytes) per step as mxfp4's four. The
// scale's sign picks INT4 levels (+ 12: (n ^ 8) + 4, weight scale |s|) or 2 E2M1 + 12 (|s| / 2), per pair of
// 128-bit lanes.
struct Ue4bitKernel {
  static constexpr int64_t kQuadBytes = 68;
  using State = Q4Kernel<false>::State;
  XPUSIM_Q8 static State start() { return {_mm512_setzero_ps(), _mm_setzero_ps()}; }
  XPUSIM_Q8 static __m512i int_table() {
    return _mm512_broadcast_i32x4(_mm_setr_epi8(12, 13, 14, 15, 16, 17, 18, 19, 4, 5, 6, 7, 8, 9, 10, 11));
  }
  // Branch-free per block (ue-if4 picks INT or E2M1 block by block, unpredictably): the bf16 scale words
  // of blocks a and b as [a, a, b, b] -> weight scales |s| (INT) or |s| / 2 (E2M1 doubled), and the INT
  // blocks' 128-bit lanes. (The four-block step reads the same from the row's vector register.)
  XPUSIM_Q8 static __m128 block_scales(const uint8_t* a, const uint8_t* b, __mmask8& int_lanes) {
    uint16_t bits_a, bits_b;
    std::memcpy(&bits_a, a, 2);
    std::memcpy(&bits_b, b, 2);
    int_lanes = static_cast<__mmask8>((0x0F & -static_cast<int>(bits_a >> 15)) |
                                      (0xF0 & -static_cast<int>(bits_b >> 15)));
    const __m128i words = _mm_slli_epi32(_mm_setr_epi32(bits_a, bits_a, bits_b, bits_b), 16);
    const __m128 magnitude = _mm_castsi128_ps(_mm_and_si128(words, _mm_set1_epi32(0x7FFF0000)));
    return _mm_mul_ps(magnitude,
                      _mm_blendv_ps(_mm_set1_ps(0.5f), _mm_set1_ps(1.0f), _mm_castsi128_ps(words)));
  }
  XPUSIM_Q8 static void quad(const uint8_t* row, const int8_t* q, const float* scale, const float* sum, float,
                             State& s) {
    alignas(64) static constexpr auto kIndex = [] {
      struct Index {
        uint8_t bytes[64];
      } index{};
      for (int i = 0; i < 4; ++i)
        for (int k = 0; k < 16; ++k)
          index.bytes[16 * i + k] = static_cast<uint8_t>(34 * (i / 2) + 2 + 16 * (i % 2) + k);
      return index;
    }();
    const __m512i first = _mm512_loadu_si512(row);
    const __m512i second = _mm512_maskz_loadu_epi8(0xF, row + 64);
    const __m512i nibbles = _mm512_permutex2var_epi8(first, _mm512_load_si512(kIndex.bytes), second);
    // The two blocks' bf16 scale words (bytes 0-1 and 34-35) as [a, a, b, b] << 16, in registers.
    alignas(64) static constexpr auto kScaleIndex = [] {
      struct Index {
        uint8_t bytes[64];
      } index{};
      for (int i = 0; i < 4; ++i) {
        index.bytes[4 * i + 2] = static_cast<uint8_t>(i < 2 ? 0 : 34);
        index.bytes[4 * i + 3] = static_cast<uint8_t>(i < 2 ? 1 : 35);
      }
      return index;
    }();
    const __m128i words = _mm512_castsi512_si128(
        _mm512_maskz_permutexvar_epi8(0xCCCC, _mm512_load_si512(kScaleIndex.bytes), first));
    const __m128 weight_scales =
        _mm_mul_ps(_mm_castsi128_ps(_mm_and_si128(words, _mm_set1_epi32(0x7FFF0000))),
                   _mm_blendv_ps(_mm_set1_ps(0.5f), _mm_set1_ps(1.0f), _mm_castsi128_ps(words)));
    // INT4 levels in the 128-bit lanes of a block whose scale is negative (lanes 0-1: a, 2-3: b).
    const __mmask16 int_lanes = _mm512_movepi32_mask(_mm512_permutexvar_epi32(
        _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2), _mm512_castsi128_si512(words)));
    const __m512i table = _mm512_mask_mov_epi32(e2m1_offset_table(), int_lanes, int_table());
    const __m512i low = _mm512_shuffle_epi8(table, _mm512_and_si512(nibbles, _mm512_set1_epi8(0x0F)));
    const __m512i high =
        _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(nibbles, 4), _mm512_set1_epi8(0x0F)));
    const __m512i sums =
        _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), low, _mm512_loadu_si512(q)), high,
                            _mm512_loadu_si512(q + 64));
    s.acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums),
                            spread_quad(_mm_mul_ps(weight_scales, _mm_loadu_ps(scale))), s.acc);
    s.offset_acc = _mm_fmadd_ps(weight_scales, _mm_loadu_ps(sum), s.offset_acc);
  }
  XPUSIM_Q8 static float finish(const uint8_t* row, const int8_t* q, const float* scale, const float*,
                                int64_t blocks, float, State& s) {
    if (blocks >= 2) {  // a last 64-value block (tail order)
      __mmask8 int_lanes;
      const __m128 weight_scales = block_scales(row, row, int_lanes);  // [s, s, s, s]
      const __m512i w = _mm512_shuffle_epi8(
          _mm512_mask_mov_epi64(e2m1_offset_table(), int_lanes, int_table()), nibble_pair(row + 2, row + 18));
      const __m512i sums = offset_dot(w, _mm512_loadu_si512(q), 12);
      s.acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums),
                              spread_pair(_mm_mul_ps(two_floats<false>(scale), weight_scales)), s.acc);
    }
    const __m128 pairs = _mm_add_ps(s.offset_acc, _mm_movehl_ps(s.offset_acc, s.offset_acc));
    return _mm512_reduce_add_ps(s.acc) - 12.0f * _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)));
  }
};

// Per-call preparation of the token's side (Kernel::Prepared, where a kernel has one; else nothing).
struct NothingPrepared {};
template <typename Kernel>
XPUSIM_Q8 inline auto prepare(const Q8Activations& x, float tensor_factor) {
  if constexpr (requires { typename Kernel::Prepared; }) {
    return Kernel::prepare(x, tensor_factor);
  } else {
    return NothingPrepared{};
  }
}
template <typename Kernel, typename Prepared>
XPUSIM_Q8 inline typename Kernel::State start(const Prepared& prepared) {
  if constexpr (requires { typename Kernel::Prepared; }) {
    return Kernel::start(prepared);
  } else {
    return Kernel::start();
  }
}

// One row against one token: whole groups of four activation blocks (software-prefetching the row ahead),
// then the row's last 0..3 blocks.
template <typename Kernel, typename Prepared>
XPUSIM_Q8 inline float dot_one(const uint8_t* row, const Q8Activations& x, float tensor_factor,
                               const Prepared& prepared) {
  typename Kernel::State state = start<Kernel>(prepared);
  const int8_t* q = x.q.data();
  const float* scale = x.scale.data();
  const float* sum = x.sum.data();
  int64_t b = 0;
  for (; b + 4 <= x.blocks; b += 4, row += Kernel::kQuadBytes, q += 128) {
    prefetch_stream(reinterpret_cast<const char*>(row), (Kernel::kQuadBytes + 63) / 64);
    Kernel::quad(row, q, scale + b, sum + b, tensor_factor, state);
  }
  return Kernel::finish(row, q, scale + b, sum + b, x.blocks - b, tensor_factor, state);
}

template <typename Kernel>
XPUSIM_Q8 float dot_one(const uint8_t* row, const Q8Activations& x, float tensor_factor) {
  return dot_one<Kernel>(row, x, tensor_factor, prepare<Kernel>(x, tensor_factor));
}

// Consecutive rows one after the other (the kernel inlined: no call per row). Rows are deliberately not
// interleaved: running four rows side by side (shared activation loads, four accumulator chains) raised
// the in-cache rate ~10 % but cut the DRAM GEMV from ~51 to ~26 GB/s on this machine (Zen 5 VM), whose
// prefetchers want one long sequential stream per core (with 16 KB pieces per stream a plain read of two
// threads drops from ~48 to ~32 GB/s).
template <typename Kernel>
XPUSIM_Q8 void dot_rows(const uint8_t* row, int64_t stride, int64_t rows, const Q8Activations& x,
                        float tensor_factor, float* out) {
  const auto prepared = prepare<Kernel>(x, tensor_factor);
  for (int64_t r = 0; r < rows; ++r) out[r] = dot_one<Kernel>(row + r * stride, x, tensor_factor, prepared);
}

}  // namespace

// quantize_q8 (simd_q8.cpp) in registers, the same operations in the same order per value: amax, d =
// amax / 127, 1 / d, x * (1 / d) rounded to nearest-even (cvtps2dq under the default rounding mode, as
// nearbyint), so the bytes are identical.
XPUSIM_Q8 bool quantize_q8(const float* x, int64_t n, Q8Order order, Q8Activations& out) {
  out.blocks = n / kQ8Block;
  out.q.resize(static_cast<size_t>(out.blocks * kQ8Block));
  out.scale.resize(static_cast<size_t>(out.blocks));
  out.sum.resize(static_cast<size_t>(out.blocks));
  const __m512 magnitude_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
  // Byte permutations of one 32-block in element order into the interleaved orders.
  const __m256i even_odd32 = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 1, 3,
                                              5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (int64_t b = 0; b < out.blocks; ++b) {
    const __m512 low = _mm512_loadu_ps(x + 32 * b), high = _mm512_loadu_ps(x + 32 * b + 16);
    // NaN (quiet / signalling) or +-Inf anywhere: refuse, as quantize_q8.
    if (_mm512_fpclass_ps_mask(low, 0x99) | _mm512_fpclass_ps_mask(high, 0x99)) return false;
    const float amax = _mm512_reduce_max_ps(
        _mm512_max_ps(_mm512_and_ps(low, magnitude_mask), _mm512_and_ps(high, magnitude_mask)));
    const float d = amax / 127.0f;
    const float inverse = d >= 0x1p-126f ? 1.0f / d : 0.0f;  // a subnormal d would overflow 1 / d: zeros
    const __m512i q_low = _mm512_cvtps_epi32(_mm512_mul_ps(low, _mm512_set1_ps(inverse)));
    const __m512i q_high = _mm512_cvtps_epi32(_mm512_mul_ps(high, _mm512_set1_ps(inverse)));
    out.scale[static_cast<size_t>(b)] = d;
    out.sum[static_cast<size_t>(b)] =
        d * static_cast<float>(_mm512_reduce_add_epi32(_mm512_add_epi32(q_low, q_high)));
    const __m128i bytes_low = _mm512_cvtsepi32_epi8(q_low), bytes_high = _mm512_cvtsepi32_epi8(q_high);
    int8_t* q = out.q.data();
    const bool whole_group = (b / 4) * 4 + 4 <= out.blocks;
    if (order == Q8Order::kNibbleQuads && whole_group) {
      int8_t* group = q + 128 * (b / 4) + 16 * (b % 4);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(group), bytes_low);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(group + 64), bytes_high);
      continue;
    }
    __m256i block = _mm256_inserti128_si256(_mm256_castsi128_si256(bytes_low), bytes_high, 1);
    if (order == Q8Order::kEvenThenOddQuads) block = _mm256_permutexvar_epi8(even_odd32, block);
    if (order == Q8Order::kEvenThenOddQuads && whole_group) {
      int8_t* group = q + 128 * (b / 4) + 16 * (b % 4);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(group), _mm256_castsi256_si128(block));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(group + 64), _mm256_extracti128_si256(block, 1));
      continue;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 32 * b), block);
  }
  return true;
}

#define XPUSIM_Q8_KIND(name, Kernel)                                                               \
  XPUSIM_Q8 float q8_dot_##name(const uint8_t* row, const Q8Activations& x, float tensor_factor) { \
    return dot_one<Kernel>(row, x, tensor_factor);                                                 \
  }                                                                                                \
  XPUSIM_Q8 void q8_dot_rows_##name(const uint8_t* row, int64_t stride, int64_t rows,              \
                                    const Q8Activations& x, float tensor_factor, float* out) {     \
    dot_rows<Kernel>(row, stride, rows, x, tensor_factor, out);                                    \
  }
XPUSIM_Q8_KIND(q4_0, Q4Kernel<false>)
XPUSIM_Q8_KIND(q4_1, Q4Kernel<true>)
XPUSIM_Q8_KIND(q8_0, Q8_0Kernel)
XPUSIM_Q8_KIND(mxfp4, Mxfp4Kernel)
XPUSIM_Q8_KIND(nvfp4, Nvfp4Kernel)
XPUSIM_Q8_KIND(ue_4bit, Ue4bitKernel)
#undef XPUSIM_Q8_KIND

}  // namespace xpusim::exec::simd::avx512

#endif
