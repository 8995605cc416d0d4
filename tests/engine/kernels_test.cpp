// Bench kernels: every kernel runs functionally on every preset at small shapes without faults; the tiled,
// double-buffered matmul kernel gives the same bytes as one untiled mm; the big matmul keeps the matrix
// unit busy (DMA hidden behind compute).
#include <gtest/gtest.h>

#include "engine/kernels.h"
#include "engine_test_util.h"

namespace xpusim::engine {
namespace {

TEST(Kernels, AllRunOnAllPresets) {
  for (const char* name : {"ue-kintex7", "ue-systolic-128"}) {
    const ChipConfig chip = load_chip(name);
    for (const KernelSpec& spec : kernel_table())
      for (const KernelShape shape : {KernelShape{128, 128, 128}, KernelShape{1, 128, 128}}) {
        const Kernel kernel = spec.make(chip, shape);
        Simulator sim(chip);
        sim.load_program(0, kernel.program);
        EXPECT_NO_THROW(sim.run()) << name << " " << spec.name << " m=" << shape.m;
      }
  }
}

TEST(Kernels, TiledMatmulEqualsSingleOp) {
  const ChipConfig chip = load_chip("ue-kintex7");
  std::mt19937 rng(2);
  const KernelShape shape{96, 160, 128};
  std::vector<uint16_t> a(static_cast<size_t>(shape.m * shape.k)), w(static_cast<size_t>(shape.n * shape.k)),
      bias(static_cast<size_t>(shape.n));
  for (auto& x : a) x = test::random_bf16(rng);
  for (auto& x : w) x = test::random_bf16(rng, 0.1f);
  for (auto& x : bias) x = test::random_bf16(rng);
  const Kernel kernel = make_matmul_kernel(chip, shape, {.act = kGelu, .bias = true});
  Simulator sim(chip);
  sim.dram().write(kDramA, a.data(), a.size() * 2);
  sim.dram().write(kDramB, w.data(), w.size() * 2);
  sim.dram().write(kDramBias, bias.data(), bias.size() * 2);
  sim.load_program(0, kernel.program);
  sim.run();
  std::vector<uint16_t> tiled(static_cast<size_t>(shape.m * shape.n));
  sim.dram().read(kDramOut, tiled.data(), tiled.size() * 2);
  // Reference: one mm over everything in SRAM.
  Simulator ref(chip);
  EngineState& st = ref.engine_state(0);
  std::memcpy(st.sram.data(), a.data(), a.size() * 2);
  std::memcpy(st.sram.data() + 0x10000, w.data(), w.size() * 2);
  std::memcpy(st.sram.data() + 0x30000, bias.data(), bias.size() * 2);
  ProgramBuilder b;
  b.mm({.a = at(0),
        .b = at(0x10000),
        .c = at(0x40000),
        .bias = at(0x30000),
        .m = shape.m,
        .n = shape.n,
        .k = shape.k,
        .act = kGelu,
        .bias_en = true});
  b.halt();
  ref.load_program(0, b.finish());
  ref.run();
  for (size_t i = 0; i < tiled.size(); ++i) ASSERT_EQ(tiled[i], st.load_u16(0x40000 + 2 * i)) << i;
}

TEST(Kernels, LargeMatmulIsComputeBound) {
  const ChipConfig chip = load_chip("ue-kintex7");
  const Kernel kernel = make_matmul_kernel(chip, {1024, 1024, 1024}, {});
  Simulator sim(chip, RunOptions{.functional = false});
  sim.load_program(0, kernel.program);
  const RunResult r = sim.run();
  const int64_t ideal = 1024LL * 1024 * 1024 / 64;
  EXPECT_GT(static_cast<double>(r.engines[0].units[static_cast<size_t>(Unit::matrix)].busy_cycles) /
                static_cast<double>(r.cycles),
            0.99);
  EXPECT_LT(r.cycles, ideal * 101 / 100);
}

}  // namespace
}  // namespace xpusim::engine
