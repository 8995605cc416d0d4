// libFuzzer target: the chip-file loader (TOML parse, extends, schema validation, conversion) on arbitrary
// text named "fuzz-chip.toml". xpusim::Error is the expected outcome for bad input; any other exception,
// crash or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chips/loader.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const xpusim::chips::ChipSpec chip = xpusim::chips::load_chip_from_string(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz-chip.toml");
    volatile double sink = chip.clock_mhz;
    for (const auto& level : chip.memory) sink = sink + level.bandwidth_gbps + level.total_capacity_bytes();
  } catch (const xpusim::Error&) {
  }
  return 0;
}
