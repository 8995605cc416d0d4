// mm: C = act((A·Bᵀ + bias) · scale). Numerics (engine_numerics.h): bf19 multiply inputs, products exact in
// fp32, sequential accumulation over k with the accumulator rounding after every add, fp32 epilogue,
// configured output rounding. The kernel below keeps exactly that order per output element and only
// reorders *independent* outputs (4 rows x 256 columns at a time) for speed.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/block_formats.h"
#include "engine/engine_numerics.h"
#include "engine/ops.h"

namespace xpusim::engine {
namespace {

typedef float f32x4 __attribute__((vector_size(16)));
typedef uint32_t u32x4 __attribute__((vector_size(16)));

struct AccRounder {
  uint32_t mask;
  uint32_t half_minus_one;
  uint32_t drop;
  bool rne;

  explicit AccRounder(const NumericsPolicy& policy)
      : mask(policy.acc_mantissa_bits >= 23 ? 0xFFFFFFFFu : ~((1u << (23 - policy.acc_mantissa_bits)) - 1u)),
        half_minus_one(policy.acc_mantissa_bits >= 23 ? 0u : (1u << (22 - policy.acc_mantissa_bits)) - 1u),
        drop(static_cast<uint32_t>(std::max(0, 23 - policy.acc_mantissa_bits))),
        rne(policy.acc_rounding == Rounding::rne && policy.acc_mantissa_bits < 23) {}

  f32x4 apply(f32x4 v) const {
    u32x4 u = (u32x4)v;
    if (rne) {
      const u32x4 finite = (u & 0x7F800000u) != 0x7F800000u;  // -1 where finite
      u += (half_minus_one + ((u >> drop) & 1u)) & finite;
    }
    return (f32x4)(u & mask);
  }
};

constexpr size_t kRowBlock = 4;
constexpr size_t kColBlock = 256;

}  // namespace

void op_matmul(EngineState& state, const Decoded& d) {
  const auto m = static_cast<size_t>(d.m), n = static_cast<size_t>(d.n), k = static_cast<size_t>(d.k);
  const auto ldc = static_cast<size_t>(stride_or(d.ldc, d.n));
  const auto format = static_cast<WeightFormat>(d.fmt);
  const NumericsPolicy& policy = state.chip->numerics;
  const uint64_t a_addr = state.address(d.a_reg, d.a_off);
  const uint64_t b_addr = state.address(d.b_reg, d.b_off);
  const uint64_t c_addr = state.address(d.c_reg, d.c_off);
  const uint64_t s_addr = state.address(d.s_reg, d.s_off);
  const uint64_t bias_addr = state.address(d.bias_reg, d.bias_off);
  const BlockFormatInfo& info = block_format_info(format);

  // Decode B to bf19 multiply inputs, transposed to [k][n padded] so outputs vectorize.
  const size_t n_padded = (n + 3) / 4 * 4;
  std::vector<float> bt(k * n_padded, 0.0f);
  std::vector<float> row(k);
  const size_t code_row_bytes = packed_bytes(format, 1, k);
  const size_t scale_row_bytes =
      info.scale_bytes == 0 ? 0
                            : (k / static_cast<size_t>(info.block)) * static_cast<size_t>(info.scale_bytes);
  const uint8_t* codebook = state.sram.data() + s_addr;
  const uint8_t* scales = codebook + info.codebook_bytes;
  for (size_t j = 0; j < n; ++j) {
    decode_row(format, state.sram.data() + b_addr + j * code_row_bytes, scales + j * scale_row_bytes,
               codebook, k, row.data());
    for (size_t kk = 0; kk < k; ++kk) bt[kk * n_padded + j] = to_bf19(row[kk]);
  }
  std::vector<float> a_rows(kRowBlock * k);
  const AccRounder rounder(policy);
  const float scale = scale_or_one(d.scale);
  const float act_a = bf16_value(static_cast<uint16_t>(d.act_a));
  const float act_b = bf16_value(static_cast<uint16_t>(d.act_b));
  const auto act = static_cast<Activation>(d.act);
  alignas(16) float acc[kRowBlock][kColBlock];

  for (size_t i0 = 0; i0 < m; i0 += kRowBlock) {
    const size_t rows = std::min(kRowBlock, m - i0);
    for (size_t r = 0; r < kRowBlock; ++r)
      for (size_t kk = 0; kk < k; ++kk)
        a_rows[r * k + kk] =
            r < rows ? to_bf19(bf16_value(state.load_u16(a_addr + 2 * ((i0 + r) * k + kk)))) : 0.0f;
    for (size_t j0 = 0; j0 < n_padded; j0 += kColBlock) {
      const size_t cols = std::min(kColBlock, n_padded - j0);
      for (auto& acc_row : acc) std::fill(acc_row, acc_row + kColBlock, 0.0f);
      if (rows == 1) {  // decode-shaped (m = 1): one accumulator row, no work on the padding rows
        for (size_t kk = 0; kk < k; ++kk) {
          const float* b = bt.data() + kk * n_padded + j0;
          const f32x4 a0 = {a_rows[kk], a_rows[kk], a_rows[kk], a_rows[kk]};
          for (size_t j = 0; j < cols; j += 4) {
            f32x4 bv, c0;
            std::memcpy(&bv, b + j, sizeof bv);
            std::memcpy(&c0, &acc[0][j], sizeof c0);
            c0 = rounder.apply(c0 + a0 * bv);
            std::memcpy(&acc[0][j], &c0, sizeof c0);
          }
        }
      }
      for (size_t kk = 0; rows > 1 && kk < k; ++kk) {
        const float* b = bt.data() + kk * n_padded + j0;
        const f32x4 a0 = {a_rows[kk], a_rows[kk], a_rows[kk], a_rows[kk]};
        const float a1s = a_rows[k + kk], a2s = a_rows[2 * k + kk], a3s = a_rows[3 * k + kk];
        const f32x4 a1 = {a1s, a1s, a1s, a1s}, a2 = {a2s, a2s, a2s, a2s}, a3 = {a3s, a3s, a3s, a3s};
        for (size_t j = 0; j < cols; j += 4) {
          f32x4 bv;
          std::memcpy(&bv, b + j, sizeof bv);
          f32x4 c0, c1, c2, c3;
          std::memcpy(&c0, &acc[0][j], sizeof c0);
          std::memcpy(&c1, &acc[1][j], sizeof c1);
          std::memcpy(&c2, &acc[2][j], sizeof c2);
          std::memcpy(&c3, &acc[3][j], sizeof c3);
          c0 = rounder.apply(c0 + a0 * bv);
          c1 = rounder.apply(c1 + a1 * bv);
          c2 = rounder.apply(c2 + a2 * bv);
          c3 = rounder.apply(c3 + a3 * bv);
          std::memcpy(&acc[0][j], &c0, sizeof c0);
          std::memcpy(&acc[1][j], &c1, sizeof c1);
          std::memcpy(&acc[2][j], &c2, sizeof c2);
          std::memcpy(&acc[3][j], &c3, sizeof c3);
        }
      }
      // Epilogue for the valid outputs of this block.
      for (size_t r = 0; r < rows; ++r) {
        const size_t i = i0 + r;
        float row_max = -std::numeric_limits<float>::infinity();
        for (size_t j = j0; j < std::min(j0 + cols, n); ++j) {
          float y = acc[r][j - j0];
          if (d.bias_en) y = y + bf16_value(state.load_u16(bias_addr + 2 * j));
          y = y * scale;
          y = apply_activation(act, y, act_a, act_b);
          const uint16_t out = output_bf16(y, policy);
          state.store_u16(c_addr + 2 * (i * ldc + j), out);
          row_max = std::fmax(row_max, bf16_value(out));
        }
        if (d.fmax_en) state.ctx_max[i] = std::fmax(state.ctx_max[i], row_max);
      }
    }
  }
}

}  // namespace xpusim::engine
