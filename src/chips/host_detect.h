// Detection of this machine for the cpu-host preset: cores (sysfs topology / sysconf), SIMD and matrix
// features (cpuid + xgetbv on x86-64), caches (/sys/devices/system/cpu/cpu0/cache), clock (cpufreq or
// /proc/cpuinfo), DRAM size (/proc/meminfo) and a measured multi-threaded streaming-read DRAM bandwidth.
// Detection runs once per process (the bandwidth run takes ~0.3 s) and is turned into a toml table that
// chips/cpu-host.toml is merged over: the file holds what cannot be detected (energy, efficiency, FMA pipes),
// detection fills the rest, and a key in the file always wins.
// Non-goals: timing a model on the host (that is src/exec + the validation tools); non-Linux hosts (every
// probe degrades to "not found", and the file must then give the value).
// HOWTO add a detected value: a field in HostInfo, its probe in host_detect.cpp, its key in
// host_chip_table().
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <vector>

namespace xpusim::chips {

struct HostCache {
  int level = 0;
  std::string type;  // "Data", "Instruction", "Unified"
  int64_t size_bytes = 0;
  int shared_by_cores = 1;  // physical cores sharing one instance
};

struct HostFeatures {
  bool fma = false, avx2 = false, avx512f = false, avx512_bf16 = false, avx512_vnni = false, avx_vnni = false;
  bool amx_tile = false, amx_bf16 = false, amx_int8 = false;
  bool os_avx = false, os_avx512 = false, os_amx = false;  // XCR0 says the OS saves these registers
  int simd_width_bits() const;                             // widest usable FMA register: 512, 256 or 128
  std::string summary() const;                             // "avx2 fma avx512f avx512_bf16 ..."
};

struct HostInfo {
  std::string model_name;
  int logical_cpus = 0;
  int physical_cores = 0;
  double clock_mhz = 0;
  std::string clock_source;  // which probe gave clock_mhz
  HostFeatures features;
  std::vector<HostCache> caches;  // data/unified caches only, innermost first
  int64_t dram_bytes = 0;
  double dram_read_gbps = 0;  // best pass of the streaming read
  int bandwidth_threads = 0;
  int64_t bandwidth_buffer_bytes = 0;
  double bandwidth_seconds = 0;   // wall time spent measuring
  bool bandwidth_cached = false;  // taken from the per-machine cache (chips --detect measures again)
  int bandwidth_probes = 0;       // probes the median was taken over (0 when cached)
  double bandwidth_load_average = 0;  // 1-minute load average during the probe
  bool bandwidth_busy = false;        // probed on a busy machine (load >= CPUs): not cached, likely low
};

// Detected once per process (thread-safe); later calls return the cached result. The DRAM bandwidth comes
// from a per-machine cache file when present (so two runs predict the same), else it is measured and cached.
const HostInfo& detect_host();
// Makes the next detect_host() measure the bandwidth again and rewrite the cache (`chips --detect`).
void refresh_host_bandwidth();
// Makes `host` this process's detection result instead of probing (fuzzers and tests, where a 0.3 s bandwidth
// run per input is too slow). Has no effect once detect_host() has run.
void use_host_info(const HostInfo& host);

// The detected values as chip-file keys. `file` is the cpu-host file itself: it supplies compute.fma_pipes,
// needed to turn SIMD width into a peak rate (xpusim::Error naming the file if it is missing).
toml::table host_chip_table(const HostInfo& host, const toml::table& file, const std::string& file_path);

// Human-readable report for `xpusim chips --detect`.
std::string host_report(const HostInfo& host);

}  // namespace xpusim::chips
