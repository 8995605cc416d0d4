// Storage types of tensors as they lie in checkpoint files (safetensors dtypes and ggml/GGUF types).
// One row per type in kDTypeTable (dtype.cpp); the enum, names and sizes all come from that table.
// HOWTO add a storage type: add the enum value before COUNT, add its row to kDTypeTable (the static_assert
// on the table size fails until you do), and teach numerics to decode it if it is a block type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace xpusim {

enum class DType : uint8_t {
  F64,
  F32,
  F16,
  BF16,
  F8_E4M3,
  F8_E5M2,
  I64,
  I32,
  I16,
  I8,
  U64,
  U32,
  U16,
  U8,
  BOOL,
  // llama.cpp block types (GGUF)
  Q4_0,
  Q4_1,
  Q5_0,
  Q5_1,
  Q8_0,
  Q4_K,
  Q5_K,
  Q6_K,
  IQ4_NL,
  IQ4_XS,
  Q2_K,
  Q3_K,
  // More safetensors dtypes (safetensors 0.8 defines 22): sub-byte floats pack elements densely, so they are
  // modelled as blocks (F4: 2 elements per byte, F6: 4 elements per 3 bytes). C64 is complex (not decodable).
  F8_E8M0,
  F8_E4M3FNUZ,
  F8_E5M2FNUZ,
  F4,
  F6_E2M3,
  F6_E3M2,
  C64,
  // In memory only (never read from a file): bytes of a numerics::Format (numerics/format_table.h), named by
  // TensorView::numerics_format. Rows are encoded independently (numerics/tensor_codec.h layout), so the
  // bytes per block live in the format table, not here: block_elements / block_bytes are 0.
  NUMERICS,
  COUNT
};

struct DTypeInfo {
  DType dtype;
  std::string_view name;    // safetensors / ggml spelling: "BF16", "Q4_K"
  uint32_t block_elements;  // 1 for scalars
  uint32_t block_bytes;     // bytes per block (= element bytes for scalars)
  bool is_float;            // decodes to real numbers (floats and quantized blocks)
  int32_t ggml_id;          // ggml type id, -1 if none
};

const DTypeInfo& dtype_info(DType dtype);
std::string_view dtype_name(DType dtype);
// safetensors names ("F32", "BF16", ...); never NUMERICS, which no file may name.
std::optional<DType> dtype_from_name(std::string_view name);
std::optional<DType> dtype_from_ggml_id(uint32_t ggml_id);
// Bytes needed for `elements` elements; nullopt if elements is not a multiple of the block size, and for
// NUMERICS (the format table knows its size).
std::optional<size_t> dtype_bytes(DType dtype, size_t elements);

}  // namespace xpusim
