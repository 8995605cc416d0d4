// Row reductions: vred (sum, max, mean, 1/rms, mean+1/std), softmax (full and online with running
// max/sum contexts for flash-style attention), ctx (clear/read contexts), topk (k <= 8).
// Sums accumulate sequentially in the accumulator format; final math in fp32 (engine_numerics.h).
#include <cmath>
#include <limits>
#include <vector>

#include "engine/engine_numerics.h"
#include "engine/ops.h"

namespace xpusim::engine {
namespace {

float load(const EngineState& state, uint64_t base, int64_t index) {
  return bf16_value(state.load_u16(base + static_cast<uint64_t>(2 * index)));
}

}  // namespace

void op_vreduce(EngineState& state, const Decoded& d) {
  const uint64_t a = state.address(d.a_reg, d.a_off);
  const uint64_t c = state.address(d.c_reg, d.c_off);
  const int64_t lda = stride_or(d.lda, d.cols);
  const NumericsPolicy& policy = state.chip->numerics;
  const auto mode = static_cast<ReduceMode>(d.mode);
  const float eps = bf16_value(static_cast<uint16_t>(d.scale));
  const auto n = static_cast<float>(d.cols);
  for (int64_t r = 0; r < d.m; ++r) {
    float sum = 0, sum_sq = 0, mx = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < d.cols; ++j) {
      const float x = load(state, a, r * lda + j);
      sum = accumulate_round(sum + x, policy);
      sum_sq = accumulate_round(sum_sq + x * x, policy);
      mx = std::fmax(mx, x);
    }
    switch (mode) {
      case ReduceMode::sum:
        state.store_u16(c + static_cast<uint64_t>(2 * r), output_bf16(sum, policy));
        break;
      case ReduceMode::max:
        state.store_u16(c + static_cast<uint64_t>(2 * r), output_bf16(mx, policy));
        break;
      case ReduceMode::mean:
        state.store_u16(c + static_cast<uint64_t>(2 * r), output_bf16(sum / n, policy));
        break;
      case ReduceMode::rms_inv:
        state.store_u16(c + static_cast<uint64_t>(2 * r),
                        output_bf16(1.0f / std::sqrt(sum_sq / n + eps), policy));
        break;
      case ReduceMode::meanvar: {
        const float mean = sum / n;
        const float var = std::fmax(sum_sq / n - mean * mean, 0.0f);
        state.store_u16(c + static_cast<uint64_t>(4 * r), output_bf16(mean, policy));
        state.store_u16(c + static_cast<uint64_t>(4 * r + 2),
                        output_bf16(1.0f / std::sqrt(var + eps), policy));
        break;
      }
      case ReduceMode::COUNT:
        break;
    }
  }
}

void op_softmax(EngineState& state, const Decoded& d) {
  const uint64_t a = state.address(d.a_reg, d.a_off);
  const uint64_t c = state.address(d.c_reg, d.c_off);
  const uint64_t s = state.address(d.s_reg, d.s_off);
  const int64_t lda = stride_or(d.lda, d.cols), ldc = stride_or(d.ldc, d.cols);
  const NumericsPolicy& policy = state.chip->numerics;
  const float scale = scale_or_one(d.scale);
  const bool online = static_cast<SoftmaxMode>(d.mode) == SoftmaxMode::online;
  std::vector<float> x(static_cast<size_t>(d.cols));
  std::vector<uint16_t> e(static_cast<size_t>(d.cols));
  for (int64_t r = 0; r < d.m; ++r) {
    float row_max = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < d.cols; ++j) {
      x[static_cast<size_t>(j)] = load(state, a, r * lda + j) * scale;
      row_max = std::fmax(row_max, x[static_cast<size_t>(j)]);
    }
    const size_t slot = static_cast<size_t>(d.ctx + r);
    const float old_max = online ? state.ctx_max[slot] : -std::numeric_limits<float>::infinity();
    const float new_max = std::fmax(old_max, row_max);
    float sum = 0;
    for (int64_t j = 0; j < d.cols; ++j) {
      // exp(-inf - -inf) would be NaN: a fully masked row so far contributes zeros.
      const float shifted = new_max == -std::numeric_limits<float>::infinity()
                                ? -std::numeric_limits<float>::infinity()
                                : x[static_cast<size_t>(j)] - new_max;
      e[static_cast<size_t>(j)] = output_bf16(std::exp(shifted), policy);
      sum = accumulate_round(sum + bf16_value(e[static_cast<size_t>(j)]), policy);
    }
    if (online) {
      const float correction =
          old_max == -std::numeric_limits<float>::infinity() ? 0.0f : std::exp(old_max - new_max);
      state.ctx_max[slot] = new_max;
      state.ctx_sum[slot] = accumulate_round(state.ctx_sum[slot] * correction + sum, policy);
      state.store_u16(s + static_cast<uint64_t>(2 * r), output_bf16(correction, policy));
      for (int64_t j = 0; j < d.cols; ++j)
        state.store_u16(c + static_cast<uint64_t>(2 * (r * ldc + j)), e[static_cast<size_t>(j)]);
    } else {
      const float inverse = to_bf19(1.0f / sum);  // LALU RECIP result, passed on in bf19
      for (int64_t j = 0; j < d.cols; ++j)
        state.store_u16(c + static_cast<uint64_t>(2 * (r * ldc + j)),
                        output_bf16(bf16_value(e[static_cast<size_t>(j)]) * inverse, policy));
    }
  }
}

void op_context(EngineState& state, const Decoded& d) {
  const uint64_t c = state.address(d.c_reg, d.c_off);
  const NumericsPolicy& policy = state.chip->numerics;
  for (int64_t i = 0; i < d.count; ++i) {
    const auto slot = static_cast<size_t>(d.ctx + i);
    const uint64_t out = c + static_cast<uint64_t>(2 * i);
    switch (static_cast<ContextMode>(d.mode)) {
      case ContextMode::clear:
        state.ctx_max[slot] = -std::numeric_limits<float>::infinity();
        state.ctx_sum[slot] = 0;
        break;
      case ContextMode::read_max:
        state.store_u16(out, output_bf16(state.ctx_max[slot], policy));
        break;
      case ContextMode::read_sum:
        state.store_u16(out, output_bf16(state.ctx_sum[slot], policy));
        break;
      case ContextMode::read_recip_sum:
        state.store_u16(out, output_bf16(1.0f / state.ctx_sum[slot], policy));
        break;
      case ContextMode::COUNT:
        break;
    }
  }
}

void op_topk(EngineState& state, const Decoded& d) {
  const uint64_t a = state.address(d.a_reg, d.a_off);
  const uint64_t c = state.address(d.c_reg, d.c_off);
  const uint64_t s = state.address(d.s_reg, d.s_off);
  const int64_t lda = stride_or(d.lda, d.cols);
  const auto k = static_cast<size_t>(d.count);
  // Order: larger value first; NaN below everything; equal values: lower index first.
  auto better = [](float v, float w) { return !std::isnan(v) && (std::isnan(w) || v > w); };
  for (int64_t r = 0; r < d.m; ++r) {
    float values[8];
    uint32_t indices[8];
    size_t filled = 0;
    for (int64_t j = 0; j < d.cols; ++j) {
      const float v = load(state, a, r * lda + j);
      size_t pos = filled;
      while (pos > 0 && better(v, values[pos - 1])) --pos;
      if (pos >= k) continue;
      for (size_t q = std::min(filled, k - 1); q > pos; --q) {
        values[q] = values[q - 1];
        indices[q] = indices[q - 1];
      }
      values[pos] = v;
      indices[pos] = static_cast<uint32_t>(j);
      filled = std::min(filled + 1, k);
    }
    for (size_t q = 0; q < k; ++q) {
      const uint32_t index = indices[q];
      std::memcpy(state.sram.data() + c + 4 * (static_cast<uint64_t>(r) * k + q), &index, 4);
      state.store_u16(s + 2 * (static_cast<uint64_t>(r) * k + q), numerics::bits::f32_to_bf16(values[q]));
    }
  }
}

}  // namespace xpusim::engine
