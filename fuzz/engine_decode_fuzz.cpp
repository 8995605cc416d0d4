// Fuzzes the engine decoder, disassembler/assembler round trip and the simulator on random programs:
// every input must end in a result or an xpusim::Error (EngineFault), never a crash, hang or UB.
#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "engine/assembler.h"
#include "engine/simulator.h"

namespace {

const xpusim::engine::ChipConfig& fuzz_chip() {
  static const xpusim::engine::ChipConfig chip = [] {
    xpusim::engine::ChipConfig c = xpusim::engine::load_chip("ue-kintex7");
    c.engines = 2;
    c.semaphore_timeout_cycles = 10000;
    c.sram_kib = 64;       // bounds the work of one random instruction
    c.dram_size_mib = 16;  // bounds the sparse DRAM image
    return c;
  }();
  return chip;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xpusim::engine;
  Program program;
  for (size_t offset = 0; offset + kDescriptorBytes <= size && program.code.size() < 64;
       offset += kDescriptorBytes) {
    Descriptor d;
    std::memcpy(d.data(), data + offset, kDescriptorBytes);
    // Bias towards valid words: keep the opcode, clear reserved bits for known opcodes half of the time.
    if (const OpSpec* spec = op_by_opcode(static_cast<uint8_t>(d[0] & 0xFF));
        spec != nullptr && (d[0] & 0x100)) {
      const Descriptor reserved = reserved_mask(*spec);
      for (size_t w = 0; w < 4; ++w) d[w] &= ~reserved[w];
    }
    program.code.push_back(d);
  }
  try {
    const std::string text = disassemble(program);
    (void)assemble(text, "fuzz.s");
  } catch (const xpusim::Error&) {
  }
  try {
    Simulator sim(fuzz_chip(), RunOptions{.functional = true, .watchdog_cycles = 200000});
    sim.load_program(0, program);
    if (size > 0 && (data[0] & 1)) sim.load_program(1, program);
    sim.run();
  } catch (const xpusim::Error&) {
  }
  return 0;
}
