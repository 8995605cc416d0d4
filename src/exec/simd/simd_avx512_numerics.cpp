// AVX-512 fused dots of numerics-packed rows (numerics/format_table.h), decoded in registers and summed in
// dot_exact's order, so each gives exactly decode_row + dot_f32 (tests/exec/fast_linear_test.cpp:
// EveryNumericsFormat...BitForBit). Every value is produced with the decoder's own arithmetic: a per-block
// table (level x scale, one rounding, as the decoder computes it) looked up with vpermps, or a bit-exact
// conversion (E4M3 by exponent arithmetic, E5M2 as the high byte of an IEEE half).
// Formats: int8, int4, fp4, fp8-e4m3(-sat), fp8-e5m2(-sat), mxfp4(-ceil), mxfp8(-ceil), nvfp4, nvfp4-4o6,
// if4, ue-int4 / ue-fp4 / ue-if4, ue-int8 / ue-fp8 / ue-if8. Non-goals: bf19 / e8m0 (row-decoded), q4_0 /
// q8_0 (ggml layout: simd_avx512.cpp).
#include <cmath>

#include "exec/simd/avx512_common.h"
#include "numerics/decode.h"
#include "numerics/scalar_codecs.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

namespace xpusim::exec::simd::avx512 {
namespace {

XPUSIM_AVX512 inline __m128i load_bytes16(const void* p, int64_t i, __mmask16 m) {
  return _mm_maskz_loadu_epi8(m, static_cast<const uint8_t*>(p) + i);
}

struct Int8Loader {
  XPUSIM_AVX512 static __m512 load_masked(const void* p, int64_t i, __mmask16 m) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(load_bytes16(p, i, m)));
  }
  XPUSIM_AVX512 static __m512 load(const void* p, int64_t i) { return load_masked(p, i, 0xFFFF); }
};
struct E4m3Loader {
  XPUSIM_AVX512 static __m512 load_masked(const void* p, int64_t i, __mmask16 m) {
    return e4m3_to_f32(_mm512_cvtepu8_epi32(load_bytes16(p, i, m)));
  }
  XPUSIM_AVX512 static __m512 load(const void* p, int64_t i) { return load_masked(p, i, 0xFFFF); }
};
struct E5m2Loader {  // E5M2 is the high byte of an IEEE half (same NaN / Inf codes)
  XPUSIM_AVX512 static __m512 load_masked(const void* p, int64_t i, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_slli_epi16(_mm256_cvtepu8_epi16(load_bytes16(p, i, m)), 8));
  }
  XPUSIM_AVX512 static __m512 load(const void* p, int64_t i) { return load_masked(p, i, 0xFFFF); }
};
// Element formats of two nibbles per byte with a fixed 16-value table (int4, fp4). i is even.
template <bool kFp4>
struct NibbleLoader {
  XPUSIM_AVX512 static __m512 table() {
    return kFp4 ? _mm512_loadu_ps(numerics::kE2M1Values.data())
                : _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
  }
  XPUSIM_AVX512 static __m512 load_masked(const void* p, int64_t i, __mmask16 m) {
    const int64_t lanes = __builtin_popcount(m);
    const __m512i index = nibble_indices16(static_cast<const uint8_t*>(p) + i / 2, lanes);
    return _mm512_maskz_permutexvar_ps(m, index, table());
  }
  XPUSIM_AVX512 static __m512 load(const void* p, int64_t i) {
    return _mm512_permutexvar_ps(nibble_indices16(static_cast<const uint8_t*>(p) + i / 2, 16), table());
  }
};

XPUSIM_AVX512 float dot_int8(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_exact<Int8Loader>(x, row, blocks);
}
XPUSIM_AVX512 float dot_fp8_e4m3(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_exact<E4m3Loader>(x, row, blocks);
}
XPUSIM_AVX512 float dot_fp8_e5m2(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_exact<E5m2Loader>(x, row, blocks);
}
XPUSIM_AVX512 float dot_int4(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_exact<NibbleLoader<false>>(x, row, 2 * blocks);
}
XPUSIM_AVX512 float dot_fp4(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_exact<NibbleLoader<true>>(x, row, 2 * blocks);
}

// mxfp4 (mx_formats.cpp): E8M0 scale byte, value = E2M1(nibble) * 2^(e - 127).
XPUSIM_AVX512 inline void mxfp4_block(const uint8_t* block, __m512& lo, __m512& hi) {
  const __m512 table =
      _mm512_mul_ps(_mm512_loadu_ps(numerics::kE2M1Values.data()), _mm512_set1_ps(e8m0_value(block[0])));
  interleaved_nibbles(block + 1, table, lo, hi);
}
XPUSIM_AVX512 float dot_mxfp4(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_blocks_exact<17, mxfp4_block>(row, x, blocks);
}

// mxfp8: E8M0 scale byte, value = E4M3(code) * 2^(e - 127).
XPUSIM_AVX512 inline void mxfp8_block(const uint8_t* block, __m512& lo, __m512& hi) {
  const __m512 scale = _mm512_set1_ps(e8m0_value(block[0]));
  lo = _mm512_mul_ps(E4m3Loader::load(block + 1, 0), scale);
  hi = _mm512_mul_ps(E4m3Loader::load(block + 17, 0), scale);
}
XPUSIM_AVX512 float dot_mxfp8(const uint8_t* row, const float* x, int64_t blocks, float) {
  return dot_blocks_exact<33, mxfp8_block>(row, x, blocks);
}

// nvfp4 family (nv_formats.cpp): 16-value blocks of an E4M3 scale byte and 8 nibble bytes; value =
// E2M1(n) * (scale * (tensor_amax / constant)), or for an if4 block with the scale's top bit set
// ((n ^ 8) - 8) * (scale * (tensor_amax / constant) * 6/7). Four blocks make one 64-element chunk.
template <int kConstant, bool kIf4>
XPUSIM_AVX512 inline __m512 fp4_block16(const uint8_t* block, float tensor_amax, const float* e4m3) {
  constexpr float kSixSevenths = static_cast<float>(6.0 / 7.0);
  const bool is_int = kIf4 && (block[0] & 0x80u) != 0;
  const float scale = e4m3[kIf4 ? (block[0] & 0x7Fu) : block[0]];
  const float base = scale * (tensor_amax / static_cast<float>(kConstant));
  const __m512 table =
      is_int ? _mm512_mul_ps(_mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1),
                             _mm512_set1_ps(base * kSixSevenths))
             : _mm512_mul_ps(_mm512_loadu_ps(numerics::kE2M1Values.data()), _mm512_set1_ps(base));
  return _mm512_permutexvar_ps(nibble_indices16(block + 1, 16), table);
}

template <int kConstant, bool kIf4>
XPUSIM_AVX512 float dot_fp4_blocks16(const uint8_t* row, const float* x, int64_t blocks, float tensor_amax) {
  const float* e4m3 = numerics::e4m3_decode_table().data();
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(),
         acc3 = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 4 <= blocks; b += 4, row += 36, x += 64) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x), fp4_block16<kConstant, kIf4>(row, tensor_amax, e4m3), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 16), fp4_block16<kConstant, kIf4>(row + 9, tensor_amax, e4m3),
                           acc1);
    acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 32), fp4_block16<kConstant, kIf4>(row + 18, tensor_amax, e4m3),
                           acc2);
    acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 48), fp4_block16<kConstant, kIf4>(row + 27, tensor_amax, e4m3),
                           acc3);
  }
  for (; b < blocks; ++b, row += 9, x += 16) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x), fp4_block16<kConstant, kIf4>(row, tensor_amax, e4m3), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

// ue-int4 / ue-fp4 / ue-if4 (ue_formats.cpp): bf16 scale; its sign picks INT4 levels (n ^ 8) - 8 or E2M1;
// value = to_bf16(level * |scale|). One block = 64 values = one 64-element chunk of the dot order.
XPUSIM_AVX512 float dot_ue_4bit(const uint8_t* row, const float* x, int64_t blocks, float) {
  const __m512 int_levels = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
  const __m512 fp4_levels = _mm512_loadu_ps(numerics::kE2M1Values.data());
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(),
         acc3 = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b, row += 34, x += 64) {
    uint16_t scale_bits;
    std::memcpy(&scale_bits, row, 2);
    const __m512 levels = (scale_bits & 0x8000u) ? int_levels : fp4_levels;
    const __m512 magnitude =
        _mm512_set1_ps(numerics::bf16_to_f32(static_cast<uint16_t>(scale_bits & 0x7FFFu)));
    const __m512 table = round_to_bf16(_mm512_mul_ps(levels, magnitude));
    __m512 w0, w1, w2, w3;
    interleaved_nibbles(row + 2, table, w0, w1);
    interleaved_nibbles(row + 18, table, w2, w3);
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x), w0, acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 16), w1, acc1);
    acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 32), w2, acc2);
    acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 48), w3, acc3);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

// ue-int8 / ue-fp8 / ue-if8: bf16 scale, 64 codes; value = to_bf16(int8 * |scale|) (sign set) or
// to_bf16(E4M3 * |scale|).
XPUSIM_AVX512 float dot_ue_8bit(const uint8_t* row, const float* x, int64_t blocks, float) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int64_t b = 0; b < blocks; ++b, row += 66, x += 64) {
    uint16_t scale_bits;
    std::memcpy(&scale_bits, row, 2);
    const __m512 magnitude =
        _mm512_set1_ps(numerics::bf16_to_f32(static_cast<uint16_t>(scale_bits & 0x7FFFu)));
    const bool is_int = (scale_bits & 0x8000u) != 0;
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      const __m512 level = is_int ? Int8Loader::load(row + 2, 16 * v) : E4m3Loader::load(row + 2, 16 * v);
      acc[v] = _mm512_fmadd_ps(_mm512_loadu_ps(x + 16 * v), round_to_bf16(_mm512_mul_ps(level, magnitude)),
                               acc[v]);
    }
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

}  // namespace

FusedDot numerics_dot(numerics::Format format) {
  using numerics::Format;
  switch (format) {
    case Format::INT8:
      return dot_int8;
    case Format::INT4:
      return dot_int4;
    case Format::FP4:
      return dot_fp4;
    case Format::FP8_E4M3:
    case Format::FP8_E4M3_SAT:
      return dot_fp8_e4m3;
    case Format::FP8_E5M2:
    case Format::FP8_E5M2_SAT:
      return dot_fp8_e5m2;
    case Format::MXFP4:
    case Format::MXFP4_CEIL:
      return dot_mxfp4;
    case Format::MXFP8:
    case Format::MXFP8_CEIL:
      return dot_mxfp8;
    case Format::NVFP4:
      return dot_fp4_blocks16<2688, false>;
    case Format::NVFP4_4O6:
      return dot_fp4_blocks16<1536, false>;
    case Format::IF4:
      return dot_fp4_blocks16<2688, true>;
    case Format::UE_INT4:
    case Format::UE_FP4:
    case Format::UE_IF4:
      return dot_ue_4bit;
    case Format::UE_INT8:
    case Format::UE_FP8:
    case Format::UE_IF8:
      return dot_ue_8bit;
    default:
      return nullptr;
  }
}

}  // namespace xpusim::exec::simd::avx512

#endif
