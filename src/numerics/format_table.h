// The number-format table: every format xpusim can quantize to is ONE row of kFormatTable
// (format_table.cpp). The enum, name lookup, `xpusim quant` listing, docs/formats.md table and the test
// loop (tests/numerics/format_table_test.cpp) are all derived from the rows.
// Owns: stable CLI names, byte layouts, block/scale description, the codec functions, reference
// quantizer, worked vectors (shared/reference/formats.md) and error tolerance of every format.
// Non-goals: checkpoint storage types (core/dtype.h + decode.h), whole-tensor loops (tensor_codec.h).
// Conventions for every row: a block of `block_elements` values is stored as `block_bytes` bytes, scale
// first, then data; 4-bit data packs element 2i in the low nibble of byte i (except llama.cpp's q4_0,
// which keeps ggml's layout). Formats with a per-tensor scale (has_tensor_scale) get the tensor's fp32
// amax from the tensor codec. Block encoders see finite inputs only (tensor_codec.h sanitizes).
// HOWTO add a format: add the enum value before COUNT, write its block encode/decode functions (a new
// file per family, declared in codecs.h), add its row (+ worked vectors in worked_vectors.h) in
// format_table.cpp; the static_assert, the test loop and the docs drift test then cover it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace xpusim::numerics {

enum class Format : uint8_t {
  FP32,
  BF16,
  FP16,
  BF19,
  BF19_TRUNC,
  FP8_E4M3,
  FP8_E4M3_SAT,
  FP8_E5M2,
  FP8_E5M2_SAT,
  E8M0,
  INT8,
  INT4,
  FP4,
  NVFP4,
  NVFP4_4O6,
  MXFP4,
  MXFP4_CEIL,
  MXFP8,
  MXFP8_CEIL,
  IF4,
  UE_INT4,
  UE_FP4,
  UE_IF4,
  UE_INT8,
  UE_FP8,
  UE_IF8,
  Q4_0,
  Q8_0,
  COUNT
};

// `tensor_amax` is the fp32 max |x| of the whole tensor; only formats with has_tensor_scale read it.
using BlockEncodeFn = void (*)(const float* src, uint8_t* dst, size_t block_count, float tensor_amax);
using BlockDecodeFn = void (*)(const uint8_t* src, float* dst, size_t block_count, float tensor_amax);

// A worked example from shared/reference/formats.md: encoding `input` (one tensor row, a whole number
// of blocks) gives exactly `encoded`.
struct WorkedVector {
  std::string_view note;
  std::span<const float> input;
  std::span<const uint8_t> encoded;
};

struct FormatRow {
  Format format;
  std::string_view name;         // stable CLI name, never renamed
  std::string_view description;  // one line
  bool is_block;                 // false: element format (block_elements values share nothing)
  std::string_view element;      // element encoding
  std::string_view scale;        // scale encoding ("-" for none)
  std::string_view layout;       // byte layout of one block
  uint32_t block_elements;
  uint32_t block_bytes;
  bool has_tensor_scale;  // an fp32 per-tensor amax travels with the tensor (4 bytes)
  BlockEncodeFn encode;
  BlockDecodeFn decode;
  std::string_view reference;  // the reference quantizer the bytes match
  std::span<const WorkedVector> worked_vectors;
  // Tolerance: minimum SQNR (dB) of encode->decode on the standard test signal (test_signal(): 64 x 1024
  // N(0,1) values, |values| for unsigned formats), set 0.25 dB under the measured value.
  double min_sqnr_db;
  bool scaled;  // values keep their range without an external scale (false: int8/int4/e8m0/fp4 casts)
  bool signed_values = true;  // false: only positive values exist (e8m0); tolerance uses |signal|

  double bits_per_element() const { return 8.0 * block_bytes / block_elements; }
};

const FormatRow& format_row(Format format);
std::span<const FormatRow> format_rows();
std::optional<Format> format_from_name(std::string_view name);
std::string_view format_name(Format format);
// "fp32, bf16, ..." for error messages and --help.
std::string format_names_joined();
// Markdown table of every row (docs/formats.md between the generated-table markers).
std::string format_table_markdown();

}  // namespace xpusim::numerics
