// Block encode/decode functions of every row of the format table (format_table.h), one family per file:
// scalar_formats.cpp (element formats), nv_formats.cpp (NVFP4, Four Over Six, IF4), mx_formats.cpp
// (OCP MX), ue_formats.cpp (unified engine block-64), ggml_formats.cpp (q4_0, q8_0).
// All share the BlockEncodeFn / BlockDecodeFn signatures; encoders may assume finite inputs.
// HOWTO add a family: a new <family>_formats.cpp defining functions declared here, rows in format_table.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xpusim::numerics::codecs {

#define XPUSIM_DECLARE_CODEC(name)                                                           \
  void encode_##name(const float* src, uint8_t* dst, size_t block_count, float tensor_amax); \
  void decode_##name(const uint8_t* src, float* dst, size_t block_count, float tensor_amax)

XPUSIM_DECLARE_CODEC(fp32);
XPUSIM_DECLARE_CODEC(bf16);
XPUSIM_DECLARE_CODEC(fp16);
XPUSIM_DECLARE_CODEC(bf19);
XPUSIM_DECLARE_CODEC(bf19_trunc);
XPUSIM_DECLARE_CODEC(fp8_e4m3);
XPUSIM_DECLARE_CODEC(fp8_e4m3_sat);
XPUSIM_DECLARE_CODEC(fp8_e5m2);
XPUSIM_DECLARE_CODEC(fp8_e5m2_sat);
XPUSIM_DECLARE_CODEC(e8m0);
XPUSIM_DECLARE_CODEC(int8);
XPUSIM_DECLARE_CODEC(int4);
XPUSIM_DECLARE_CODEC(fp4);
XPUSIM_DECLARE_CODEC(nvfp4);
XPUSIM_DECLARE_CODEC(nvfp4_4o6);
XPUSIM_DECLARE_CODEC(if4);
XPUSIM_DECLARE_CODEC(mxfp4);
XPUSIM_DECLARE_CODEC(mxfp4_ceil);
XPUSIM_DECLARE_CODEC(mxfp8);
XPUSIM_DECLARE_CODEC(mxfp8_ceil);
XPUSIM_DECLARE_CODEC(ue_int4);
XPUSIM_DECLARE_CODEC(ue_fp4);
XPUSIM_DECLARE_CODEC(ue_if4);
XPUSIM_DECLARE_CODEC(ue_int8);
XPUSIM_DECLARE_CODEC(ue_fp8);
XPUSIM_DECLARE_CODEC(ue_if8);
XPUSIM_DECLARE_CODEC(q4_0);
XPUSIM_DECLARE_CODEC(q8_0);

#undef XPUSIM_DECLARE_CODEC

}  // namespace xpusim::numerics::codecs
