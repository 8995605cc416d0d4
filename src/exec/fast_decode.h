// Fast row decoders for the storage types the default model and common GGUF files use (Q4_0, Q4_1, Q8_0,
// BF16). Bit-identical to numerics::decode_to_f32 (tests/exec/fast_decode_test.cpp checks every type), but
// written so the compiler vectorizes them: quant bytes are copied into local arrays first, because a uint8_t
// source may alias the float destination and would otherwise force scalar code. Non-goals: other types
// (weight_row falls back to numerics::block_decoder), SIMD intrinsics (later issue). HOWTO add a type: a
// decode_<type>_row function here, its case in fast_row_decoder(), and its row in the test.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace xpusim::exec {

using RowDecoder = void (*)(const uint8_t* src, float* dst, size_t blocks);

// nullptr when there is no fast path for `dtype`.
RowDecoder fast_row_decoder(DType dtype);

}  // namespace xpusim::exec
