// kFormatTable: the one list of number formats. Everything else (enum checks, lookup, listing, docs
// table, test loop) is derived from these rows; see format_table.h for the column meanings.
#include "numerics/format_table.h"
#include "core/enum_table.h"

#include <array>

#include <fmt/format.h>

#include "numerics/codecs.h"
#include "numerics/worked_vectors.h"

namespace xpusim::numerics {
namespace {

using namespace codecs;
namespace w = worked;

// clang-format off
constexpr std::array<FormatRow, static_cast<size_t>(Format::COUNT)> kFormatTable{{
  {Format::FP32, "fp32", "IEEE binary32, the unquantized reference", false, "S1 E8 M23", "-",
   "4 bytes LE", 1, 4, false, encode_fp32, decode_fp32, "identity", w::kFp32, 200.0, true},
  {Format::BF16, "bf16", "bfloat16, RNE from fp32, NaN -> 0x7FC0|sign", false, "S1 E8 M7", "-",
   "2 bytes LE", 1, 2, false, encode_bf16, decode_bf16, "PyTorch c10::BFloat16 / ml_dtypes.bfloat16",
   w::kBf16, 55.3, true},
  {Format::FP16, "fp16", "IEEE binary16, RNE, overflow -> Inf", false, "S1 E5 M10", "-",
   "2 bytes LE", 1, 2, false, encode_fp16, decode_fp16, "numpy float16 / ml_dtypes", w::kFp16, 73.3, true},
  {Format::BF19, "bf19", "TF32-style 1-8-10 in a 32-bit container, RNE", false, "S1 E8 M10", "-",
   "fp32 pattern, low 13 bits 0, 4 bytes LE", 1, 4, false, encode_bf19, decode_bf19,
   "formats.md §3 integer RNE", w::kBf19, 73.3, true},
  {Format::BF19_TRUNC, "bf19-trunc", "1-8-10 truncated from fp32 (the engine's internal rounding)", false,
   "S1 E8 M10", "-", "fp32 pattern, low 13 bits 0, 4 bytes LE", 1, 4, false, encode_bf19_trunc,
   decode_bf19_trunc, "formats.md §3 (RTZ)", w::kBf19Trunc, 67.3, true},
  {Format::FP8_E4M3, "fp8-e4m3", "OCP E4M3FN, RNE, overflow/Inf -> NaN (as ml_dtypes/PyTorch casts)", false,
   "S1 E4 M3, bias 7, max 448", "-", "1 byte", 1, 1, false, encode_fp8_e4m3, decode_fp8_e4m3,
   "ml_dtypes.float8_e4m3fn", w::kE4m3, 31.2, true},
  {Format::FP8_E4M3_SAT, "fp8-e4m3-sat", "OCP E4M3FN, RNE, saturating to +-448", false,
   "S1 E4 M3, bias 7, max 448", "-", "1 byte", 1, 1, false, encode_fp8_e4m3_sat, decode_fp8_e4m3_sat,
   "formats.md §4.1 (scale encoding rule)", w::kE4m3Sat, 31.2, true},
  {Format::FP8_E5M2, "fp8-e5m2", "OCP/IEEE-style E5M2, RNE, overflow -> Inf", false,
   "S1 E5 M2, bias 15, max 57344", "-", "1 byte", 1, 1, false, encode_fp8_e5m2, decode_fp8_e5m2,
   "ml_dtypes.float8_e5m2", w::kE5m2, 25.2, true},
  {Format::FP8_E5M2_SAT, "fp8-e5m2-sat", "E5M2, RNE, saturating to +-57344", false,
   "S1 E5 M2, bias 15, max 57344", "-", "1 byte", 1, 1, false, encode_fp8_e5m2_sat, decode_fp8_e5m2_sat,
   "formats.md §4.2 (saturating mode)", w::kE5m2Sat, 25.2, true},
  {Format::E8M0, "e8m0", "power-of-two scale 2^(e-127); no zero, no sign; 0xFF = NaN", false,
   "E8, bias 127", "-", "1 byte", 1, 1, false, encode_e8m0, decode_e8m0, "ml_dtypes.float8_e8m0fnu",
   w::kE8m0, 13.9, false, false},
  {Format::INT8, "int8", "two's complement integer, RNE, clamp [-128, 127] (no scale)", false, "int8", "-",
   "1 byte", 1, 1, false, encode_int8, decode_int8, "numpy rint + clip", w::kInt8, 10.5, false},
  {Format::INT4, "int4", "two's complement nibble, RNE, clamp [-8, 7] (no scale)", false, "int4", "-",
   "2 nibbles per byte, low = even element", 2, 1, false, encode_int4, decode_int4, "numpy rint + clip",
   w::kInt4, 10.5, false},
  {Format::FP4, "fp4", "OCP E2M1, RNE, saturating to +-6 (no scale)", false, "S1 E2 M1, max 6", "-",
   "2 nibbles per byte, low = even element", 2, 1, false, encode_fp4, decode_fp4,
   "ml_dtypes.float4_e2m1fn", w::kFp4, 16.1, false},
  {Format::NVFP4, "nvfp4", "NVIDIA NVFP4: 16 x E2M1, E4M3 block scale, fp32 tensor scale (static_6)", true,
   "E2M1", "UE4M3 per 16 + fp32 tensor amax", "scale byte, 8 nibble bytes", 16, 9, true, encode_nvfp4,
   decode_nvfp4, "fouroversix 1.0.5 reference.py, nvfp4 static_6", w::kNvfp4, 20.2, true},
  {Format::NVFP4_4O6, "nvfp4-4o6", "NVFP4 with Four Over Six: per block the lower-SSE of scale-to-6 and -to-4",
   true, "E2M1", "UE4M3 per 16 (tensor constant 6*256) + fp32 tensor amax", "scale byte, 8 nibble bytes", 16, 9,
   true, encode_nvfp4_4o6, decode_nvfp4_4o6, "fouroversix 1.0.5 reference.py, nvfp4 mse", {}, 20.9, true},
  {Format::MXFP4, "mxfp4", "OCP MXFP4: 32 x E2M1, E8M0 scale, spec floor rule (may clip)", true, "E2M1",
   "E8M0 per 32, floor(log2 amax) - 2", "scale byte, 16 nibble bytes", 32, 17, false, encode_mxfp4,
   decode_mxfp4, "OCP MX v1.0 §6.3 with RNE elements", w::kMxfp4, 18.5, true},
  {Format::MXFP4_CEIL, "mxfp4-ceil", "MXFP4 with the non-clipping rule: scale = amax/6 rounded up to 2^k", true,
   "E2M1", "E8M0 per 32, ceil(log2(amax/6))", "scale byte, 16 nibble bytes", 32, 17, false,
   encode_mxfp4_ceil, decode_mxfp4_ceil, "fouroversix 1.0.5 quantize_to_mxfp4 (zeros canonical +0)",
   w::kMxfp4Ceil, 18.5, true},
  {Format::MXFP8, "mxfp8", "OCP MXFP8 (E4M3): 32 x E4M3, E8M0 scale, spec floor rule (may clip)", true,
   "E4M3FN", "E8M0 per 32, floor(log2 amax) - 8", "scale byte, 32 element bytes", 32, 33, false,
   encode_mxfp8, decode_mxfp8, "OCP MX v1.0 §6.3 with RNE elements", w::kMxfp8, 30.4, true},
  {Format::MXFP8_CEIL, "mxfp8-ceil", "MXFP8 (E4M3) with the non-clipping rule: amax/448 rounded up to 2^k",
   true, "E4M3FN", "E8M0 per 32, ceil(log2(amax/448))", "scale byte, 32 element bytes", 32, 33, false,
   encode_mxfp8_ceil, decode_mxfp8_ceil, "fouroversix-style ceil rule, E4M3 elements", w::kMxfp8Ceil, 31.2,
   true},
  {Format::IF4, "if4", "IF4 (Four Over Six paper): per 16-block the lower-SSE of E2M1 and INT4 x 6/7", true,
   "E2M1 or INT4 (+-7)", "E4M3 per 16, sign bit = INT + fp32 tensor amax", "scale byte, 8 nibble bytes", 16,
   9, true, encode_if4, decode_if4, "fouroversix 1.0.5 reference.py, if4 mse", w::kIf4, 21.8, true},
  {Format::UE_INT4, "ue-int4", "unified engine INT4: 64 along K, bf16 scale amax/7 (stored negative)", true,
   "INT4 [-8, 7]", "bf16 per 64, negative", "bf16 scale LE, 32 nibble bytes", 64, 34, false, encode_ue_int4,
   decode_ue_int4, "unified-engine quant_lib.quantize_if4(int_variant=True)", w::kUeInt4, 19.1, true},
  {Format::UE_FP4, "ue-fp4", "unified engine FP4: 64 along K, bf16 scale amax/6 (positive)", true, "E2M1",
   "bf16 per 64, positive", "bf16 scale LE, 32 nibble bytes", 64, 34, false, encode_ue_fp4, decode_ue_fp4,
   "unified-engine quant_lib.quantize_if4(int_variant=False)", w::kUeFp4, 19.2, true},
  {Format::UE_IF4, "ue-if4", "unified engine IF4: per 64-block INT4 or FP4, bf16 scale sign selects", true,
   "INT4 or E2M1", "bf16 per 64, sign = codebook", "bf16 scale LE, 32 nibble bytes", 64, 34, false,
   encode_ue_if4, decode_ue_if4, "unified-engine quant_lib.quantize_if4", w::kUeIf4, 19.8, true},
  {Format::UE_INT8, "ue-int8", "unified engine INT8: 64 along K, bf16 scale amax/127 (negative)", true,
   "INT8 [-128, 127]", "bf16 per 64, negative", "bf16 scale LE, 64 bytes", 64, 66, false, encode_ue_int8,
   decode_ue_int8, "unified-engine quant_lib.quantize_int8 (bf16 throughout)", w::kUeInt8, 42.9, true},
  {Format::UE_FP8, "ue-fp8", "unified engine FP8: 64 along K, E4M3FN, bf16 scale amax/448 (positive)", true,
   "E4M3FN", "bf16 per 64, positive", "bf16 scale LE, 64 bytes", 64, 66, false, encode_ue_fp8, decode_ue_fp8,
   "unified-engine quant_lib.quantize_fp8 (bf16 throughout)", w::kUeFp8, 31.6, true},
  {Format::UE_IF8, "ue-if8", "unified engine IF8: per 64-block INT8 or FP8, bf16 scale sign selects", true,
   "INT8 or E4M3FN", "bf16 per 64, sign = codebook", "bf16 scale LE, 64 bytes", 64, 66, false, encode_ue_if8,
   decode_ue_if8, "unified-engine IF8 (project-defined by the engine, formats.md §10.3)", w::kUeIf8, 42.9, true},
  {Format::Q4_0, "q4_0", "llama.cpp Q4_0: 32 x 4-bit, fp16 scale max/-8", true, "uint4 - 8",
   "fp16 per 32", "fp16 d, 16 bytes (element j low, j+16 high)", 32, 18, false, encode_q4_0, decode_q4_0,
   "llama.cpp quantize_row_q4_0_ref", w::kQ4_0, 21.0, true},
  {Format::Q8_0, "q8_0", "llama.cpp Q8_0: 32 x int8, fp16 scale amax/127", true, "INT8", "fp16 per 32",
   "fp16 d, 32 int8", 32, 34, false, encode_q8_0, decode_q8_0, "llama.cpp quantize_row_q8_0_ref", w::kQ8_0,
   45.1, true},
}};
// clang-format on

static_assert(rows_in_enum_order(kFormatTable, [](const auto& row) { return row.format; }),
              "kFormatTable rows must follow the Format enum order, one row each");

constexpr bool names_unique() {
  for (size_t i = 0; i < kFormatTable.size(); ++i) {
    for (size_t j = i + 1; j < kFormatTable.size(); ++j) {
      if (kFormatTable[i].name == kFormatTable[j].name) return false;
    }
  }
  return true;
}
static_assert(names_unique(), "format names must be unique");

}  // namespace

const FormatRow& format_row(Format format) { return kFormatTable.at(static_cast<size_t>(format)); }
std::span<const FormatRow> format_rows() { return kFormatTable; }
std::string_view format_name(Format format) { return format_row(format).name; }

std::optional<Format> format_from_name(std::string_view name) {
  for (const FormatRow& row : kFormatTable) {
    if (row.name == name) return row.format;
  }
  return std::nullopt;
}

std::string format_names_joined() {
  std::string out;
  for (const FormatRow& row : kFormatTable) {
    if (!out.empty()) out += ", ";
    out += row.name;
  }
  return out;
}

namespace {
// Table cells cannot hold a raw '|'.
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}
}  // namespace

std::string format_table_markdown() {
  std::string out =
      "| Name | Description | Element | Scale | Block | Bytes/block | Bits/element | Block layout | "
      "Reference |\n"
      "|---|---|---|---|---|---|---|---|---|\n";
  for (const FormatRow& row : kFormatTable) {
    out += fmt::format("| `{}` | {} | {} | {} | {} | {} | {:.4g}{} | {} | {} |\n", row.name,
                       cell(row.description), cell(row.element), cell(row.scale), row.block_elements,
                       row.block_bytes, row.bits_per_element(), row.has_tensor_scale ? " + 32/tensor" : "",
                       cell(row.layout), cell(row.reference));
  }
  return out;
}

}  // namespace xpusim::numerics
