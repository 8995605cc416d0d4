// Control flow and front end: address streams advanced by loop, r0 hard-wired, i-cache window refills,
// the 8192-entry program-visible trace buffer with markers.
#include <gtest/gtest.h>

#include "engine/assembler.h"
#include "engine/program.h"
#include "engine_test_util.h"

namespace xpusim::engine {
namespace {

TEST(Control, AddressStreamsAdvancePerIteration) {
  // Copy 4 rows of 64 bytes from DRAM 0x0.. to DRAM 0x10000.. with strides 128 (src) and 64 (dst).
  const Program p = assemble(
      "li rd=r1 imm=4\n"
      "li rd=r2 imm=0\n"
      "li rd=r3 imm=0x10000\n"
      "stream sid=0 rd=r2 stride=128\n"
      "stream sid=1 rd=r3 stride=64\n"
      "li rd=r0 imm=77\n"
      "body: dma.ld dram=[r2+0x0] sram=[r0+0x0] rows=1 bytes=64\n"
      "dma.st dram=[r3+0x0] sram=[r0+0x0] rows=1 bytes=64\n"
      "loop rd=r1 off=body streams=3\n"
      "halt\n",
      "s.s");
  Simulator sim(load_chip("ue-kintex7"));
  std::vector<uint8_t> src(512);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i);
  sim.dram().write(0, src.data(), src.size());
  sim.load_program(0, p);
  sim.run();
  EXPECT_EQ(sim.engine_state(0).regs[0], 0u);
  EXPECT_EQ(sim.engine_state(0).regs[2], 512u);
  std::vector<uint8_t> dst(256);
  sim.dram().read(0x10000, dst.data(), dst.size());
  for (size_t r = 0; r < 4; ++r)
    for (size_t i = 0; i < 64; ++i) ASSERT_EQ(dst[r * 64 + i], src[r * 128 + i]);
}

TEST(Control, IcacheWindowRefills) {
  const ChipConfig chip = load_chip("ue-kintex7");
  ProgramBuilder b;
  Label far = b.new_label();
  b.jmp(far);
  for (int i = 0; i < 600; ++i) b.nop();
  b.bind(far);
  b.halt();
  Simulator sim(chip);
  sim.load_program(0, b.finish());
  const RunResult r = sim.run();
  EXPECT_EQ(r.engines[0].icache_refills, 2);  // cold start + the jump beyond the 512-instruction window
  // The cold start fetches a full window; the refill at the jump target fetches only the 2 instructions
  // left before the end of the program.
  const int64_t full = chip.icache_refill_latency_cycles + 512 * 32 / chip.icache_fetch_bytes_per_cycle;
  const int64_t tail = chip.icache_refill_latency_cycles + 2 * 32 / chip.icache_fetch_bytes_per_cycle;
  EXPECT_EQ(r.engines[0].stalls[static_cast<size_t>(Stall::icache_refill)], full + tail);
}

TEST(Control, TraceBufferHoldsTimestampsAndMarkers) {
  ProgramBuilder b;
  b.mark(42);
  b.li(1, 9000);
  Label top = b.new_label();
  b.bind(top);
  b.loop(1, top);
  b.halt();
  Simulator sim(load_chip("ue-kintex7"));
  sim.load_program(0, b.finish());
  const RunResult r = sim.run();
  const auto& trace = r.engines[0].trace_buffer;
  ASSERT_EQ(trace.size(), 8192u);
  EXPECT_EQ(r.engines[0].instructions, 1 + 1 + 9000 + 1);
  EXPECT_EQ(trace[0].marker, 42);
  EXPECT_EQ(trace[0].pc, 0u);
  for (size_t i = 1; i < trace.size(); ++i) EXPECT_GE(trace[i].cycle, trace[i - 1].cycle);
}

}  // namespace
}  // namespace xpusim::engine
