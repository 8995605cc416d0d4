// Faults stop with PC, disassembled instruction and cause; never a crash. Multi-engine: semaphores,
// deadlock detection, same results as one engine.
#include <gtest/gtest.h>

#include "engine/assembler.h"
#include "engine/program.h"
#include "engine_test_util.h"

namespace xpusim::engine {
namespace {

std::string fault_of(const std::string& chip_name, const std::vector<std::string>& sources,
                     int64_t watchdog = 0) {
  Simulator sim(load_chip(chip_name), RunOptions{.watchdog_cycles = watchdog});
  for (size_t i = 0; i < sources.size(); ++i)
    sim.load_program(static_cast<int>(i), assemble(sources[i], "f.s"));
  try {
    sim.run();
  } catch (const EngineFault& f) {
    return f.what();
  }
  return "no fault";
}

TEST(Faults, ClearMessages) {
  EXPECT_NE(fault_of("ue-kintex7", {"nop\nvadd a=[0x0] b=[0x0] c=[0xfffff] rows=1 cols=64\nhalt\n"})
                .find("fault at pc 1 (cycle"),
            std::string::npos);
  const std::string overflow =
      fault_of("ue-kintex7", {"vadd a=[0x0] b=[0x0] c=[0xfffff] rows=1 cols=64\nhalt\n"});
  EXPECT_NE(overflow.find("`vadd a=[r0+0x0] b=[r0+0x0] c=[r0+0xfffff] rows=1 cols=64`: SRAM overflow"),
            std::string::npos)
      << overflow;
  EXPECT_NE(
      fault_of("ue-kintex7", {"li rd=r1 imm=-1\ndma.ld dram=[r1+0x0] sram=[0x0] rows=1 bytes=64\nhalt\n"})
          .find("address out of range"),
      std::string::npos);
  EXPECT_NE(fault_of("ue-kintex7", {"jmp target=99\n"}).find("jump outside the program"), std::string::npos);
  EXPECT_NE(fault_of("ue-kintex7", {"nop\n"}).find("without halt"), std::string::npos);
  EXPECT_NE(fault_of("ue-kintex7", {"top: jmp target=top\n"}, 5000).find("watchdog"), std::string::npos);
  EXPECT_NE(
      fault_of("ue-kintex7", {"li rd=r1 imm=1\ndiv rd=r2 rs=r1 rt=r0\nhalt\n"}).find("division by zero"),
      std::string::npos);
  EXPECT_NE(fault_of("ue-kintex7", {"topk a=[0x0] c=[0x100] s=[0x200] rows=1 cols=4 k=9\nhalt\n"})
                .find("k must be 1..8"),
            std::string::npos);
  // A bad opcode faults when executed, with its pc.
  Program p = assemble("nop\nnop\nhalt\n", "b.s");
  p.code[1][0] = 0xEE;
  Simulator sim(load_chip("ue-kintex7"));
  sim.load_program(0, p);
  try {
    sim.run();
    FAIL();
  } catch (const EngineFault& f) {
    EXPECT_EQ(f.pc(), 1);
    EXPECT_NE(f.cause().find("bad opcode 0xee"), std::string::npos);
  }
}

TEST(MultiEngine, SemaphoreTimeoutAndDeadlock) {
  const std::string timeout =
      fault_of("ue-alveo-u50-x8",
               {"li rd=r1 imm=100\ntop: loop rd=r1 off=top\nhalt\n", "sem.wait sem=3 timeout=20\nhalt\n"});
  EXPECT_NE(timeout.find("engine 1: fault at pc 0 (cycle"), std::string::npos) << timeout;
  EXPECT_NE(timeout.find("semaphore timeout"), std::string::npos) << timeout;
  const std::string deadlock = fault_of(
      "ue-alveo-u50-x8", {"sem.wait sem=1\nsem.set sem=2\nhalt\n", "sem.wait sem=2\nsem.set sem=1\nhalt\n"});
  EXPECT_NE(deadlock.find("deadlock"), std::string::npos) << deadlock;
  EXPECT_NE(deadlock.find("engine 1 waits at pc 0 for semaphore 2"), std::string::npos) << deadlock;
}

TEST(MultiEngine, SemaphoreLatency) {
  // Engine 1 waits; engine 0 sets at cycle t (after draining); engine 1 resumes at t + sem latency.
  ChipConfig chip = load_chip("ue-alveo-u50-x8");
  chip.latency_cycles[static_cast<size_t>(LatencyClass::sem)] = 7;
  Simulator sim(chip);
  sim.load_program(0, assemble("nop\nnop\nsem.set sem=0\nhalt\n", "a.s"));
  sim.load_program(1, assemble("sem.wait sem=0\nnop\nhalt\n", "b.s"));
  const RunResult r = sim.run();
  const int64_t set_cycle = r.engines[0].trace_buffer[2].cycle;
  EXPECT_EQ(r.engines[1].trace_buffer[0].cycle, set_cycle + 7);
  EXPECT_EQ(r.engines[1].trace_buffer[1].cycle, set_cycle + 8);
}

// Row-split matmul on 2 engines with a barrier gives the same DRAM bytes as one engine.
TEST(MultiEngine, SplitMatmulMatchesOneEngine) {
  const ChipConfig chip = load_chip("ue-alveo-u50-x8");
  std::mt19937 rng(1);
  std::vector<uint16_t> a(8 * 128), w(64 * 128);
  for (auto& x : a) x = test::random_bf16(rng);
  for (auto& x : w) x = test::random_bf16(rng, 0.1f);
  auto program = [](int64_t row0, int64_t rows, int role) {
    ProgramBuilder b;
    b.dma_load(at(row0 * 256), at(0), rows, 256);
    b.dma_load(at(0x10000), at(0x10000), 64, 256);
    b.mm({.a = at(0), .b = at(0x10000), .c = at(0x40000), .m = rows, .n = 64, .k = 128, .act = kSilu});
    b.dma_store(at(0x20000 + row0 * 128), at(0x40000), rows, 128);
    if (role == 1) b.sem_set(0);   // worker: done
    if (role == 0) b.sem_wait(0);  // primary waits for the worker
    b.halt();
    return b.finish();
  };
  auto run_with = [&](std::vector<Program> programs) {
    Simulator sim(chip);
    sim.dram().write(0, a.data(), a.size() * 2);
    sim.dram().write(0x10000, w.data(), w.size() * 2);
    for (size_t i = 0; i < programs.size(); ++i) sim.load_program(static_cast<int>(i), programs[i]);
    sim.run();
    std::vector<uint8_t> out(8 * 128);
    sim.dram().read(0x20000, out.data(), out.size());
    return out;
  };
  const auto one = run_with({program(0, 8, 2)});
  const auto two = run_with({program(0, 4, 0), program(4, 4, 1)});
  EXPECT_EQ(one, two);
}

}  // namespace
}  // namespace xpusim::engine

namespace xpusim::engine {
namespace {

// Engines share the DRAM channel: 8 engines streaming at once are limited by the aggregate bandwidth.
TEST(MultiEngine, DramContentionIsSubLinear) {
  const ChipConfig chip = load_chip("ue-alveo-u50-x8");
  auto stream_program = [](int engine) {
    ProgramBuilder b;
    for (int i = 0; i < 8; ++i)
      b.dma_load(at(engine * 0x100000 + i * 0x20000), at((i % 2) * 0x20000), 32, 4096);
    b.halt();
    return b.finish();
  };
  auto seconds = [&](int engines) {
    Simulator sim(chip, RunOptions{.functional = false});
    for (int e = 0; e < engines; ++e) sim.load_program(e, stream_program(e));
    return sim.run().seconds;
  };
  const double bytes = 8.0 * 32 * 4096;
  const double one = bytes / seconds(1), eight = 8 * bytes / seconds(8);
  EXPECT_GT(one / 1e9, 9.0);  // ~89 % of 32 B x 366.7 MHz
  EXPECT_LT(one / 1e9, 11.8);
  EXPECT_LT(eight / 1e9, chip.dram_aggregate_gbps * 1.001);
  EXPECT_GT(eight / 1e9, chip.dram_aggregate_gbps * 0.9);
}

}  // namespace
}  // namespace xpusim::engine
