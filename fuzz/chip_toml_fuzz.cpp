// libFuzzer target: the chip-file loader (TOML parse, extends, schema validation, conversion) on arbitrary
// text named "fuzz-chip.toml". xpusim::Error is the expected outcome for bad input; any other exception,
// crash or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chips/host_detect.h"
#include "chips/loader.h"
#include "core/error.h"

// A fixed, plausible host: detection (with its bandwidth measurement) would dominate every input named
// cpu-host.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  xpusim::chips::HostInfo host;
  host.model_name = "fuzz host";
  host.logical_cpus = host.physical_cores = 2;
  host.clock_mhz = 3000;
  host.clock_source = "fuzzer";
  host.features.fma = host.features.avx2 = host.features.os_avx = true;
  host.caches = {{1, "Data", 48 * 1024, 1}, {2, "Unified", 1 << 20, 1}, {3, "Unified", 32 << 20, 2}};
  host.dram_bytes = int64_t{16} << 30;
  host.dram_read_gbps = 30;
  xpusim::chips::use_host_info(host);
  return 0;
}

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
