// libFuzzer target: the engine assembler (engine/assembler.h) on arbitrary text, then the disassembler on
// whatever assembled and a second assembly of that text, which must give the same program (the documented
// round trip). xpusim::Error (a line that does not assemble) is the only acceptable failure.
// Seeds: fuzz/corpus/engine_asm/ (the kernels' own assembly).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "engine/assembler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const xpusim::engine::Program program = xpusim::engine::assemble(text, "fuzz.s");
    const std::string listing = xpusim::engine::disassemble(program);
    const xpusim::engine::Program again = xpusim::engine::assemble(listing, "fuzz-listing.s");
    if (xpusim::engine::disassemble(again) != listing) __builtin_trap();
  } catch (const xpusim::Error&) {
    // Bad input reported properly.
  }
  return 0;
}
