#include "chips/host_detect.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "chips/host_detect_internal.h"
#include "core/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define XPUSIM_HOST_X86 1
#endif

namespace xpusim::chips {

namespace {
// chips --detect: measure the bandwidth again instead of reading the per-machine cache.
bool g_refresh_bandwidth = false;
}  // namespace

namespace {

namespace fs = std::filesystem;

std::string read_first_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

// "48K" -> 49152, "2M" -> 2097152; 0 when unreadable.
int64_t parse_size(const std::string& text) {
  int64_t value = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) value = value * 10 + (text[i] - '0');
  if (i < text.size() && (text[i] == 'K' || text[i] == 'k')) value <<= 10;
  if (i < text.size() && text[i] == 'M') value <<= 20;
  if (i < text.size() && text[i] == 'G') value <<= 30;
  return value;
}

// "0-3,8" -> 5
int count_cpu_list(const std::string& list) {
  int count = 0;
  std::stringstream stream(list);
  std::string part;
  while (std::getline(stream, part, ',')) {
    const size_t dash = part.find('-');
    if (part.empty()) continue;
    if (dash == std::string::npos) {
      ++count;
    } else {
      const int first = std::atoi(part.substr(0, dash).c_str()),
                last = std::atoi(part.substr(dash + 1).c_str());
      count += std::max(0, last - first + 1);
    }
  }
  return count;
}

std::string cpuinfo_field(const std::string& field, bool want_max, double* max_value) {
  std::ifstream in("/proc/cpuinfo");
  std::string line, first;
  while (std::getline(in, line)) {
    if (!line.starts_with(field)) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    if (first.empty()) first = value;
    if (want_max) *max_value = std::max(*max_value, std::atof(value.c_str()));
  }
  return first;
}

void detect_features(HostFeatures& f) {
#ifdef XPUSIM_HOST_X86
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return;
  f.fma = ecx & (1u << 12);
  const bool osxsave = ecx & (1u << 27);
  uint64_t xcr0 = 0;
  if (osxsave) {
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<uint64_t>(hi) << 32) | lo;
  }
  f.os_avx = (xcr0 & 0x6) == 0x6;
  f.os_avx512 = f.os_avx && (xcr0 & 0xE0) == 0xE0;
  f.os_amx = (xcr0 & 0x60000) == 0x60000;
  if (__get_cpuid_max(0, nullptr) < 7) return;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const unsigned max_subleaf = eax;
  f.avx2 = ebx & (1u << 5);
  f.avx512f = ebx & (1u << 16);
  f.avx512_vnni = ecx & (1u << 11);
  f.amx_bf16 = edx & (1u << 22);
  f.amx_tile = edx & (1u << 24);
  f.amx_int8 = edx & (1u << 25);
  if (max_subleaf >= 1) {
    __cpuid_count(7, 1, eax, ebx, ecx, edx);
    f.avx_vnni = eax & (1u << 4);
    f.avx512_bf16 = eax & (1u << 5);
  }
#else
  (void)f;
#endif
}

void detect_topology(HostInfo& host) {
  host.logical_cpus = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  std::set<std::pair<std::string, std::string>> cores;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/sys/devices/system/cpu", error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("cpu") || name.size() < 4 ||
        name.find_first_not_of("0123456789", 3) != std::string::npos)
      continue;
    if (read_first_line(entry.path() / "online") == "0") continue;
    const std::string core = read_first_line(entry.path() / "topology/core_id");
    if (core.empty()) continue;
    cores.insert({read_first_line(entry.path() / "topology/physical_package_id"), core});
  }
  host.physical_cores = cores.empty() ? host.logical_cpus : static_cast<int>(cores.size());
}

void detect_caches(HostInfo& host) {
  const int threads_per_core = std::max(1, host.logical_cpus / std::max(1, host.physical_cores));
  for (int index = 0; index < 16; ++index) {
    const fs::path dir = fmt::format("/sys/devices/system/cpu/cpu0/cache/index{}", index);
    const std::string level = read_first_line(dir / "level");
    if (level.empty()) break;
    HostCache cache;
    cache.level = std::atoi(level.c_str());
    cache.type = read_first_line(dir / "type");
    cache.size_bytes = parse_size(read_first_line(dir / "size"));
    cache.shared_by_cores =
        std::max(1, count_cpu_list(read_first_line(dir / "shared_cpu_list")) / threads_per_core);
    if (cache.type != "Instruction" && cache.size_bytes > 0) host.caches.push_back(cache);
  }
  std::sort(host.caches.begin(), host.caches.end(),
            [](const auto& a, const auto& b) { return a.level < b.level; });
}

HostInfo run_detection() {
  HostInfo host;
  detect_topology(host);
  detect_features(host.features);
  detect_caches(host);
  double cpuinfo_mhz = 0;
  host.model_name = cpuinfo_field("model name", false, nullptr);
  cpuinfo_field("cpu MHz", true, &cpuinfo_mhz);
  const std::string max_khz = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
  if (!max_khz.empty() && std::atof(max_khz.c_str()) > 0) {
    host.clock_mhz = std::atof(max_khz.c_str()) / 1000.0;
    host.clock_source = "cpufreq cpuinfo_max_freq";
  } else if (cpuinfo_mhz > 0) {
    host.clock_mhz = cpuinfo_mhz;
    host.clock_source = "/proc/cpuinfo 'cpu MHz' (highest core)";
  }
  double mem_kib = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);)
    if (line.starts_with("MemTotal:")) mem_kib = std::atof(line.c_str() + 9);
  host.dram_bytes = static_cast<int64_t>(mem_kib * 1024);
  const int64_t llc = host.caches.empty() ? 0 : host.caches.back().size_bytes;
  const std::string machine_key =
      fmt::format("{} | {} cpus | {} bytes", host.model_name, host.logical_cpus, host.dram_bytes);
  const auto bandwidth = detail::cached_read_bandwidth(host.logical_cpus, llc, host.dram_bytes, machine_key,
                                                       g_refresh_bandwidth);
  host.bandwidth_cached = bandwidth.cached;
  host.bandwidth_load_average = bandwidth.load_average;
  host.bandwidth_busy = bandwidth.busy;
  host.bandwidth_probes = bandwidth.probes;
  host.dram_read_gbps = bandwidth.read_gbps;
  host.bandwidth_threads = bandwidth.threads;
  host.bandwidth_buffer_bytes = bandwidth.buffer_bytes;
  host.bandwidth_seconds = bandwidth.seconds;
  return host;
}

}  // namespace

int HostFeatures::simd_width_bits() const {
  if (avx512f && os_avx512) return 512;
  if ((avx2 || fma) && os_avx) return 256;
  return 128;
}

std::string HostFeatures::summary() const {
  std::string text;
  const std::pair<bool, const char*> flags[] = {{fma, "fma"},
                                                {avx2, "avx2"},
                                                {avx512f, "avx512f"},
                                                {avx512_bf16, "avx512_bf16"},
                                                {avx512_vnni, "avx512_vnni"},
                                                {avx_vnni, "avx_vnni"},
                                                {amx_tile, "amx_tile"},
                                                {amx_bf16, "amx_bf16"},
                                                {amx_int8, "amx_int8"}};
  for (const auto& [present, name] : flags)
    if (present) {
      if (!text.empty()) text += ' ';
      text += name;
    }
  if (amx_tile && !os_amx) text += " (amx not enabled by the OS)";
  if (avx512f && !os_avx512) text += " (avx512 not enabled by the OS)";
  return text.empty() ? "none beyond baseline" : text;
}

namespace {
std::once_flag g_detect_once;
HostInfo g_host;
}  // namespace

void refresh_host_bandwidth() { g_refresh_bandwidth = true; }

const HostInfo& detect_host() {
  std::call_once(g_detect_once, [] { g_host = run_detection(); });
  return g_host;
}

void use_host_info(const HostInfo& host) {
  std::call_once(g_detect_once, [&host] { g_host = host; });
}

}  // namespace xpusim::chips
