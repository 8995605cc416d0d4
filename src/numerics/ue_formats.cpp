// The unified engine's block formats (apex-compute/unified-engine quant_lib; formats.md §10): 64
// elements along K share one bf16 scale whose sign selects the codebook (negative = INT, positive = FP).
//   ue-if4 / ue-int4 / ue-fp4   quantize_if4 (fp32 arithmetic on bf16-cast weights, fp32 division by the
//                               bf16 scale; FP4 = nearest of the ordered table, first index wins ties, so
//                               zeros encode as 0x8; INT4 = RNE clamp [-8, 7]; INT chosen iff
//                               err_int <= err_fp). ue-int4 / ue-fp4 force one candidate (int_variant).
//   ue-if8 / ue-int8 / ue-fp8   quantize_int8 / quantize_fp8 / IF8: bf16 throughout (scale =
//                               bf16(amax/qmax), scaled = bf16(x/scale)); INT8 = RNE clamp [-128, 127];
//                               FP8 = nearest finite E4M3FN, ties to the smaller magnitude, zero = 0x00.
// amax is clamped to >= 1e-8 (quant_lib), so all-zero blocks get a tiny nonzero scale and zero codes.
// Layout: bytes 0-1 = bf16 scale (little-endian), then 32 nibble bytes (low = even element) or 64 bytes.
// Decode: bf16_rne(element * |scale|), as the reference decoder's bf16 x bf16 product.
#include <cmath>
#include <cstring>

#include "numerics/codecs.h"
#include "numerics/float_bits.h"
#include "numerics/scalar_codecs.h"

namespace xpusim::numerics::codecs {
namespace {

constexpr size_t kBlock = 64;
constexpr float kMinAmax = 1e-8f;

enum class Choice : uint8_t { kInt, kFloat, kBest };

inline float to_bf16(float v) { return bits::bf16_to_f32(bits::f32_to_bf16(v)); }

// Weights are cast to bf16 first; an fp32 value beyond bf16's range would become Inf there, so it is
// clamped to the largest finite bf16 (0x7F7F) instead (the tensor codec already mapped Inf to FLT_MAX).
constexpr float kBf16Max = 0x1.FEp127f;
inline float bf16_input(float v) { return std::fmin(std::fmax(to_bf16(v), -kBf16Max), kBf16Max); }

void store_scale(uint8_t* dst, float scale) {
  const uint16_t b = bits::f32_to_bf16(scale);
  std::memcpy(dst, &b, 2);
}

float load_scale(const uint8_t* src) {
  uint16_t b;
  std::memcpy(&b, src, 2);
  return bits::bf16_to_f32(b);
}

// quant_lib FP4 table order; kFp4Codes[i] is the E2M1 nibble of kFp4Table[i].
constexpr float kFp4Table[16] = {-6, -4, -3, -2, -1.5f, -1, -0.5f, -0.0f, 0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
constexpr uint8_t kFp4Codes[16] = {0xF, 0xE, 0xD, 0xC, 0xB, 0xA, 0x9, 0x8,
                                   0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7};

inline int nearest_fp4_index(float v) {
  int best = 0;
  float best_distance = std::fabs(v - kFp4Table[0]);
  for (int i = 1; i < 16; ++i) {
    const float distance = std::fabs(v - kFp4Table[i]);
    if (distance < best_distance) {  // strict: the first index wins ties
      best = i;
      best_distance = distance;
    }
  }
  return best;
}

void encode_4bit(const float* src, uint8_t* dst, size_t block_count, Choice choice) {
  float x[kBlock];
  uint8_t int_codes[kBlock], fp_codes[kBlock];
  for (size_t b = 0; b < block_count; ++b, src += kBlock, dst += 34) {
    float amax = 0.0f;
    for (size_t i = 0; i < kBlock; ++i) {
      x[i] = bf16_input(src[i]);
      amax = std::fmax(amax, std::fabs(x[i]));
    }
    amax = std::fmax(amax, kMinAmax);
    const float scale_int = to_bf16(amax / 7.0f);
    const float scale_fp = to_bf16(amax / 6.0f);
    float err_int = 0.0f, err_fp = 0.0f;
    for (size_t i = 0; i < kBlock; ++i) {
      const int32_t q = round_clamp_int(x[i] / scale_int, -8, 7);
      int_codes[i] = static_cast<uint8_t>(q & 0xF);
      const float e_int = x[i] - static_cast<float>(q) * scale_int;
      err_int += e_int * e_int;
      const int index = nearest_fp4_index(x[i] / scale_fp);
      fp_codes[i] = kFp4Codes[index];
      const float e_fp = x[i] - kFp4Table[index] * scale_fp;
      err_fp += e_fp * e_fp;
    }
    const bool use_int = choice == Choice::kInt || (choice == Choice::kBest && err_int <= err_fp);
    const uint8_t* codes = use_int ? int_codes : fp_codes;
    store_scale(dst, use_int ? -scale_int : scale_fp);
    for (size_t i = 0; i < kBlock / 2; ++i)
      dst[2 + i] = static_cast<uint8_t>(codes[2 * i] | (codes[2 * i + 1] << 4));
  }
}

void decode_4bit(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 34, dst += kBlock) {
    const float scale = load_scale(src);
    const float magnitude = std::fabs(scale);
    const bool is_int = std::signbit(scale);
    float table[16];  // this block's 16 decoded values, then one lookup per nibble
    for (uint32_t n = 0; n < 16; ++n) {
      const float element = is_int ? static_cast<float>(static_cast<int>(n ^ 8u) - 8) : kE2M1Values[n];
      table[n] = to_bf16(element * magnitude);
    }
    // This is the executor's matvec inner loop for packed weights: nibbles are shifted out of 64-bit words
    // (element 2i is the low nibble of byte i, so element k of a little-endian word is bits 4k..4k+3) into a
    // local array, which a uint8_t source could otherwise alias.
    float out[kBlock];
    for (size_t word = 0; word < kBlock / 16; ++word) {
      uint64_t w;
      std::memcpy(&w, src + 2 + 8 * word, sizeof w);
      for (size_t k = 0; k < 16; ++k, w >>= 4) out[16 * word + k] = table[w & 0xFu];
    }
    std::memcpy(dst, out, sizeof out);
  }
}

// E4M3FN nearest with ties toward the smaller magnitude, saturating at 448; zero is always 0x00.
uint8_t e4m3_nearest_ties_down(float v) {
  const float magnitude = std::fmin(std::fabs(v), 448.0f);
  uint8_t code = encode_e4m3(magnitude, Overflow::kSaturate);  // RNE
  const auto& table = e4m3_decode_table();
  // RNE picked the upper neighbour on an exact tie only when it is even; step back to the lower one.
  if (code > 0 && table[code] > magnitude && table[code] - magnitude == magnitude - table[code - 1]) --code;
  if (code == 0) return 0;
  return static_cast<uint8_t>(v < 0.0f ? code | 0x80u : code);
}

void encode_8bit(const float* src, uint8_t* dst, size_t block_count, Choice choice) {
  float x[kBlock];
  uint8_t int_codes[kBlock], fp_codes[kBlock];
  for (size_t b = 0; b < block_count; ++b, src += kBlock, dst += 66) {
    float amax = 0.0f;
    for (size_t i = 0; i < kBlock; ++i) {
      x[i] = bf16_input(src[i]);
      amax = std::fmax(amax, std::fabs(x[i]));
    }
    amax = std::fmax(amax, to_bf16(kMinAmax));
    const float scale_int = to_bf16(amax / 127.0f);
    const float scale_fp = to_bf16(amax / 448.0f);
    float err_int = 0.0f, err_fp = 0.0f;
    const auto& table = e4m3_decode_table();
    for (size_t i = 0; i < kBlock; ++i) {
      const int32_t q = round_clamp_int(to_bf16(x[i] / scale_int), -128, 127);
      int_codes[i] = static_cast<uint8_t>(q & 0xFF);
      const float e_int = x[i] - static_cast<float>(q) * scale_int;
      err_int += e_int * e_int;
      fp_codes[i] = e4m3_nearest_ties_down(to_bf16(x[i] / scale_fp));
      const float e_fp = x[i] - table[fp_codes[i]] * scale_fp;
      err_fp += e_fp * e_fp;
    }
    const bool use_int = choice == Choice::kInt || (choice == Choice::kBest && err_int <= err_fp);
    store_scale(dst, use_int ? -scale_int : scale_fp);
    std::memcpy(dst + 2, use_int ? int_codes : fp_codes, kBlock);
  }
}

void decode_8bit(const uint8_t* src, float* dst, size_t block_count) {
  const auto& table = e4m3_decode_table();
  for (size_t b = 0; b < block_count; ++b, src += 66, dst += kBlock) {
    const float scale = load_scale(src);
    const float magnitude = std::fabs(scale);
    uint8_t codes[kBlock];  // local copies, as in decode_4bit
    std::memcpy(codes, src + 2, sizeof codes);
    float out[kBlock];
    if (std::signbit(scale)) {
      for (size_t i = 0; i < kBlock; ++i)
        out[i] = to_bf16(static_cast<float>(static_cast<int8_t>(codes[i])) * magnitude);
    } else {
      for (size_t i = 0; i < kBlock; ++i) out[i] = to_bf16(table[codes[i]] * magnitude);
    }
    std::memcpy(dst, out, sizeof out);
  }
}

}  // namespace

void encode_ue_int4(const float* s, uint8_t* d, size_t n, float) { encode_4bit(s, d, n, Choice::kInt); }
void encode_ue_fp4(const float* s, uint8_t* d, size_t n, float) { encode_4bit(s, d, n, Choice::kFloat); }
void encode_ue_if4(const float* s, uint8_t* d, size_t n, float) { encode_4bit(s, d, n, Choice::kBest); }
void encode_ue_int8(const float* s, uint8_t* d, size_t n, float) { encode_8bit(s, d, n, Choice::kInt); }
void encode_ue_fp8(const float* s, uint8_t* d, size_t n, float) { encode_8bit(s, d, n, Choice::kFloat); }
void encode_ue_if8(const float* s, uint8_t* d, size_t n, float) { encode_8bit(s, d, n, Choice::kBest); }
void decode_ue_int4(const uint8_t* s, float* d, size_t n, float) { decode_4bit(s, d, n); }
void decode_ue_fp4(const uint8_t* s, float* d, size_t n, float) { decode_4bit(s, d, n); }
void decode_ue_if4(const uint8_t* s, float* d, size_t n, float) { decode_4bit(s, d, n); }
void decode_ue_int8(const uint8_t* s, float* d, size_t n, float) { decode_8bit(s, d, n); }
void decode_ue_fp8(const uint8_t* s, float* d, size_t n, float) { decode_8bit(s, d, n); }
void decode_ue_if8(const uint8_t* s, float* d, size_t n, float) { decode_8bit(s, d, n); }

}  // namespace xpusim::numerics::codecs
