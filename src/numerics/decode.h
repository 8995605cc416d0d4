// Decoding stored tensors (any DType that is_float) to fp32. Scalar types (F64 F32 F16 BF16 F8_E4M3
// F8_E5M2 F8_E8M0 F8_E4M3FNUZ F8_E5M2FNUZ, packed F4 / F6: storage_decoders.h) and llama.cpp blocks
// (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS; layouts in shared/reference/formats.md
// §11). Owns: the fp32 view of every checkpoint storage type, bit-exact with llama.cpp's dequantize_row_* and
// with IEEE/bf16 conversion. Non-goals: encoding to checkpoint types (see numerics/format_table.h for the
// project's quantization formats), integer dtypes.
// HOWTO add a storage type: add its DType row in core/dtype.h/.cpp, write a BlockDecoder (ggml ones live
// in ggml_blocks.cpp) and put it in the kBlockDecoders row for that DType in decode.cpp (a static_assert
// checks the table has one row per DType).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace xpusim::numerics {

// Decode `elements` values starting at `src` (which must start on a block boundary; elements must be a
// multiple of the block size) into `dst`. Throws xpusim::Error for types that are not real numbers.
void decode_to_f32(DType dtype, const void* src, float* dst, size_t elements);

// Decodes `block_count` consecutive blocks (dtype_info(d).block_elements values each; one element for
// scalar types) from `src` into `dst`. `src` needs no alignment. This is the hot path of quantized
// matvecs: callers decode the block range they need, e.g. one row or one tile at a time.
using BlockDecoder = void (*)(const uint8_t* src, float* dst, size_t block_count);

// The decoder for `dtype`; throws xpusim::Error for types that are not real numbers (integers, bool).
BlockDecoder block_decoder(DType dtype);

// Scalar helpers used everywhere.
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float value);  // round to nearest even, canonical NaN (0x7FC0 | sign)
float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);  // round to nearest even; NaN -> quiet NaN 0x7E00 | sign

}  // namespace xpusim::numerics
