// Decoding stored tensors (any DType that is_float) to fp32. Scalar types and llama.cpp blocks
// (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K; layouts in shared/reference/formats.md §11).
#pragma once

#include <cstddef>

#include "core/dtype.h"

namespace xpusim::numerics {

// Decode `elements` values starting at `src` (which must start on a block boundary; elements must be a
// multiple of the block size) into `dst`. Throws xpusim::Error for types that are not real numbers.
void decode_to_f32(DType dtype, const void* src, float* dst, size_t elements);

// Scalar helpers used everywhere.
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float value);  // round to nearest even, canonical NaN
float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);   // round to nearest even

}  // namespace xpusim::numerics
