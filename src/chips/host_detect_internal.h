// Internal pieces of host detection (host_detect.cpp, host_bandwidth.cpp); not part of the public API.
#pragma once

#include <cstdint>

namespace xpusim::chips::detail {

struct BandwidthResult {
  double read_gbps = 0;  // 0 when the buffer could not be allocated
  int threads = 0;
  int64_t buffer_bytes = 0;
  double seconds = 0;
  uint64_t checksum = 0;
};

// Streaming read over a buffer ~8x the last-level cache (64-512 MiB) on `threads` threads, ~0.3 s.
BandwidthResult measure_read_bandwidth(int threads, int64_t llc_bytes, int64_t dram_bytes);

}  // namespace xpusim::chips::detail
