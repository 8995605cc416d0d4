// mm: C = act((A·Bᵀ + bias) · scale). Numerics (engine_numerics.h): bf19 multiply inputs, products exact in
// fp32, sequential accumulation over k with the accumulator rounding after every add, fp32 epilogue,
// configured output rounding. The kernels (simd_mm.h) keep exactly that order per output element and only
// reorder *independent* outputs: B is decoded a panel of 64 outputs x 128 steps of k at a time and reused by
// every row of A. All operands are read before C is written, so overlapping operands see the inputs.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "engine/block_formats.h"
#include "engine/engine_numerics.h"
#include "engine/ops.h"
#include "engine/simd_mm.h"

namespace xpusim::engine {

void op_matmul(EngineState& state, const Decoded& d) {
  const auto m = static_cast<size_t>(d.m), n = static_cast<size_t>(d.n), k = static_cast<size_t>(d.k);
  const auto ldc = static_cast<size_t>(stride_or(d.ldc, d.n));
  const auto format = static_cast<WeightFormat>(d.fmt);
  const NumericsPolicy& policy = state.chip->numerics;
  const uint64_t a_addr = state.address(d.a_reg, d.a_off);
  const uint64_t c_addr = state.address(d.c_reg, d.c_off);
  const uint64_t bias_addr = state.address(d.bias_reg, d.bias_off);
  simd::WeightStrip strip = simd::WeightStrip::make(
      format, state.sram.data() + state.address(d.b_reg, d.b_off),
      format == WeightFormat::bf16 ? nullptr : state.sram.data() + state.address(d.s_reg, d.s_off), k);
  strip.read_ahead = std::exchange(state.read_ahead, nullptr);  // one matmul prefetches a region once
  strip.read_ahead_bytes = std::exchange(state.read_ahead_bytes, 0);
  thread_local std::vector<float> a, acc, bias;
  a.resize(m * k);  // A as bf19 multiply inputs (bf16 values are exact in bf19)
  for (size_t i = 0; i < m * k; ++i) a[i] = to_bf19(bf16_value(state.load_u16(a_addr + 2 * i)));
  acc.resize(m * n);
  simd::mm_accumulate(simd::mm_kernels(), strip, a.data(), m, n, k, simd::AccRounding::from(policy),
                      acc.data());
  bias.resize(n);
  for (size_t j = 0; j < n; ++j) bias[j] = d.bias_en ? bf16_value(state.load_u16(bias_addr + 2 * j)) : 0.0f;
  const float scale = scale_or_one(d.scale);
  const float act_a = bf16_value(static_cast<uint16_t>(d.act_a));
  const float act_b = bf16_value(static_cast<uint16_t>(d.act_b));
  const auto act = static_cast<Activation>(d.act);
  for (size_t i = 0; i < m; ++i) {
    float row_max = -std::numeric_limits<float>::infinity();
    for (size_t j = 0; j < n; ++j) {
      float y = acc[i * n + j];
      if (d.bias_en) y = y + bias[j];
      y = y * scale;
      y = apply_activation(act, y, act_a, act_b);
      const uint16_t out = output_bf16(y, policy);
      state.store_u16(c_addr + 2 * (i * ldc + j), out);
      if (d.fmax_en) row_max = std::fmax(row_max, bf16_value(out));
    }
    if (d.fmax_en) state.ctx_max[i] = std::fmax(state.ctx_max[i], row_max);
  }
}

}  // namespace xpusim::engine
