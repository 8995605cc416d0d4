// Shared scalar pieces of the GGUF K-quant kernels (simd_<level>.cpp, for those files only): the super-block
// layouts and the 6-bit scale / min unpacking of Q4_K and Q5_K.
// Layouts (ggml-common.h; docs/formats.md): 256 values per super-block.
//   Q4_K (144 bytes): fp16 d @0, fp16 dmin @2, 12 bytes of packed 6-bit scales / mins @4, 128 nibble bytes
//     @16; value = d sc_j q - dmin m_j for 32-value sub-block j; bytes 32c..32c+31 hold sub-block 2c in
//     their low nibbles and 2c + 1 in their high nibbles (element order within each).
//   Q5_K (176 bytes): as Q4_K with qh[32] @16 (bit j of byte l: the fifth bit of element l of sub-block j)
//     and the nibbles @48.
//   Q6_K (210 bytes): ql[128] @0, qh[64] @128, int8 scales[16] @192, fp16 d @208; per half of 128 values
//     element l (< 32) of quarter g is nibble (g / 2) of ql[64 half + 32 (g % 2) + l] with bits 2g, 2g + 1 of
//     qh[32 half + l] on top, value d sc[e / 16] (code - 32).
#pragma once

#include <cstdint>
#include <cstring>

namespace xpusim::exec::simd::kquant {

constexpr int64_t kSuperBlock = 256;
constexpr int64_t kQ4KBytes = 144, kQ5KBytes = 176, kQ6KBytes = 210, kQ2KBytes = 84, kQ3KBytes = 110;

// The 8 scales (out[0..7]) and 8 mins (out[8..15]) of a Q4_K / Q5_K super-block from its 12 packed bytes:
// ggml's get_scale_min_k4 done on four 32-bit words at once (little-endian, as every x86 level is).
inline void unpack_scales_mins(const uint8_t* packed, uint8_t out[16]) {
  constexpr uint32_t kLow6 = 0x3F3F3F3Fu, kLow4 = 0x0F0F0F0Fu, kLow2 = 0x03030303u;
  uint32_t words[4];
  std::memcpy(words, packed, 12);
  words[3] = ((words[2] >> 4) & kLow4) | (((words[1] >> 6) & kLow2) << 4);  // mins 4..7
  const uint32_t mins_low = words[1] & kLow6;                               // mins 0..3
  words[1] = (words[2] & kLow4) | (((words[0] >> 6) & kLow2) << 4);         // scales 4..7
  words[2] = mins_low;
  words[0] &= kLow6;  // scales 0..3
  std::memcpy(out, words, 16);
}

// IQ4_XS (136 bytes): fp16 d @0, u16 scales_h @2, scales_l[4] @4, 128 nibble bytes @8 (16 per 32-value
// sub-block, Q4_0's order). The 6-bit scale of sub-block ib, minus 32.
inline int iq4_xs_scale(const uint8_t* block, int ib) {
  uint16_t scales_h;
  std::memcpy(&scales_h, block + 2, 2);
  return (((block[4 + ib / 2] >> 4 * (ib % 2)) & 0xF) | (((scales_h >> 2 * ib) & 3) << 4)) - 32;
}
constexpr int64_t kIq4XsBytes = 136;

}  // namespace xpusim::exec::simd::kquant
