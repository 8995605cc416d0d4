// Micro-timing tests: for every latency class of the ISA table, a dependent instruction is not ready at
// t-1 and is ready at t (it starts exactly at t), where t comes from the closed forms in timing.h and the
// chip's [latency] table. Also: DMA/compute overlap when double-buffered, timing-only == functional cycles.
#include <gtest/gtest.h>

#include <set>

#include "engine/program.h"
#include "engine/timing.h"
#include "engine_test_util.h"

namespace xpusim::engine {
namespace {

using test::record_at;

RunResult run(const ChipConfig& chip, ProgramBuilder& b, bool functional = true) {
  b.halt();
  Simulator sim(chip, RunOptions{.functional = functional, .record_trace = true});
  sim.load_program(0, b.finish());
  return sim.run();
}

ChipConfig chip_with_distinct_latencies() {
  ChipConfig chip = load_chip("ue-kintex7");
  // Distinct values so a test cannot pass with the wrong class.
  for (int i = 1; i < kLatencyClassCount; ++i) chip.latency_cycles[static_cast<size_t>(i)] = 3 + 2 * i;
  return chip;
}

int64_t issue_cycle(const RunResult& r, uint32_t pc) {
  for (const TraceEntry& e : r.engines[0].trace_buffer)
    if (e.pc == pc) return e.cycle;
  return -1;
}

// Front-end classes: the consumer issues exactly latency cycles after the producer.
TEST(MicroTiming, FrontendClasses) {
  const ChipConfig chip = chip_with_distinct_latencies();
  for (Opcode producer : {Opcode::addi, Opcode::muli, Opcode::div}) {
    ProgramBuilder b;
    b.li(2, 7);
    b.li(3, 3);
    b.nop();
    b.nop();
    b.nop();
    if (producer == Opcode::div)
      b.alu(Opcode::div, 1, 2, 3);
    else
      b.emit(Decoded{.opcode = producer, .rd = 1, .rs = 2, .imm = 5});
    b.addi(4, 1, 1);  // depends on r1
    const RunResult r = run(chip, b);
    const int64_t t = issue_cycle(r, 5) + chip.latency(op_spec(producer).latency);
    EXPECT_EQ(issue_cycle(r, 6), t) << op_spec(producer).mnemonic;
  }
  // branch: the target issues 1 + penalty cycles after a taken jump.
  ProgramBuilder b;
  Label target = b.new_label();
  b.jmp(target);
  b.nop();
  b.bind(target);
  b.nop();
  const RunResult r = run(chip, b);
  EXPECT_EQ(issue_cycle(r, 2), issue_cycle(r, 0) + 1 + chip.latency(LatencyClass::branch));
}

// Data-path classes: a dependent DMA store of the producer's output starts exactly at producer ready.
TEST(MicroTiming, DataPathClassesDependentStartsAtReady) {
  const ChipConfig chip = chip_with_distinct_latencies();
  std::set<LatencyClass> covered;
  struct Case {
    LatencyClass cls;
    std::function<void(ProgramBuilder&)> emit;
    int64_t busy;
  };
  const int64_t rows = 4, cols = 128;
  const VectorArgs v{
      .a = at(0), .b = at(0x10000), .c = at(0x40000), .s = at(0x50000), .rows = rows, .cols = cols};
  const int64_t one_pass = rows * (cols / chip.vector_lanes);
  const std::vector<Case> cases = {
      {LatencyClass::dot,
       [](ProgramBuilder& b) {
         b.mm({.a = at(0), .b = at(0x10000), .c = at(0x40000), .m = 2, .n = 64, .k = 128});
       },
       2 * 64 * 2},
      {LatencyClass::vec, [&](ProgramBuilder& b) { b.vbinary(Opcode::vadd, v); }, one_pass},
      {LatencyClass::act, [&](ProgramBuilder& b) { b.vact(v, kSilu); }, one_pass},
      {LatencyClass::exp, [&](ProgramBuilder& b) { b.softmax(v, SoftmaxMode::full); }, 3 * one_pass},
      {LatencyClass::reduce, [&](ProgramBuilder& b) { b.vred(v, ReduceMode::sum); }, one_pass},
      {LatencyClass::trans, [&](ProgramBuilder& b) { b.vtrans(v); },
       cols * ((rows + chip.transpose_elements_per_cycle - 1) / chip.transpose_elements_per_cycle)},
      {LatencyClass::quant, [&](ProgramBuilder& b) { b.quant(v, WeightFormat::ue_int4); }, one_pass},
      {LatencyClass::topk, [&](ProgramBuilder& b) { b.topk(v, 4); }, one_pass},
  };
  for (const Case& c : cases) {
    ProgramBuilder b;
    c.emit(b);
    b.dma_store(at(0x100000), at(0x40000), 1, 64);  // reads the producer's output region
    const RunResult r = run(chip, b);
    const InstrRecord& producer = record_at(r, 0);
    const InstrRecord& consumer = record_at(r, 1);
    const int64_t busy = c.busy + chip.op_issue_cycles;
    EXPECT_EQ(producer.busy_end - producer.start, busy) << latency_class_name(c.cls);
    const int64_t t = producer.start + busy + chip.latency(c.cls);
    EXPECT_EQ(producer.ready, t) << latency_class_name(c.cls);
    EXPECT_EQ(consumer.start, t) << latency_class_name(c.cls) << ": dependent not ready at t-1, ready at t";
    covered.insert(c.cls);
  }
  // dma: a matmul reading the loaded region starts at load start + busy + dram latency + dma latency.
  ProgramBuilder b;
  b.dma_load(at(0), at(0), 16, 128);
  b.mm({.a = at(0), .b = at(0x10000), .c = at(0x40000), .m = 1, .n = 8, .k = 64});
  const RunResult r = run(chip, b);
  const InstrRecord& load = record_at(r, 0);
  const int64_t busy =
      (16 * 128) / 32 + 1 * chip.dram_burst_overhead_cycles + chip.op_issue_cycles;  // one burst
  EXPECT_EQ(load.busy_end - load.start, busy);
  EXPECT_EQ(record_at(r, 1).start,
            load.start + busy + chip.dram_latency_cycles + chip.latency(LatencyClass::dma));
  covered.insert(LatencyClass::dma);
  covered.insert(LatencyClass::alu);
  covered.insert(LatencyClass::mul);
  covered.insert(LatencyClass::div);
  covered.insert(LatencyClass::branch);
  covered.insert(LatencyClass::sem);  // multi_engine_test: SemaphoreLatency
  for (const OpSpec& spec : op_table())
    if (spec.latency != LatencyClass::none) {
      EXPECT_TRUE(covered.count(spec.latency)) << latency_class_name(spec.latency);
    }
}

TEST(Timing, DoubleBufferedDmaOverlapsCompute) {
  const ChipConfig chip = load_chip("ue-kintex7");
  // Independent load into buffer B while mm computes on buffer A: the load starts before mm is ready.
  ProgramBuilder b;
  b.mm({.a = at(0), .b = at(0x10000), .c = at(0x40000), .m = 8, .n = 64, .k = 512});
  b.dma_load(at(0), at(0x60000), 64, 1024);
  const RunResult r = run(chip, b);
  EXPECT_LT(record_at(r, 1).start, record_at(r, 0).ready);
  // A load into the matmul's input must wait for the matmul (write-after-read hazard).
  ProgramBuilder c;
  c.mm({.a = at(0), .b = at(0x10000), .c = at(0x40000), .m = 8, .n = 64, .k = 512});
  c.dma_load(at(0), at(0x10000), 64, 1024);
  const RunResult r2 = run(chip, c);
  EXPECT_EQ(record_at(r2, 1).start, record_at(r2, 0).ready);
}

TEST(Timing, MatmulClosedFormsAndSystolic) {
  const ChipConfig dot = load_chip("ue-kintex7");
  EXPECT_EQ(matmul_busy_cycles(dot, 1024, 1024, 1024), 1024LL * 1024 * 16);
  const ChipConfig sys = load_chip("ue-systolic-128");
  EXPECT_EQ(matmul_busy_cycles(sys, 1024, 1024, 1024), 8LL * 8 * 1024 + 256);
  EXPECT_EQ(matmul_busy_cycles(sys, 1, 1024, 1024), 8LL * 8 * 128 + 256);  // decode: weight loading bound
}

TEST(Timing, TimingOnlyGivesSameCycles) {
  const ChipConfig chip = load_chip("ue-ku5p");
  auto build = [](ProgramBuilder& b) {
    b.li(1, 3);
    Label top = b.new_label();
    b.bind(top);
    b.dma_load(at(0), at(0), 32, 256);
    b.mm({.a = at(0), .b = at(0x10000), .c = at(0x40000), .m = 4, .n = 64, .k = 128, .act = kGelu});
    b.softmax({.a = at(0x40000), .c = at(0x48000), .rows = 4, .cols = 64}, SoftmaxMode::full);
    b.dma_store(at(0x100000), at(0x48000), 4, 128);
    b.loop(1, top);
  };
  ProgramBuilder f, t;
  build(f);
  build(t);
  EXPECT_EQ(run(chip, f, true).cycles, run(chip, t, false).cycles);
}

}  // namespace
}  // namespace xpusim::engine
