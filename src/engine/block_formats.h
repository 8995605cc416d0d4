// Engine-side packed weight formats: byte layout, decode to multiply inputs, and the reference quantizers
// (shared/reference/formats.md §10 for ue-*, §7.1 nvfp4, §8 mxfp4, §9 paper if4).
// Layout for every packed format: codes for an [n x k] matrix row-major, 4-bit codes two per byte with the
// even element in the low nibble, 8-bit codes raw; scales a separate row-major [n x k/block] array
// (bf16 for ue-*, one byte for mxfp4 (E8M0), nvfp4 (E4M3), if4 (sign = INT selector + E4M3 magnitude));
// ue-tq4 scales are preceded by a 32-byte codebook of 16 bf16 entries.
// Note for the numerics library: this is the engine's own decode (the engine owns its datapath); when
// src/numerics grows a block-format table, the code tables here can come from it.
// Non-goals: ggml block types (numerics/ggml_blocks.h), per-tensor scales (applied by the mm scale field).
// HOWTO add a format: add it to WeightFormat (isa.h) and its name list, a row in kBlockFormats
// (block_formats.cpp), its decode branch, and (if the quantize unit supports it) a quantizer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/isa.h"

namespace xpusim::engine {

struct BlockFormatInfo {
  WeightFormat format;
  int block;           // elements per scale (1 for bf16)
  int code_bits;       // 4, 8 or 16
  int scale_bytes;     // per block: 2 (bf16), 1 (byte scales), 0 (bf16 format)
  int codebook_bytes;  // 32 for ue-tq4
  bool quantizable;    // the quantize unit can produce it
};

const BlockFormatInfo& block_format_info(WeightFormat format);
bool is_valid_format(int64_t value);

size_t packed_bytes(WeightFormat format, size_t rows, size_t cols);  // codes
size_t scale_bytes(WeightFormat format, size_t rows, size_t cols);   // scales (+ codebook)

// Decode one row of `cols` elements to exact fp32 values code·|scale| (the caller truncates to bf19 for
// multiplies or rounds to bf16 for dequantize). `scales` points at this row's scales; `codebook` at the
// 16 bf16 entries (ue-tq4 only).
void decode_row(WeightFormat format, const uint8_t* codes, const uint8_t* scales, const uint8_t* codebook,
                size_t cols, float* out);

// Reference quantizers for ue-int4/fp4/if4 (quant_lib.quantize_if4 rules, formats.md §10.2) and
// ue-int8/fp8/if8 (bf16-throughout rules, §10.3). `row` holds bf16 bits; cols % 64 == 0.
void quantize_row(WeightFormat format, const uint16_t* row, size_t cols, uint8_t* codes, uint8_t* scales);

// Scalar decoders used above (exposed for tests).
float e2m1_value(uint8_t code);
float e4m3_value(uint8_t code);  // E4M3FN; 0x7F/0xFF -> NaN
float e8m0_value(uint8_t code);  // 2^(e-127); 0xFF -> NaN

}  // namespace xpusim::engine
