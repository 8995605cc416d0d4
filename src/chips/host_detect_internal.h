// Internal pieces of host detection (host_detect.cpp, host_bandwidth.cpp); not part of the public API.
#pragma once

#include <cstdint>
#include <string>

namespace xpusim::chips::detail {

struct BandwidthResult {
  double read_gbps = 0;  // 0 when the buffer could not be allocated
  int threads = 0;
  int64_t buffer_bytes = 0;
  double seconds = 0;
  uint64_t checksum = 0;
  int probes = 0;       // rounds whose best passes the median was taken over
  bool cached = false;  // read from the per-machine cache file, not measured by this process
  double load_average = 0;  // 1-minute load average when measured
  bool busy = false;        // measured while other work held the cores (load >= CPUs): not cached
};

// Streaming read over a buffer ~8x the last-level cache (64-512 MiB) on `threads` threads, ~0.3 s: five short
// probes of two passes each; the result is the median of the probes' best passes (a busy moment slows one
// probe, not the median).
BandwidthResult measure_read_bandwidth(int threads, int64_t llc_bytes, int64_t dram_bytes);

// The same, cached per machine in <cache dir>/host-bandwidth.tsv ($XPUSIM_CACHE_DIR, else ~/.cache/xpusim)
// under `machine_key` (CPU model, logical CPUs, DRAM size), so two runs on one machine predict the same;
// `refresh` (chips --detect) measures again and rewrites the entry.
BandwidthResult cached_read_bandwidth(int threads, int64_t llc_bytes, int64_t dram_bytes,
                                      const std::string& machine_key, bool refresh);

}  // namespace xpusim::chips::detail
