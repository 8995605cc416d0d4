// Property tests: each data op's simulated result equals a plain host loop over the same numerics
// (engine_numerics.h: bf19 inputs, sequential accumulator rounding, fp32 epilogue, output rounding),
// bit for bit, over random shapes, values and formats.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/block_formats.h"
#include "engine/engine_numerics.h"
#include "engine/program.h"
#include "engine_test_util.h"

namespace xpusim::engine {
namespace {

using test::fill_bf16;
using test::fill_bytes;

constexpr uint64_t kA = 0x00000, kB = 0x20000, kS = 0x60000, kBias = 0x70000, kC = 0x80000, kD = 0xC0000;

RunResult run_one(Simulator& sim, ProgramBuilder& b) {
  b.halt();
  sim.load_program(0, b.finish());
  return sim.run();
}

TEST(OpsProperty, MatmulAllFormatsBitExact) {
  std::mt19937 rng(7);
  const ChipConfig chip = load_chip("ue-kintex7");
  for (int trial = 0; trial < 40; ++trial) {
    const auto format = static_cast<WeightFormat>(trial % static_cast<int>(WeightFormat::COUNT));
    const BlockFormatInfo& info = block_format_info(format);
    const int64_t m = 1 + rng() % 6, n = 1 + rng() % 70, k = 64 * (1 + rng() % 3);
    Simulator sim(chip);
    EngineState& st = sim.engine_state(0);
    fill_bf16(st, kA, static_cast<size_t>(m * k), rng);
    if (format == WeightFormat::bf16)
      fill_bf16(st, kB, static_cast<size_t>(n * k), rng, 0.1f);
    else
      fill_bytes(st, kB, packed_bytes(format, static_cast<size_t>(n), static_cast<size_t>(k)), rng);
    const size_t scales = scale_bytes(format, static_cast<size_t>(n), static_cast<size_t>(k));
    for (size_t i = 0; i < scales; i += static_cast<size_t>(info.scale_bytes == 1 ? 1 : 2)) {
      if (info.scale_bytes == 1)
        st.sram[kS + i] = static_cast<uint8_t>(0x30 + rng() % 16 + (rng() % 2) * 0x80);
      else
        st.store_u16(kS + i, test::random_bf16(rng, 0.05f));
    }
    fill_bf16(st, kBias, static_cast<size_t>(n), rng);
    const ActivationPreset acts[] = {{Activation::none, 0, 0}, kGelu, kSilu, kSigmoid, kTanh, kRelu};
    MatmulArgs args{.a = at(kA),
                    .b = at(kB),
                    .c = at(kC),
                    .s = at(kS),
                    .bias = at(kBias),
                    .m = m,
                    .n = n,
                    .k = k,
                    .ldc = n + static_cast<int64_t>(rng() % 3),
                    .fmt = format,
                    .act = acts[trial % 6],
                    .bias_en = (trial % 3) == 0,
                    .fmax_en = true,
                    .scale = static_cast<uint16_t>(trial % 4 == 0 ? 0x3F00 : 0)};
    ProgramBuilder b;
    b.mm(args);
    const std::vector<uint8_t> before(st.sram.begin(), st.sram.end());
    run_one(sim, b);
    // Host reference.
    const NumericsPolicy& p = chip.numerics;
    std::vector<float> w(static_cast<size_t>(k));
    const size_t code_row = packed_bytes(format, 1, static_cast<size_t>(k));
    const size_t scale_row =
        info.scale_bytes == 0 ? 0 : static_cast<size_t>(k / info.block * info.scale_bytes);
    for (int64_t i = 0; i < m; ++i) {
      float row_max = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < n; ++j) {
        decode_row(format, before.data() + kB + static_cast<size_t>(j) * code_row,
                   before.data() + kS + info.codebook_bytes + static_cast<size_t>(j) * scale_row,
                   before.data() + kS, static_cast<size_t>(k), w.data());
        float acc = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          uint16_t a_bits;
          std::memcpy(&a_bits, before.data() + kA + 2 * (i * k + kk), 2);
          acc = accumulate_round(acc + to_bf19(bf16_value(a_bits)) * to_bf19(w[static_cast<size_t>(kk)]), p);
        }
        uint16_t bias_bits;
        std::memcpy(&bias_bits, before.data() + kBias + 2 * j, 2);
        float y = args.bias_en ? acc + bf16_value(bias_bits) : acc;
        y = y * scale_or_one(args.scale);
        y = apply_activation(args.act.act, y, bf16_value(args.act.a), bf16_value(args.act.b));
        const uint16_t expect = output_bf16(y, p);
        ASSERT_EQ(st.load_u16(kC + static_cast<uint64_t>(2 * (i * args.ldc + j))), expect)
            << weight_format_name(format) << " trial " << trial << " at " << i << "," << j;
        row_max = std::fmax(row_max, bf16_value(expect));
      }
      EXPECT_EQ(st.ctx_max[static_cast<size_t>(i)], row_max);
    }
  }
}

TEST(OpsProperty, ElementwiseBroadcastAndActivation) {
  std::mt19937 rng(11);
  const ChipConfig chip = load_chip("ue-kintex7");
  for (int trial = 0; trial < 30; ++trial) {
    const int64_t rows = 1 + rng() % 5, cols = 1 + rng() % 150;
    const auto bcast = static_cast<Broadcast>(trial % 4);
    const Opcode ops[] = {Opcode::vadd, Opcode::vsub, Opcode::vmul, Opcode::vmax};
    const Opcode op = ops[(trial / 4) % 4];
    Simulator sim(chip);
    EngineState& st = sim.engine_state(0);
    fill_bf16(st, kA, static_cast<size_t>(rows * cols), rng);
    fill_bf16(st, kB, static_cast<size_t>(rows * cols), rng);
    const std::vector<uint8_t> before(st.sram.begin(), st.sram.end());
    const uint16_t scalar = test::random_bf16(rng);
    ProgramBuilder b;
    b.vbinary(op, {.a = at(kA),
                   .b = at(kB),
                   .c = at(kC),
                   .rows = rows,
                   .cols = cols,
                   .bcast = bcast,
                   .scalar = scalar});
    b.vact({.a = at(kA), .c = at(kD), .rows = rows, .cols = cols}, kGelu);
    run_one(sim, b);
    auto in = [&](uint64_t base, int64_t idx) {
      uint16_t v;
      std::memcpy(&v, before.data() + base + 2 * idx, 2);
      return bf16_value(v);
    };
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; ++j) {
        const float x = in(kA, r * cols + j);
        const float y = bcast == Broadcast::none  ? in(kB, r * cols + j)
                        : bcast == Broadcast::row ? in(kB, j)
                        : bcast == Broadcast::col ? in(kB, r)
                                                  : bf16_value(scalar);
        const float z = op == Opcode::vadd   ? x + y
                        : op == Opcode::vsub ? x - y
                        : op == Opcode::vmul ? x * y
                                             : std::fmax(x, y);
        ASSERT_EQ(st.load_u16(kC + static_cast<uint64_t>(2 * (r * cols + j))), output_bf16(z, chip.numerics));
        ASSERT_EQ(st.load_u16(kD + static_cast<uint64_t>(2 * (r * cols + j))),
                  output_bf16(apply_activation(Activation::act, x, 0.0f, bf16_value(0xBFD9)), chip.numerics));
      }
  }
}

TEST(OpsProperty, ReductionsSoftmaxTransposeTopk) {
  std::mt19937 rng(5);
  const ChipConfig chip = load_chip("ue-kintex7");
  const NumericsPolicy& p = chip.numerics;
  for (int trial = 0; trial < 20; ++trial) {
    const int64_t rows = 1 + rng() % 6, cols = 8 + rng() % 200;
    Simulator sim(chip);
    EngineState& st = sim.engine_state(0);
    fill_bf16(st, kA, static_cast<size_t>(rows * cols), rng, 2.0f);
    const std::vector<uint8_t> before(st.sram.begin(), st.sram.end());
    const auto mode = static_cast<ReduceMode>(trial % 5);
    ProgramBuilder b;
    b.vred({.a = at(kA), .c = at(kC), .rows = rows, .cols = cols, .scalar = 0x3727}, mode);
    b.softmax({.a = at(kA), .c = at(kD), .rows = rows, .cols = cols}, SoftmaxMode::full);
    b.vtrans({.a = at(kA), .c = at(kB), .rows = rows, .cols = cols});
    b.topk({.a = at(kA), .c = at(kS), .s = at(kBias), .rows = rows, .cols = cols}, 1 + trial % 8);
    run_one(sim, b);
    auto x_at = [&](int64_t r, int64_t j) {
      uint16_t v;
      std::memcpy(&v, before.data() + kA + 2 * (r * cols + j), 2);
      return bf16_value(v);
    };
    for (int64_t r = 0; r < rows; ++r) {
      float sum = 0, sq = 0, mx = -INFINITY;
      for (int64_t j = 0; j < cols; ++j) {
        sum = accumulate_round(sum + x_at(r, j), p);
        sq = accumulate_round(sq + x_at(r, j) * x_at(r, j), p);
        mx = std::fmax(mx, x_at(r, j));
      }
      const float n = static_cast<float>(cols), eps = bf16_value(0x3727);
      switch (mode) {
        case ReduceMode::sum:
          EXPECT_EQ(st.load_u16(kC + 2 * r), output_bf16(sum, p));
          break;
        case ReduceMode::max:
          EXPECT_EQ(st.load_u16(kC + 2 * r), output_bf16(mx, p));
          break;
        case ReduceMode::mean:
          EXPECT_EQ(st.load_u16(kC + 2 * r), output_bf16(sum / n, p));
          break;
        case ReduceMode::rms_inv:
          EXPECT_EQ(st.load_u16(kC + 2 * r), output_bf16(1.0f / std::sqrt(sq / n + eps), p));
          break;
        default: {
          const float mean = sum / n, var = std::fmax(sq / n - mean * mean, 0.0f);
          EXPECT_EQ(st.load_u16(kC + 4 * r), output_bf16(mean, p));
          EXPECT_EQ(st.load_u16(kC + 4 * r + 2), output_bf16(1.0f / std::sqrt(var + eps), p));
        }
      }
      // softmax: e = bf16(exp(x - max)); sum in acc format; out = bf16(e * bf19(1/sum))
      std::vector<uint16_t> e(static_cast<size_t>(cols));
      float es = 0;
      for (int64_t j = 0; j < cols; ++j) {
        e[static_cast<size_t>(j)] = output_bf16(std::exp(x_at(r, j) - mx), p);
        es = accumulate_round(es + bf16_value(e[static_cast<size_t>(j)]), p);
      }
      const float inv = to_bf19(1.0f / es);
      for (int64_t j = 0; j < cols; ++j) {
        ASSERT_EQ(st.load_u16(kD + 2 * (r * cols + j)),
                  output_bf16(bf16_value(e[static_cast<size_t>(j)]) * inv, p));
        ASSERT_EQ(st.load_u16(kB + 2 * (j * rows + r)), numerics::bits::f32_to_bf16(x_at(r, j)));
      }
      // top-k: stable descending order.
      const int64_t k = 1 + trial % 8;
      std::vector<int64_t> order(static_cast<size_t>(cols));
      for (int64_t j = 0; j < cols; ++j) order[static_cast<size_t>(j)] = j;
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t c) { return x_at(r, a) > x_at(r, c); });
      for (int64_t q = 0; q < k; ++q) {
        uint32_t index;
        std::memcpy(&index, st.sram.data() + kS + 4 * (r * k + q), 4);
        EXPECT_EQ(index, static_cast<uint32_t>(order[static_cast<size_t>(q)]))
            << "row " << r << " rank " << q;
      }
    }
  }
}

TEST(OpsProperty, QuantizeDequantizeRoundTripAndFormatsVectors) {
  // formats.md §10.2 worked vector A: x_i = (i - 32)/8 -> INT, scale bytes 12 bf, data 99 a9 aa ...
  const ChipConfig chip = load_chip("ue-kintex7");
  Simulator sim(chip);
  EngineState& st = sim.engine_state(0);
  for (int i = 0; i < 64; ++i)
    st.store_u16(kA + 2 * static_cast<uint64_t>(i),
                 numerics::bits::f32_to_bf16(static_cast<float>(i - 32) / 8.0f));
  ProgramBuilder b;
  b.quant({.a = at(kA), .c = at(kB), .s = at(kS), .rows = 1, .cols = 64}, WeightFormat::ue_if4);
  b.dequant({.b = at(kB), .c = at(kC), .s = at(kS), .rows = 1, .cols = 64}, WeightFormat::ue_if4);
  run_one(sim, b);
  EXPECT_EQ(st.sram[kS], 0x12);
  EXPECT_EQ(st.sram[kS + 1], 0xbf);
  const uint8_t expect[] = {0x99, 0xa9, 0xaa, 0xba, 0xbb, 0xbb, 0xcc, 0xcc};
  for (size_t i = 0; i < std::size(expect); ++i) EXPECT_EQ(st.sram[kB + i], expect[i]) << i;
  // Dequantized value = bf16(code * |scale|): element 0 code -7 * 0.5703125.
  EXPECT_EQ(st.load_u16(kC), output_bf16(-7.0f * 0.5703125f, chip.numerics));
}

TEST(OpsProperty, OnlineSoftmaxMatchesRecurrence) {
  std::mt19937 rng(3);
  const ChipConfig chip = load_chip("ue-kintex7");
  const NumericsPolicy& p = chip.numerics;
  Simulator sim(chip);
  EngineState& st = sim.engine_state(0);
  const int64_t rows = 3, cols = 64;
  fill_bf16(st, kA, rows * cols * 2, rng, 3.0f);
  const std::vector<uint8_t> before(st.sram.begin(), st.sram.end());
  ProgramBuilder b;
  b.ctx(ContextMode::clear, at(0), 0, rows);
  b.softmax({.a = at(kA), .c = at(kC), .s = at(kS), .rows = rows, .cols = cols}, SoftmaxMode::online);
  b.softmax({.a = at(kA + 2 * rows * cols), .c = at(kD), .s = at(kS + 64), .rows = rows, .cols = cols},
            SoftmaxMode::online);
  b.ctx(ContextMode::read_sum, at(kBias), 0, rows);
  run_one(sim, b);
  for (int64_t r = 0; r < rows; ++r) {
    float m = -INFINITY, l = 0;
    for (int chunk = 0; chunk < 2; ++chunk) {
      float row_max = -INFINITY, sum = 0;
      auto x = [&](int64_t j) {
        uint16_t v;
        std::memcpy(&v, before.data() + kA + 2 * (chunk * rows * cols + r * cols + j), 2);
        return bf16_value(v);
      };
      for (int64_t j = 0; j < cols; ++j) row_max = std::fmax(row_max, x(j));
      const float new_max = std::fmax(m, row_max);
      for (int64_t j = 0; j < cols; ++j) {
        const uint16_t e = output_bf16(std::exp(x(j) - new_max), p);
        sum = accumulate_round(sum + bf16_value(e), p);
        ASSERT_EQ(st.load_u16((chunk ? kD : kC) + 2 * (r * cols + j)), e);
      }
      const float corr = m == -INFINITY ? 0.0f : std::exp(m - new_max);
      EXPECT_EQ(st.load_u16((chunk ? kS + 64 : kS) + 2 * r), output_bf16(corr, p));
      l = accumulate_round(l * corr + sum, p);
      m = new_max;
    }
    EXPECT_EQ(st.load_u16(kBias + 2 * r), output_bf16(l, p));
  }
}

}  // namespace
}  // namespace xpusim::engine
