// Decoders for the safetensors sub-byte and FNUZ float storage types (DType F8_E8M0, F8_E4M3FNUZ,
// F8_E5M2FNUZ, F4, F6_E2M3, F6_E3M2), in decode.cpp's BlockDecoder signature.
// Packing (an assumption where safetensors does not document it; matches PyTorch float4_e2m1fn_x2 and
// the OCP MX bit-stream convention): F4 = two E2M1 codes per byte, element 0 in the low nibble;
// F6 = four 6-bit codes per 3 bytes, read as a little-endian 24-bit word, element i in bits 6i..6i+5.
// FNUZ types (AMD/Graphcore): no -0 and no Inf; code 0x80 is the only NaN; biases 8 (E4M3) and 16 (E5M2).
// HOWTO add one: write decode_<type>_blocks here, add its row in decode.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xpusim::numerics {

void decode_e8m0_blocks(const uint8_t* src, float* dst, size_t count);
void decode_e4m3fnuz_blocks(const uint8_t* src, float* dst, size_t count);
void decode_e5m2fnuz_blocks(const uint8_t* src, float* dst, size_t count);
void decode_f4_blocks(const uint8_t* src, float* dst, size_t block_count);       // 2 elements per block
void decode_f6_e2m3_blocks(const uint8_t* src, float* dst, size_t block_count);  // 4 elements per block
void decode_f6_e3m2_blocks(const uint8_t* src, float* dst, size_t block_count);

}  // namespace xpusim::numerics
