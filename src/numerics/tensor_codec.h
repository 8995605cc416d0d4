// Whole-tensor encode/decode for every format of the table, multi-threaded, plus error metrics.
// Owns the tensor-level rules that the per-block codecs do not see:
//   * Layout: a tensor is `rows` x `cols` (a vector is one row). Each row is encoded on its own as
//     ceil(cols / block_elements) blocks, so blocks never straddle rows and row r starts at byte
//     r * row_bytes: callers can decode any row range (decode_rows) for a matvec.
//   * Lengths that are not a multiple of the block: the last block of each row is padded with zeros
//     before encoding; decoding returns exactly `cols` values per row.
//   * Non-finite inputs: NaN is encoded as 0 and +-Inf as +-FLT_MAX (the largest finite fp32) before any
//     scale is computed, for block formats. Element formats (is_block == false) encode NaN/Inf with their
//     own rules (scalar_codecs.h). Nothing reaches undefined behaviour.
//   * The per-tensor amax (formats with has_tensor_scale) is max |x| over the sanitized tensor (fp32);
//     it is stored in EncodedTensor and counts 4 bytes of storage.
// Non-goals: file formats (model/), matmul kernels (exec/).
// HOWTO: nothing to add per format; new formats only need their row in format_table.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "numerics/format_table.h"

namespace xpusim::numerics {

struct EncodedTensor {
  Format format = Format::FP32;
  size_t rows = 0;
  size_t cols = 0;
  size_t row_bytes = 0;      // blocks_per_row * block_bytes
  float tensor_amax = 0.0f;  // read by formats with has_tensor_scale
  std::vector<uint8_t> data;

  size_t blocks_per_row() const;
  size_t storage_bytes() const;  // data plus the 4-byte tensor scale where the format has one
};

// `threads` = 0 uses every hardware thread. Throws xpusim::Error if values.size() != rows * cols.
EncodedTensor encode_tensor(Format format, std::span<const float> values, size_t rows, size_t cols,
                            unsigned threads = 0);
void decode_tensor(const EncodedTensor& tensor, std::span<float> out, unsigned threads = 0);
// Decodes rows [first_row, first_row + row_count) into out (row_count * cols values). Single-threaded.
void decode_rows(const EncodedTensor& tensor, size_t first_row, size_t row_count, float* out);
// Decodes one encoded row (row_bytes(format, cols) bytes at src) into exactly `cols` values: the matvec
// kernels' dequantize-on-the-fly entry point. No allocation.
void decode_row(Format format, const uint8_t* src, size_t cols, float tensor_amax, float* out);
size_t row_bytes(Format format, size_t cols);

struct ErrorStats {
  double mse = 0.0;
  double signal_power = 0.0;  // mean of x^2
  double sqnr_db = 0.0;       // 10 log10(signal / mse); +inf when mse == 0
  double max_abs_error = 0.0;
  size_t nonfinite = 0;  // decoded values that are NaN/Inf
};
ErrorStats error_stats(std::span<const float> reference, std::span<const float> decoded);

// The standard test signal of the format table's tolerances: n deterministic N(0, 1) samples.
std::vector<float> test_signal(size_t n, uint64_t seed = 1);

}  // namespace xpusim::numerics
