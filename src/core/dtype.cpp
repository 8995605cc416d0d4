#include "core/dtype.h"
#include "core/enum_table.h"

#include <array>

namespace xpusim {
namespace {

constexpr std::array<DTypeInfo, static_cast<size_t>(DType::COUNT)> kDTypeTable{{
    // dtype          name      block  bytes  float  ggml
    {DType::F64, "F64", 1, 8, true, 28},
    {DType::F32, "F32", 1, 4, true, 0},
    {DType::F16, "F16", 1, 2, true, 1},
    {DType::BF16, "BF16", 1, 2, true, 30},
    {DType::F8_E4M3, "F8_E4M3", 1, 1, true, -1},
    {DType::F8_E5M2, "F8_E5M2", 1, 1, true, -1},
    {DType::I64, "I64", 1, 8, false, 27},
    {DType::I32, "I32", 1, 4, false, 26},
    {DType::I16, "I16", 1, 2, false, 25},
    {DType::I8, "I8", 1, 1, false, 24},
    {DType::U64, "U64", 1, 8, false, -1},
    {DType::U32, "U32", 1, 4, false, -1},
    {DType::U16, "U16", 1, 2, false, -1},
    {DType::U8, "U8", 1, 1, false, -1},
    {DType::BOOL, "BOOL", 1, 1, false, -1},
    {DType::Q4_0, "Q4_0", 32, 18, true, 2},
    {DType::Q4_1, "Q4_1", 32, 20, true, 3},
    {DType::Q5_0, "Q5_0", 32, 22, true, 6},
    {DType::Q5_1, "Q5_1", 32, 24, true, 7},
    {DType::Q8_0, "Q8_0", 32, 34, true, 8},
    {DType::Q4_K, "Q4_K", 256, 144, true, 12},
    {DType::Q5_K, "Q5_K", 256, 176, true, 13},
    {DType::Q6_K, "Q6_K", 256, 210, true, 14},
    {DType::IQ4_NL, "IQ4_NL", 32, 18, true, 20},
    {DType::IQ4_XS, "IQ4_XS", 256, 136, true, 23},
    {DType::Q2_K, "Q2_K", 256, 84, true, 10},
    {DType::Q3_K, "Q3_K", 256, 110, true, 11},
    {DType::F8_E8M0, "F8_E8M0", 1, 1, true, -1},
    {DType::F8_E4M3FNUZ, "F8_E4M3FNUZ", 1, 1, true, -1},
    {DType::F8_E5M2FNUZ, "F8_E5M2FNUZ", 1, 1, true, -1},
    {DType::F4, "F4", 2, 1, true, -1},
    {DType::F6_E2M3, "F6_E2M3", 4, 3, true, -1},
    {DType::F6_E3M2, "F6_E3M2", 4, 3, true, -1},
    {DType::C64, "C64", 1, 8, false, -1},
    {DType::NUMERICS, "NUMERICS", 0, 0, true, -1},
}};

static_assert(rows_in_enum_order(kDTypeTable, [](const auto& row) { return row.dtype; }),
              "kDTypeTable rows must follow the DType enum order");

}  // namespace

const DTypeInfo& dtype_info(DType dtype) { return kDTypeTable.at(static_cast<size_t>(dtype)); }

std::string_view dtype_name(DType dtype) { return dtype_info(dtype).name; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& row : kDTypeTable) {
    if (row.name == name && row.block_elements != 0) return row.dtype;
  }
  return std::nullopt;
}

std::optional<DType> dtype_from_ggml_id(uint32_t ggml_id) {
  for (const auto& row : kDTypeTable) {
    if (row.ggml_id >= 0 && static_cast<uint32_t>(row.ggml_id) == ggml_id) return row.dtype;
  }
  return std::nullopt;
}

std::optional<size_t> dtype_bytes(DType dtype, size_t elements) {
  const auto& info = dtype_info(dtype);
  if (info.block_elements == 0 || elements % info.block_elements != 0) return std::nullopt;
  return elements / info.block_elements * info.block_bytes;
}

}  // namespace xpusim
