// llama.cpp (ggml) block formats: per-block decoders bit-exact with ggml's dequantize_row_* and the
// reference quantizers quantize_row_q4_0_ref / quantize_row_q8_0_ref (byte-exact).
// Byte layouts: shared/reference/formats.md §11 (docs/formats.md). All multi-byte fields little-endian,
// read with memcpy, so blocks need no alignment.
// Non-goals: K-quant / IQ quantizers (iterative searches; only decoding is needed to load GGUF files),
// llama.cpp's SIMD activation requantization.
// HOWTO add a ggml type: add its DType (core/dtype.h), write decode_<type>_blocks here, register it in
// decode.cpp's kBlockDecoders and add it to tools/make_ggml_goldens.py + its golden file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace xpusim::numerics::ggml {

inline constexpr size_t kQK = 32;    // elements per Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 block
inline constexpr size_t kQKK = 256;  // elements per K-quant super-block

void decode_q4_0_blocks(const uint8_t* src, float* dst, size_t block_count);
void decode_q4_1_blocks(const uint8_t* src, float* dst, size_t block_count);
void decode_q5_0_blocks(const uint8_t* src, float* dst, size_t block_count);
void decode_q5_1_blocks(const uint8_t* src, float* dst, size_t block_count);
void decode_q8_0_blocks(const uint8_t* src, float* dst, size_t block_count);
void decode_q4_k_blocks(const uint8_t* src, float* dst, size_t block_count);
void decode_q5_k_blocks(const uint8_t* src, float* dst, size_t block_count);
void decode_q6_k_blocks(const uint8_t* src, float* dst, size_t block_count);
// Q2_K (84 bytes: scales[16] (low nibble scale, high nibble min of each 16 values), qs[64] of 2-bit codes,
// fp16 d, fp16 dmin; value d sc code - dmin m) and Q3_K (110 bytes: hmask[32], qs[64] of the low 2 bits,
// 12 bytes of packed 6-bit scales, fp16 d; value d (sc - 32) (low + 4 high - 4)). Element e of either: low
// bits (qs[32 (e / 128) + e % 32] >> 2 ((e % 128) / 32)) & 3, scale / min of e / 16; Q3_K's high bit is
// bit (e / 32) of hmask[e % 32].
// Q3_K's 16 6-bit scales (0..63, before the -32) from its 12 packed bytes, as dequantize_row_q3_K's aux
// words (little-endian).
inline void unpack_q3_k_scales(const uint8_t* packed, int8_t out[16]) {
  constexpr uint32_t kLow2 = 0x03030303u, kLow4 = 0x0F0F0F0Fu;
  uint32_t aux[4];
  std::memcpy(aux, packed, 12);
  const uint32_t high = aux[2];
  aux[2] = ((aux[0] >> 4) & kLow4) | (((high >> 4) & kLow2) << 4);
  aux[3] = ((aux[1] >> 4) & kLow4) | (((high >> 6) & kLow2) << 4);
  aux[0] = (aux[0] & kLow4) | ((high & kLow2) << 4);
  aux[1] = (aux[1] & kLow4) | (((high >> 2) & kLow2) << 4);
  std::memcpy(out, aux, 16);
}
void decode_q2_k_blocks(const uint8_t* src, float* dst, size_t block_count);
void decode_q3_k_blocks(const uint8_t* src, float* dst, size_t block_count);
// IQ4_NL (32 values, 18 bytes: fp16 d, 16 nibble bytes in Q4_0's order) and IQ4_XS (256 values, 136 bytes:
// fp16 d, u16 scales_h, scales_l[4], 128 nibble bytes; 6-bit sub-block scale ls, value d (ls - 32) x): the
// nibble indexes kIq4NlValues, a non-uniform 4-bit grid.
inline constexpr int8_t kIq4NlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};
void decode_iq4_nl_blocks(const uint8_t* src, float* dst, size_t block_count);
void decode_iq4_xs_blocks(const uint8_t* src, float* dst, size_t block_count);

// Reference quantizers (quantize_row_*_ref): `src` holds block_count * 32 values. NaN/Inf inputs: see
// the rule in ggml_blocks.cpp (a block containing a non-finite value encodes as all zeros with d = NaN
// for NaN, never UB).
void encode_q4_0_blocks(const float* src, uint8_t* dst, size_t block_count);
void encode_q8_0_blocks(const float* src, uint8_t* dst, size_t block_count);

}  // namespace xpusim::numerics::ggml
