// LINEAR and the row helpers every weight-reading kernel uses. A weight row is decoded once (numerics block
// decoders) into a small L1-resident buffer and then dotted with every token's input row, so a prefill step
// reads each weight once and a decode step costs one decode + one dot per output row. Weights quantized into
// a numerics format (DType::NUMERICS, `xpusim run --precision`) stay packed and are decoded the same way, a
// row at a time, by the format table's block decoder: the values are exactly those of a dequantize-at-load.
#include <cstring>

#include "core/error.h"
#include "exec/fast_decode.h"
#include "exec/kernels.h"
#include "numerics/decode.h"
#include "numerics/tensor_codec.h"

namespace xpusim::exec {

float dot_f32(const float* a, const float* b, int64_t n) {
  // Sixteen independent partial sums: lets the compiler keep four SSE / two AVX registers busy without
  // reassociating a single sum (which it may not do under strict IEEE semantics).
  constexpr int kLanes = 16;
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  for (int j = 0; j < kLanes; j += 2) acc[j] += acc[j + 1];
  float sum = ((acc[0] + acc[2]) + (acc[4] + acc[6])) + ((acc[8] + acc[10]) + (acc[12] + acc[14]));
  return sum + tail;
}

const float* weight_row(const model::TensorView& weight, int64_t row, float* scratch) {
  const int64_t width = weight.row_elements();
  if (weight.dtype == DType::NUMERICS) {
    const size_t cols = static_cast<size_t>(width);
    const size_t row_bytes = numerics::row_bytes(weight.numerics_format, cols);
    const auto* bytes = reinterpret_cast<const uint8_t*>(weight.data) + static_cast<size_t>(row) * row_bytes;
    // bf16 / q4_0 / q8_0 share the storage dtypes' layouts: their fast decoders give the same values.
    const DType same_layout = weight.numerics_format == numerics::Format::BF16   ? DType::BF16
                              : weight.numerics_format == numerics::Format::Q4_0 ? DType::Q4_0
                              : weight.numerics_format == numerics::Format::Q8_0 ? DType::Q8_0
                                                                                 : DType::NUMERICS;
    const size_t unit = same_layout == DType::BF16 ? 1 : 32;
    if (same_layout != DType::NUMERICS && cols % unit == 0) {
      fast_row_decoder(same_layout)(bytes, scratch, cols / unit);
    } else {
      numerics::decode_row(weight.numerics_format, bytes, cols, weight.tensor_amax, scratch);
    }
    return scratch;
  }
  const DTypeInfo& info = dtype_info(weight.dtype);
  const size_t row_bytes = static_cast<size_t>(width / info.block_elements) * info.block_bytes;
  const std::byte* src = weight.data + static_cast<size_t>(row) * row_bytes;
  if (weight.dtype == DType::F32) {
    if (reinterpret_cast<uintptr_t>(src) % alignof(float) == 0) return reinterpret_cast<const float*>(src);
    std::memcpy(scratch, src, row_bytes);
    return scratch;
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(src);
  const size_t blocks = static_cast<size_t>(width / info.block_elements);
  if (RowDecoder fast = fast_row_decoder(weight.dtype)) {
    fast(bytes, scratch, blocks);
  } else {
    numerics::block_decoder(weight.dtype)(bytes, scratch, blocks);
  }
  return scratch;
}

void linear_rows(const model::TensorView& weight, const float* bias, const float* x, int64_t n, float* y,
                 int64_t row_begin, int64_t row_end) {
  const int64_t in = weight.row_elements(), out = weight.rows();
  std::vector<float> scratch(static_cast<size_t>(in));
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float* w = weight_row(weight, r, scratch.data());
    const float b = bias ? bias[r] : 0.0f;
    for (int64_t t = 0; t < n; ++t) y[t * out + r] = dot_f32(x + t * in, w, in) + b;
  }
}

// y [n, out] = x [n, in] W^T (+ b), parallel over output rows. The reference; run_linear (fast_linear.cpp)
// is what the executor runs.
void run_linear_reference(const KernelArgs& args) {
  const model::TensorView& weight = *args.in[1]->weight;
  const float* bias = args.in.size() > 2 ? args.in[2]->weight_f32 : nullptr;
  const float* x = args.in[0]->f32;
  const int64_t n = args.in[0]->tensor->shape[0];
  float* y = args.out.f32;
  args.pool.parallel_for(weight.rows(), 16,
                         [&](int64_t begin, int64_t end) { linear_rows(weight, bias, x, n, y, begin, end); });
}

// out [n, H] = table[ids]. Token ids come from the caller: out-of-range ids are bad input, not a bug.
void run_embed_rows(const KernelArgs& args) {
  const model::TensorView& table = *args.in[0]->weight;
  const int64_t n = args.in[1]->tensor->elements(), width = table.row_elements();
  for (int64_t t = 0; t < n; ++t) {
    int32_t id = args.in[1]->ids[t];
    if (id < 0 || id >= table.rows()) {
      fail("{} id {} is out of range (the table '{}' has {} rows)", args.in[1]->tensor->name, id, table.name,
           table.rows());
    }
    float* dst = args.out.f32 + t * width;
    const float* row = weight_row(table, id, dst);
    if (row != dst) std::memcpy(dst, row, static_cast<size_t>(width) * sizeof(float));
  }
}

}  // namespace xpusim::exec
