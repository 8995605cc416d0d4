// Compute precision of the matmuls from the weight format and what the chip's MACs support. The rule (also in
// docs/chips.md, "Compute precision"): a format runs natively when the chip lists a peak for its class
// (fp4 -> FP4, 4-bit integer -> INT4, fp8 -> FP8, int8 -> INT8, bf16/fp16 as is); otherwise it is
// dequantized to the nearest wider class the chip has (4-bit -> 8-bit of the same kind -> 16-bit -> fp32),
// paying vector work per weight element. CPUs without a matrix engine for the class run the host executor's
// path: weights widened to fp32 and fp32 FMAs on the SIMD units.
#include <cctype>

#include "chips/impl/family_model.h"
#include "core/dtype.h"
#include "core/error.h"
#include "numerics/format_table.h"

namespace xpusim::chips::impl {
namespace {

enum class FormatClass { FP32, BF16, FP16, FP8, INT8, INT4, FP4 };

struct Classified {
  FormatClass cls;
  double bits;
  std::string name;
};

Classified classify_numerics(numerics::Format format) {
  using numerics::Format;
  const auto& row = numerics::format_row(format);
  const double bits = row.bits_per_element();
  const std::string name(row.name);
  switch (format) {
    case Format::FP32:
      return {FormatClass::FP32, bits, name};
    case Format::BF16:
    case Format::BF19:
    case Format::BF19_TRUNC:
      return {FormatClass::BF16, bits, name};
    case Format::FP16:
      return {FormatClass::FP16, bits, name};
    case Format::FP8_E4M3:
    case Format::FP8_E4M3_SAT:
    case Format::FP8_E5M2:
    case Format::FP8_E5M2_SAT:
    case Format::MXFP8:
    case Format::MXFP8_CEIL:
    case Format::UE_FP8:
    case Format::UE_IF8:
      return {FormatClass::FP8, bits, name};
    case Format::INT8:
    case Format::UE_INT8:
    case Format::Q8_0:
      return {FormatClass::INT8, bits, name};
    case Format::INT4:
    case Format::UE_INT4:
    case Format::IF4:
    case Format::UE_IF4:
    case Format::Q4_0:
      return {FormatClass::INT4, bits, name};
    case Format::FP4:
    case Format::NVFP4:
    case Format::NVFP4_4O6:
    case Format::MXFP4:
    case Format::MXFP4_CEIL:
    case Format::UE_FP4:
      return {FormatClass::FP4, bits, name};
    case Format::E8M0:
    case Format::COUNT:
      break;
  }
  fail("precision '{}': a scale-only format cannot hold weights; use one of: {}", name,
       numerics::format_names_joined());
}

// Checkpoint storage types (GGUF Q4_1, Q6_K, F16, ...) are accepted too: the default model is stored as Q4_1.
std::optional<Classified> classify_storage(const std::string& name) {
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  const auto dtype = dtype_from_name(upper);
  if (!dtype || *dtype == DType::NUMERICS) return std::nullopt;
  const DTypeInfo& info = dtype_info(*dtype);
  if (!info.is_float || info.block_elements == 0) return std::nullopt;
  const double bits = 8.0 * info.block_bytes / info.block_elements;
  switch (*dtype) {
    case DType::F32:
    case DType::F64:
      return Classified{FormatClass::FP32, bits, std::string(info.name)};
    case DType::F16:
      return Classified{FormatClass::FP16, bits, std::string(info.name)};
    case DType::BF16:
      return Classified{FormatClass::BF16, bits, std::string(info.name)};
    case DType::F8_E4M3:
    case DType::F8_E5M2:
    case DType::F8_E4M3FNUZ:
    case DType::F8_E5M2FNUZ:
      return Classified{FormatClass::FP8, bits, std::string(info.name)};
    case DType::F4:
      return Classified{FormatClass::FP4, bits, std::string(info.name)};
    default:
      break;
  }
  // ggml blocks: up to 4.x bits per element run like 4-bit integers, wider ones like int8.
  return Classified{bits < 5.0 ? FormatClass::INT4 : FormatClass::INT8, bits, std::string(info.name)};
}

Precision native_precision(FormatClass cls) {
  switch (cls) {
    case FormatClass::FP32:
      return Precision::FP32;
    case FormatClass::BF16:
      return Precision::BF16;
    case FormatClass::FP16:
      return Precision::FP16;
    case FormatClass::FP8:
      return Precision::FP8;
    case FormatClass::INT8:
      return Precision::INT8;
    case FormatClass::INT4:
      return Precision::INT4;
    case FormatClass::FP4:
      return Precision::FP4;
  }
  return Precision::BF16;
}

// Wider classes to fall back to, nearest first.
std::vector<Precision> fallbacks(FormatClass cls) {
  using P = Precision;
  switch (cls) {
    case FormatClass::FP4:
      return {P::FP8, P::BF16, P::FP16, P::INT8, P::FP32};
    case FormatClass::INT4:
      return {P::INT8, P::BF16, P::FP16, P::FP32};
    case FormatClass::FP8:
      return {P::BF16, P::FP16, P::INT8, P::FP32};
    case FormatClass::INT8:
      return {P::BF16, P::FP16, P::FP32};
    case FormatClass::BF16:
      return {P::FP16, P::FP32, P::TF32, P::INT8};
    case FormatClass::FP16:
      return {P::BF16, P::FP32, P::TF32, P::INT8};
    case FormatClass::FP32:
      return {P::TF32, P::BF16, P::FP16, P::INT8};
  }
  return {};
}

// Instructions to widen one weight of the class to a 16-bit float (see PrecisionChoice).
double convert_ops(FormatClass cls) {
  switch (cls) {
    case FormatClass::INT8:
      return 1;
    case FormatClass::FP8:
    case FormatClass::INT4:
    case FormatClass::FP4:
      return 2;
    default:
      return 0;
  }
}

bool cpu_has_matrix_engine(const ChipSpec& chip) {
  return chip.compute.matrix_engines_per_unit.has_value() && chip.compute.tile_m.has_value();
}

}  // namespace

PrecisionChoice choose_precision(const ChipSpec& chip, const std::string& format_name) {
  Classified format{FormatClass::BF16, 16, "bf16"};
  if (!format_name.empty()) {
    if (const auto numerics_format = numerics::format_from_name(format_name)) {
      format = classify_numerics(*numerics_format);
    } else if (const auto storage = classify_storage(format_name)) {
      format = *storage;
    } else {
      fail("precision '{}' is not a number format; use one of: {} (or a GGUF type such as q4_1)", format_name,
           numerics::format_names_joined());
    }
  }
  PrecisionChoice choice;
  choice.weight_bits = format.bits;
  choice.convert_ops_per_weight = convert_ops(format.cls);
  choice.integer_blocks = format.cls == FormatClass::INT8 || format.cls == FormatClass::INT4;
  choice.format = format.name;
  const Precision native = native_precision(format.cls);
  auto has = [&](Precision p) { return chip.peak_flops(p).has_value(); };

  if (chip.family == Family::CPU) {
    // Matrix engines (AMX) run bf16/int8 natively; everything else is the SIMD fp32 path of the executor.
    const bool amx = cpu_has_matrix_engine(chip);
    if (amx && (native == Precision::BF16 || native == Precision::INT8) && has(native)) {
      choice.compute = native;
    } else if (amx && has(Precision::BF16) && native != Precision::FP32) {
      choice.compute = Precision::BF16;
      choice.dequantize = true;
    } else if (has(Precision::FP32)) {
      choice.compute = Precision::FP32;
      choice.dequantize = native != Precision::FP32;
    } else {
      fail("chip '{}': family cpu needs compute.peak_tflops.fp32 (the SIMD path)", chip.name);
    }
  } else if (has(native)) {
    choice.compute = native;
  } else {
    bool found = false;
    for (Precision p : fallbacks(format.cls)) {
      if (has(p)) {
        choice.compute = p;
        // bf16 <-> fp16 is a one-time conversion when the model is compiled (same bytes), not per-step work.
        const bool sixteen = (format.cls == FormatClass::BF16 || format.cls == FormatClass::FP16) &&
                             (p == Precision::BF16 || p == Precision::FP16);
        choice.dequantize = !sixteen;
        found = true;
        break;
      }
    }
    if (!found) fail("chip '{}': no peak rate usable for weights in {}", chip.name, format.name);
  }
  choice.note = fmt::format(
      "weights in {} ({:.3g} bits/weight); matmuls in {}{}", format.name, format.bits,
      precision_name(choice.compute),
      choice.dequantize ? " after dequantizing on the vector units (no native MACs)" : " (native)");
  return choice;
}

}  // namespace xpusim::chips::impl
