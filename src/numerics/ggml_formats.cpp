// q4_0 / q8_0 rows of the format table: llama.cpp's reference quantizers and decoders (ggml_blocks.h).
#include "numerics/codecs.h"
#include "numerics/ggml_blocks.h"

namespace xpusim::numerics::codecs {

void encode_q4_0(const float* src, uint8_t* dst, size_t n, float) { ggml::encode_q4_0_blocks(src, dst, n); }
void decode_q4_0(const uint8_t* src, float* dst, size_t n, float) { ggml::decode_q4_0_blocks(src, dst, n); }
void encode_q8_0(const float* src, uint8_t* dst, size_t n, float) { ggml::encode_q8_0_blocks(src, dst, n); }
void decode_q8_0(const uint8_t* src, float* dst, size_t n, float) { ggml::decode_q8_0_blocks(src, dst, n); }

}  // namespace xpusim::numerics::codecs
