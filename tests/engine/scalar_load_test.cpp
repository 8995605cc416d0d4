// The scalar SRAM load `ld rd, [rs+off]`: encoding and assembly round trip, the functional value (u32
// little-endian), timing-only runs reading 0 with the same cycles, the data hazard on in-flight writers of
// the loaded bytes, and a clean fault beyond SRAM.
#include <gtest/gtest.h>

#include "engine/assembler.h"
#include "engine/program.h"
#include "engine_test_util.h"

namespace xpusim::engine {
namespace {

TEST(ScalarLoad, EncodesDecodesAndRoundTripsThroughAssembly) {
  const Decoded d{.opcode = Opcode::ld, .rd = 7, .rs = 3, .imm = 0x123456};
  const Decoded back = decode(encode(d));
  EXPECT_EQ(back.opcode, Opcode::ld);
  EXPECT_EQ(back.rd, 7);
  EXPECT_EQ(back.rs, 3);
  EXPECT_EQ(back.imm, 0x123456);
  const std::string text = "ld rd=r7 addr=[r3+0x123456]\n";
  const Program p = assemble(text, "ld.s");
  EXPECT_EQ(disassemble(p), text);
  EXPECT_EQ(p.code[0], encode(d));
  Decoded too_far = d;
  too_far.imm = 1 << 24;  // the offset field has 24 bits
  EXPECT_THROW(encode(too_far), Error);
}

// dma.ld 64 bytes from DRAM into SRAM 0x100, then ld the u32 at 0x108 (through a base register).
Program load_after_dma(int64_t dma_sram) {
  ProgramBuilder b;
  b.dma_load(at(0), at(dma_sram), 1, 64);
  b.li(2, 0x100);
  b.ld(5, at(2, 8));
  b.addi(6, 5, 1);
  b.halt();
  return b.finish();
}

RunResult run_program(const Program& p, bool functional, Simulator** keep = nullptr) {
  static std::unique_ptr<Simulator> last;
  last = std::make_unique<Simulator>(load_chip("ue-kintex7"),
                                     RunOptions{.functional = functional, .record_trace = true});
  std::vector<uint8_t> bytes(64);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i + 1);
  last->dram().write(0, bytes.data(), bytes.size());
  last->load_program(0, p);
  RunResult r = last->run();
  if (keep != nullptr) *keep = last.get();
  return r;
}

TEST(ScalarLoad, ReadsLittleEndianU32FunctionallyAndZeroInTimingOnly) {
  Simulator* sim = nullptr;
  const Program p = load_after_dma(0x100);
  const RunResult functional = run_program(p, true, &sim);
  EXPECT_EQ(sim->engine_state(0).regs[5], 0x0C0B0A09u);  // bytes 9, 10, 11, 12
  EXPECT_EQ(sim->engine_state(0).regs[6], 0x0C0B0A0Au);
  const RunResult timing = run_program(p, false, &sim);
  EXPECT_EQ(sim->engine_state(0).regs[5], 0u);
  EXPECT_EQ(timing.cycles, functional.cycles);
}

TEST(ScalarLoad, WaitsForInFlightWritersOfItsBytesOnly) {
  const RunResult hazard = run_program(load_after_dma(0x100), false);
  const RunResult elsewhere = run_program(load_after_dma(0x400), false);
  const InstrRecord& dma = test::record_at(hazard, 0);
  // The ld (pc 2) issues once the DMA's data is visible; the addi after it waits for the ld's result.
  const TraceEntry& ld_hazard = hazard.engines[0].trace_buffer[2];
  const TraceEntry& ld_free = elsewhere.engines[0].trace_buffer[2];
  EXPECT_EQ(ld_hazard.pc, 2u);
  EXPECT_GE(ld_hazard.cycle, dma.ready);
  EXPECT_LT(ld_free.cycle, test::record_at(elsewhere, 0).ready);
  EXPECT_GT(hazard.engines[0].stalls[static_cast<size_t>(Stall::register_dependency)],
            elsewhere.engines[0].stalls[static_cast<size_t>(Stall::register_dependency)]);
}

TEST(ScalarLoad, FaultsBeyondSram) {
  const ChipConfig chip = load_chip("ue-kintex7");
  ProgramBuilder b;
  b.li(2, static_cast<int64_t>(chip.sram_bytes()) - 2);
  b.ld(5, at(2, 0));
  b.halt();
  Simulator sim(chip);
  sim.load_program(0, b.finish());
  try {
    sim.run();
    FAIL() << "no fault";
  } catch (const EngineFault& f) {
    EXPECT_EQ(f.pc(), 1);
    EXPECT_NE(f.cause().find("SRAM overflow: ld reads"), std::string::npos) << f.what();
  }
}

}  // namespace
}  // namespace xpusim::engine
