#include "exec/fast_linear.h"
#include "core/enum_table.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "exec/kernels.h"
#include "numerics/tensor_codec.h"

namespace xpusim::exec {
namespace {

using simd::kPanelRows;

// Depth of one packed slice: 256 x 64 fp32 = 64 KiB, resident in L2 while every token block streams by.
constexpr int64_t kDepthBlock = 256;

// The stored bytes of row `row` of a GGUF / safetensors dtype (not NUMERICS).
const uint8_t* stored_row(const model::TensorView& weight, int64_t row) {
  const DTypeInfo& info = dtype_info(weight.dtype);
  const size_t row_bytes =
      static_cast<size_t>(weight.row_elements() / info.block_elements) * info.block_bytes;
  return reinterpret_cast<const uint8_t*>(weight.data) + static_cast<size_t>(row) * row_bytes;
}

const uint8_t* numerics_row(const model::TensorView& weight, int64_t row) {
  const size_t row_bytes =
      numerics::row_bytes(weight.numerics_format, static_cast<size_t>(weight.row_elements()));
  return reinterpret_cast<const uint8_t*>(weight.data) + static_cast<size_t>(row) * row_bytes;
}

const uint8_t* row_bytes_at(const model::TensorView& weight, int64_t row) {
  return weight.dtype == DType::NUMERICS ? numerics_row(weight, row) : stored_row(weight, row);
}

// The level's fused fp32 dot of the weight's rows and the block size its `blocks` argument counts, or a
// nullptr dot. Fused numerics rows need whole blocks (no padded last block): the dot reads exactly `in`
// values.
struct FusedRowDot {
  simd::FusedDot dot = nullptr;
  int64_t block = 1;
};
FusedRowDot fused_row_dot(const model::TensorView& weight, const simd::SimdKernels& kernels) {
  if (weight.dtype != DType::NUMERICS)
    return {simd::fused_dot(kernels, weight.dtype), dtype_info(weight.dtype).block_elements};
  const auto block = static_cast<int64_t>(numerics::format_row(weight.numerics_format).block_elements);
  if (weight.row_elements() % block != 0) return {};
  return {simd::fused_dot_numerics(kernels, weight.numerics_format), block};
}

// The tokens' activations as int8 blocks for the weight's integer dot (simd_kernels.h), when the level has
// one and the activations may be rounded.
struct IntegerDot {
  simd::Q8Dot dot = nullptr;
  simd::Q8DotRows dot_rows = nullptr;      // nullptr: dot per row
  simd::Q8DotTokens dot_tokens = nullptr;  // nullptr: no integer prefill GEMM
  float tensor_factor = 1.0f;
  const std::vector<simd::Q8Activations>* tokens = nullptr;
};

void gemv_rows(const model::TensorView& weight, const float* bias, const float* x, int64_t n, float* y,
               int64_t row_begin, int64_t row_end, const simd::SimdKernels& kernels,
               const IntegerDot& integer) {
  const int64_t in = weight.row_elements(), out = weight.rows();
  const bool stored = weight.dtype != DType::NUMERICS;
  const FusedRowDot fused = fused_row_dot(weight, kernels);
  // Rows of 2-byte floats: stored bf16 / f16, or numerics-packed bf16 / fp16 where the level's dots are
  // exact.
  const bool bf16_row = stored ? weight.dtype == DType::BF16
                               : kernels.exact_dots && weight.numerics_format == numerics::Format::BF16;
  const bool f16_row = stored ? weight.dtype == DType::F16
                              : kernels.exact_dots && weight.numerics_format == numerics::Format::FP16;
  if (integer.dot_rows) {
    // Contiguous rows of the range together (stored rows are evenly spaced).
    const uint8_t* first = row_bytes_at(weight, row_begin);
    const int64_t stride = out > 1 ? row_bytes_at(weight, 1) - row_bytes_at(weight, 0) : 0;
    for (int64_t t = 0; t < n; ++t) {
      float* y_t = y + t * out;
      integer.dot_rows(first, stride, row_end - row_begin, (*integer.tokens)[static_cast<size_t>(t)],
                       integer.tensor_factor, y_t + row_begin);
      if (bias) {
        for (int64_t r = row_begin; r < row_end; ++r) y_t[r] += bias[r];
      }
    }
    return;
  }
  std::vector<float> scratch;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float b = bias ? bias[r] : 0.0f;
    if (integer.dot) {
      const uint8_t* row = row_bytes_at(weight, r);
      for (int64_t t = 0; t < n; ++t) {
        y[t * out + r] =
            integer.dot(row, (*integer.tokens)[static_cast<size_t>(t)], integer.tensor_factor) + b;
      }
    } else if (fused.dot) {
      const uint8_t* row = row_bytes_at(weight, r);
      for (int64_t t = 0; t < n; ++t)
        y[t * out + r] = fused.dot(row, x + t * in, in / fused.block, weight.tensor_amax) + b;
    } else if ((bf16_row || f16_row) && reinterpret_cast<uintptr_t>(row_bytes_at(weight, r)) % 2 == 0) {
      const auto* row = reinterpret_cast<const uint16_t*>(row_bytes_at(weight, r));
      const auto dot = bf16_row ? kernels.dot_bf16 : kernels.dot_f16;
      for (int64_t t = 0; t < n; ++t) y[t * out + r] = dot(row, x + t * in, in) + b;
    } else {
      if (scratch.empty()) scratch.resize(static_cast<size_t>(in));
      const float* w = weight_row(weight, r, scratch.data());
      for (int64_t t = 0; t < n; ++t) y[t * out + r] = kernels.dot_f32(x + t * in, w, in) + b;
    }
  }
}

// Rows decoded together before being transposed into the panel: 16 rows x 16 columns is one tile of the
// transpose (16 cache lines in, 16 out, all resident in L1).
constexpr int64_t kRowGroup = 16;

// Panels are claimed one at a time from a shared counter, so a thread slowed by another process does not hold
// up the step (each panel's result does not depend on which thread computes it).
void gemm_panels(const model::TensorView& weight, const float* bias, const float* x, int64_t n, float* y,
                 std::atomic<int64_t>& next_panel, int64_t panels, const simd::SimdKernels& kernels) {
  const int64_t in = weight.row_elements(), out = weight.rows();
  std::vector<float> rows_buffer(static_cast<size_t>(kRowGroup * in));
  // bf16 rows (stored, or numerics bf16: the same bytes) widen with SIMD; other dtypes decode via weight_row.
  const bool bf16_rows = weight.dtype == DType::BF16 || (weight.dtype == DType::NUMERICS &&
                                                         weight.numerics_format == numerics::Format::BF16);
  std::vector<float> packed(static_cast<size_t>(in * kPanelRows));
  for (int64_t p = next_panel.fetch_add(1); p < panels; p = next_panel.fetch_add(1)) {
    const int64_t r0 = p * kPanelRows, rows = std::min(kPanelRows, out - r0);
    for (int64_t g0 = 0; g0 < kPanelRows; g0 += kRowGroup) {
      // Decode the group's rows (zeros past the last row), then transpose tile by tile.
      const float* group_rows[kRowGroup];
      for (int64_t i = 0; i < kRowGroup; ++i) {
        float* slot = rows_buffer.data() + i * in;
        if (g0 + i < rows && bf16_rows &&
            reinterpret_cast<uintptr_t>(row_bytes_at(weight, r0 + g0 + i)) % 2 == 0) {
          kernels.widen_bf16(reinterpret_cast<const uint16_t*>(row_bytes_at(weight, r0 + g0 + i)), slot, in);
          group_rows[i] = slot;
        } else if (g0 + i < rows) {
          group_rows[i] = weight_row(weight, r0 + g0 + i, slot);
        } else {
          std::fill(slot, slot + in, 0.0f);
          group_rows[i] = slot;
        }
      }
      int64_t k0 = 0;
      for (; k0 + kRowGroup <= in; k0 += kRowGroup) {
        const float* tile[kRowGroup];
        for (int64_t i = 0; i < kRowGroup; ++i) tile[i] = group_rows[i] + k0;
        kernels.transpose16(tile, packed.data() + k0 * kPanelRows + g0, kPanelRows);
      }
      for (int64_t k = k0; k < in; ++k) {
        float* dst = packed.data() + k * kPanelRows + g0;
        for (int64_t i = 0; i < kRowGroup; ++i) dst[i] = group_rows[i][k];
      }
    }
    for (int64_t k0 = 0; k0 < in; k0 += kDepthBlock) {
      const int64_t depth = std::min(kDepthBlock, in - k0);
      kernels.gemm_panel(x + k0, in, n, packed.data() + k0 * kPanelRows, depth, y + r0, out, rows, k0 > 0);
    }
    if (bias) {
      for (int64_t t = 0; t < n; ++t) {
        for (int64_t i = 0; i < rows; ++i) y[t * out + r0 + i] += bias[r0 + i];
      }
    }
  }
}

// The weight's integer-dot target when the level has a dot for it and the rows fit it (depth a multiple of
// 32 and of the format's row multiple) and int8 activations are allowed; else kind kNone.
simd::Q8Target integer_target(const model::TensorView& weight, const simd::SimdKernels& kernels,
                              Activations activations) {
  const int64_t in = weight.row_elements();
  if (activations != Activations::kInt8Blocks || in % simd::kQ8Block != 0) return {};
  const simd::Q8Target target = weight.dtype == DType::NUMERICS ? simd::q8_target(weight.numerics_format)
                                                                : simd::q8_target(weight.dtype);
  if (!simd::q8_dot(kernels, target.kind) || in % target.row_multiple != 0) return {};
  return target;
}

// Quantizes the n tokens' activations for the weight's integer dot; a dot of nullptr if there is none
// (level, format, depth not a multiple of 32, fp32 asked for, or NaN / Inf in x).
// pool: quantizes the tokens in parallel (prefill); nullptr: on this thread.
IntegerDot integer_dot(const model::TensorView& weight, const float* x, int64_t n,
                       const simd::SimdKernels& kernels, Activations activations,
                       ThreadPool* pool = nullptr) {
  const int64_t in = weight.row_elements();
  const simd::Q8Target target = integer_target(weight, kernels, activations);
  const simd::Q8Dot dot = simd::q8_dot(kernels, target.kind);
  if (!dot) return {};
  // One buffer set per calling thread, reused across calls (the executor calls from one thread).
  thread_local std::vector<simd::Q8Activations> buffers;
  if (buffers.size() < static_cast<size_t>(n)) buffers.resize(static_cast<size_t>(n));
  // A name for the caller's buffers: inside the lambda `buffers` would be the worker thread's own.
  std::vector<simd::Q8Activations>& tokens = buffers;
  std::atomic<bool> finite{true};
  const auto quantize = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      if (!kernels.quantize_q8(x + t * in, in, target.order, tokens[static_cast<size_t>(t)]))
        finite.store(false, std::memory_order_relaxed);
    }
  };
  if (pool) {
    pool->parallel_for(n, 16, quantize);
  } else {
    quantize(0, n);
  }
  if (!finite.load()) return {};
  return {dot, simd::q8_dot_rows(kernels, target.kind), simd::q8_dot_tokens(kernels, target.kind),
          weight.tensor_amax / target.tensor_divisor, &tokens};
}

// The integer prefill GEMM runs below this many tokens. Measured on GPT-2 Q4_K_M (2-core AMD EPYC, AVX2,
// 2026-12-07; docs/performance.md): 1.5x faster than the fp32 panel GEMM at 16 tokens, 1.15x slower at 64 and
// 1.5x slower at 512, where the panel GEMM's 12 FMAs per 3 tokens x 32 rows beat the per-32-value fp32
// scaling the int8 activation blocks need (and its one-off panel decode no longer counts).
constexpr int64_t kIntegerGemmMaxTokens = 32;

// Rows of one tile of the integer prefill GEMM: 32 rows of a K-quant weight (<= 8 KiB at 2048 columns of
// Q4_K) stay in L1 / L2 while every group of kQ8Tokens tokens passes over them, and each group's int8
// activations stay in L1 while the 32 rows pass.
constexpr int64_t kIntegerRowTile = 32;

// y[t, r] for the tiles claimed from next_tile (as gemm_panels: a slowed thread does not hold up the step).
void integer_gemm_tiles(const model::TensorView& weight, const float* bias, int64_t n, float* y,
                        const IntegerDot& integer, std::atomic<int64_t>& next_tile, int64_t tiles) {
  const int64_t out = weight.rows();
  const auto& tokens = *integer.tokens;
  for (int64_t p = next_tile.fetch_add(1); p < tiles; p = next_tile.fetch_add(1)) {
    const int64_t r0 = p * kIntegerRowTile, r1 = std::min(out, r0 + kIntegerRowTile);
    for (int64_t t0 = 0; t0 < n; t0 += simd::kQ8Tokens) {
      const int64_t count = std::min(simd::kQ8Tokens, n - t0);
      const simd::Q8Activations* group[simd::kQ8Tokens];
      for (int64_t i = 0; i < count; ++i) group[i] = &tokens[static_cast<size_t>(t0 + i)];
      for (int64_t r = r0; r < r1; ++r)
        integer.dot_tokens(row_bytes_at(weight, r), group, count, integer.tensor_factor, y + t0 * out + r,
                           out);
    }
    if (bias) {
      for (int64_t t = 0; t < n; ++t) {
        for (int64_t r = r0; r < r1; ++r) y[t * out + r] += bias[r];
      }
    }
  }
}

}  // namespace

LinearPath decode_path(const model::TensorView& weight, const simd::SimdKernels& kernels,
                       Activations activations) {
  const bool stored = weight.dtype != DType::NUMERICS;
  if (integer_target(weight, kernels, activations).kind != simd::Q8Kind::kNone)
    return LinearPath::kIntegerDot;
  if (stored && weight.dtype == DType::F32) return LinearPath::kFp32InPlace;
  if (stored ? (weight.dtype == DType::BF16 || weight.dtype == DType::F16)
             : kernels.exact_dots && (weight.numerics_format == numerics::Format::BF16 ||
                                      weight.numerics_format == numerics::Format::FP16))
    return LinearPath::kHalfDot;
  return fused_row_dot(weight, kernels).dot ? LinearPath::kFusedDot : LinearPath::kDecodedRows;
}

constexpr EnumName<LinearPath> kLinearPathNames[] = {
    {LinearPath::kIntegerDot, "integer dot (int8 activations)"},
    {LinearPath::kFusedDot, "fused fp32 dot"},
    {LinearPath::kFp32InPlace, "fp32 dot in place"},
    {LinearPath::kHalfDot, "fused bf16/f16 dot"},
    {LinearPath::kDecodedRows,
     "SLOW: decoded to fp32 row by row (no fast kernel for this type at this SIMD level)"}};

const char* linear_path_name(LinearPath path) { return enum_name(kLinearPathNames, path).data(); }

bool is_lm_head(const model::TensorView& weight) {
  return weight.name == "output.weight" || weight.name == "token_embd.weight";
}

// Read on every call (tests switch it; a few hundred ns next to a GEMV).
Activations default_activations() {
  const char* env = std::getenv("XPUSIM_EXACT_LINEAR");
  return env && std::string_view(env) == "1" ? Activations::kFp32 : Activations::kInt8Blocks;
}

namespace {
thread_local int t_decode_numerics_scopes = 0;
}  // namespace

DecodeNumericsScope::DecodeNumericsScope() { ++t_decode_numerics_scopes; }
DecodeNumericsScope::~DecodeNumericsScope() { --t_decode_numerics_scopes; }

void linear_fast(const model::TensorView& weight, const float* bias, const float* x, int64_t n, float* y,
                 ThreadPool& pool, const simd::SimdKernels& kernels, Activations activations) {
  if (n < kGemmMinTokens || t_decode_numerics_scopes > 0) {
    const IntegerDot integer = integer_dot(weight, x, n, kernels, activations);
    pool.parallel_for(weight.rows(), 64, [&](int64_t begin, int64_t end) {
      gemv_rows(weight, bias, x, n, y, begin, end, kernels, integer);
    });
    return;
  }
  // Short prefill of a weight kind with a multi-token integer kernel: int8 activations quantized once, GEMM
  // in tiles. (Checked before quantizing: other kinds and longer prompts take the fp32 panel GEMM.)
  if (n < kIntegerGemmMaxTokens &&
      simd::q8_dot_tokens(kernels, integer_target(weight, kernels, activations).kind)) {
    const IntegerDot integer = integer_dot(weight, x, n, kernels, activations, &pool);
    if (integer.dot_tokens) {
      const int64_t tiles = (weight.rows() + kIntegerRowTile - 1) / kIntegerRowTile;
      std::atomic<int64_t> next_tile{0};
      pool.parallel_for(std::min<int64_t>(tiles, pool.size()), 1, [&](int64_t, int64_t) {
        integer_gemm_tiles(weight, bias, n, y, integer, next_tile, tiles);
      });
      return;
    }
  }
  const int64_t panels = (weight.rows() + kPanelRows - 1) / kPanelRows;
  std::atomic<int64_t> next_panel{0};
  pool.parallel_for(std::min<int64_t>(panels, pool.size()), 1, [&](int64_t, int64_t) {
    gemm_panels(weight, bias, x, n, y, next_panel, panels, kernels);
  });
}

// y [n, out] = x [n, in] W^T (+ b). The LM head (output.weight, or the tied token_embd.weight) keeps fp32
// activations: its input, the final norm's output, has outlier channels (SmolLM2-135M: |x| up to 33 where
// most are below 1) that int8 blocks round coarsely, and greedy decoding hangs on the argmax of its
// logits (with int8 activations there the default model's greedy text leaves the transformers golden at
// the first token; with the head exact it matches). Its weights are bf16 under --precision anyway.
void run_linear(const KernelArgs& args) {
  const model::TensorView& weight = *args.in[1]->weight;
  const float* bias = args.in.size() > 2 ? args.in[2]->weight_f32 : nullptr;
  linear_fast(weight, bias, args.in[0]->f32, args.in[0]->tensor->shape[0], args.out.f32, args.pool,
              simd::simd_kernels(), is_lm_head(weight) ? Activations::kFp32 : default_activations());
}

}  // namespace xpusim::exec
