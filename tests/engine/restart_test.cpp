// Simulator::restart: a second program runs on the same DRAM image with fresh timing and statistics.
#include <gtest/gtest.h>

#include "engine/chip_config.h"
#include "engine/simulator.h"

namespace xpusim::engine {
namespace {

TEST(Restart, SecondRunSeesDramAndStartsTimingAfresh) {
  const ChipConfig chip = load_chip("ue-ku5p");
  Simulator sim(chip);
  const uint16_t values[4] = {0x3F80, 0x4000, 0x4040, 0x4080};  // 1, 2, 3, 4
  sim.dram().write(0x1000, values, sizeof values);
  ProgramBuilder store;  // doubles the row and stores it at 0x2000
  store.dma_load(at(0x1000), at(0), 1, 8);
  store.vbinary(Opcode::vadd, {.a = at(0), .b = at(0), .c = at(64), .rows = 1, .cols = 4});
  store.dma_store(at(0x2000), at(64), 1, 8);
  store.halt();
  const Program program = store.finish();
  sim.load_program(0, program);
  const RunResult first = sim.run();
  sim.restart();
  ProgramBuilder copy;  // reads what the first program left in DRAM
  copy.dma_load(at(0x2000), at(128), 1, 8);
  copy.dma_store(at(0x3000), at(128), 1, 8);
  copy.halt();
  sim.load_program(0, copy.finish());
  const RunResult second = sim.run();
  uint16_t out[4];
  sim.dram().read(0x3000, out, sizeof out);
  EXPECT_EQ(out[0], 0x4000);  // 2
  EXPECT_EQ(out[3], 0x4100);  // 8
  EXPECT_GT(second.cycles, 0);
  EXPECT_EQ(second.engines[0].dram_read_bytes, 8u);  // statistics of the second run only
  sim.restart();
  sim.load_program(0, program);
  EXPECT_EQ(sim.run().cycles, first.cycles);  // identical program, identical timing
}

}  // namespace
}  // namespace xpusim::engine
