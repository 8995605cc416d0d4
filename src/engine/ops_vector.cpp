// Element-wise and data-movement vector ops: vadd/vsub/vmul/vmax (with broadcast), vact, vtrans, quant,
// dequant. Arithmetic in fp32 on bf16 inputs, one output rounding (engine_numerics.h).
#include <cmath>
#include <vector>

#include "engine/block_formats.h"
#include "engine/engine_numerics.h"
#include "engine/ops.h"

namespace xpusim::engine {
namespace {

template <typename Fn>
void elementwise(EngineState& state, const Decoded& d, Fn fn) {
  const uint64_t a = state.address(d.a_reg, d.a_off);
  const uint64_t b = state.address(d.b_reg, d.b_off);
  const uint64_t c = state.address(d.c_reg, d.c_off);
  const int64_t lda = stride_or(d.lda, d.cols), ldb = stride_or(d.ldb, d.cols),
                ldc = stride_or(d.ldc, d.cols);
  const auto bcast = static_cast<Broadcast>(d.bcast);
  const float scalar = bf16_value(static_cast<uint16_t>(d.scale));
  const NumericsPolicy& policy = state.chip->numerics;
  for (int64_t r = 0; r < d.m; ++r) {
    for (int64_t j = 0; j < d.cols; ++j) {
      const float x = bf16_value(state.load_u16(a + static_cast<uint64_t>(2 * (r * lda + j))));
      float y;
      switch (bcast) {
        case Broadcast::none:
          y = bf16_value(state.load_u16(b + static_cast<uint64_t>(2 * (r * ldb + j))));
          break;
        case Broadcast::row:
          y = bf16_value(state.load_u16(b + static_cast<uint64_t>(2 * j)));
          break;
        case Broadcast::col:
          y = bf16_value(state.load_u16(b + static_cast<uint64_t>(2 * r)));
          break;
        default:
          y = scalar;
          break;
      }
      state.store_u16(c + static_cast<uint64_t>(2 * (r * ldc + j)), output_bf16(fn(x, y), policy));
    }
  }
}

}  // namespace

void op_vadd(EngineState& state, const Decoded& d) {
  elementwise(state, d, [](float x, float y) { return x + y; });
}
void op_vsub(EngineState& state, const Decoded& d) {
  elementwise(state, d, [](float x, float y) { return x - y; });
}
void op_vmul(EngineState& state, const Decoded& d) {
  elementwise(state, d, [](float x, float y) { return x * y; });
}
void op_vmax(EngineState& state, const Decoded& d) {
  elementwise(state, d, [](float x, float y) { return std::fmax(x, y); });
}

void op_vact(EngineState& state, const Decoded& d) {
  const uint64_t a = state.address(d.a_reg, d.a_off);
  const uint64_t c = state.address(d.c_reg, d.c_off);
  const int64_t lda = stride_or(d.lda, d.cols), ldc = stride_or(d.ldc, d.cols);
  const auto act = static_cast<Activation>(d.act);
  const float pa = bf16_value(static_cast<uint16_t>(d.act_a)),
              pb = bf16_value(static_cast<uint16_t>(d.act_b));
  for (int64_t r = 0; r < d.m; ++r)
    for (int64_t j = 0; j < d.cols; ++j) {
      const float x = bf16_value(state.load_u16(a + static_cast<uint64_t>(2 * (r * lda + j))));
      state.store_u16(c + static_cast<uint64_t>(2 * (r * ldc + j)),
                      output_bf16(apply_activation(act, x, pa, pb), state.chip->numerics));
    }
}

void op_transpose(EngineState& state, const Decoded& d) {
  const uint64_t a = state.address(d.a_reg, d.a_off);
  const uint64_t c = state.address(d.c_reg, d.c_off);
  const int64_t lda = stride_or(d.lda, d.cols), ldc = stride_or(d.ldc, d.m);
  // Read everything first: A and C may overlap (the planner allows in-place square transposes).
  std::vector<uint16_t> values(static_cast<size_t>(d.m * d.cols));
  for (int64_t r = 0; r < d.m; ++r)
    for (int64_t j = 0; j < d.cols; ++j)
      values[static_cast<size_t>(r * d.cols + j)] =
          state.load_u16(a + static_cast<uint64_t>(2 * (r * lda + j)));
  for (int64_t r = 0; r < d.m; ++r)
    for (int64_t j = 0; j < d.cols; ++j)
      state.store_u16(c + static_cast<uint64_t>(2 * (j * ldc + r)),
                      values[static_cast<size_t>(r * d.cols + j)]);
}

void op_quantize(EngineState& state, const Decoded& d) {
  const auto format = static_cast<WeightFormat>(d.fmt);
  const uint64_t a = state.address(d.a_reg, d.a_off);
  const uint64_t c = state.address(d.c_reg, d.c_off);
  const uint64_t s = state.address(d.s_reg, d.s_off);
  const int64_t lda = stride_or(d.lda, d.cols);
  const auto cols = static_cast<size_t>(d.cols);
  const size_t code_row = packed_bytes(format, 1, cols), scale_row = scale_bytes(format, 1, cols);
  std::vector<uint16_t> row(cols);
  for (int64_t r = 0; r < d.m; ++r) {
    for (size_t j = 0; j < cols; ++j)
      row[j] = state.load_u16(a + static_cast<uint64_t>(2 * (r * lda)) + 2 * j);
    quantize_row(format, row.data(), cols, state.sram.data() + c + static_cast<uint64_t>(r) * code_row,
                 state.sram.data() + s + static_cast<uint64_t>(r) * scale_row);
  }
}

void op_dequantize(EngineState& state, const Decoded& d) {
  const auto format = static_cast<WeightFormat>(d.fmt);
  const BlockFormatInfo& info = block_format_info(format);
  const uint64_t b = state.address(d.b_reg, d.b_off);
  const uint64_t c = state.address(d.c_reg, d.c_off);
  const uint64_t s = state.address(d.s_reg, d.s_off);
  const int64_t ldc = stride_or(d.ldc, d.cols);
  const auto cols = static_cast<size_t>(d.cols);
  const size_t code_row = packed_bytes(format, 1, cols);
  const size_t scale_row =
      info.scale_bytes == 0 ? 0
                            : cols / static_cast<size_t>(info.block) * static_cast<size_t>(info.scale_bytes);
  const uint8_t* codebook = state.sram.data() + s;
  std::vector<float> row(cols);
  for (int64_t r = 0; r < d.m; ++r) {
    decode_row(format, state.sram.data() + b + static_cast<uint64_t>(r) * code_row,
               codebook + info.codebook_bytes + static_cast<uint64_t>(r) * scale_row, codebook, cols,
               row.data());
    for (size_t j = 0; j < cols; ++j)
      state.store_u16(c + static_cast<uint64_t>(2 * r * ldc) + 2 * j,
                      output_bf16(row[j], state.chip->numerics));
  }
}

}  // namespace xpusim::engine
