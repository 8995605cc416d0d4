// Measured DRAM read bandwidth of this machine: all logical CPUs stream-read disjoint slices of a buffer
// several times larger than the last-level cache, in five short probes of two passes; the median of the
// probes' best passes wins (other processes only ever slow a pass, and one busy moment moves one probe, not
// the median). About 0.3 s in total, cached per machine (cached_read_bandwidth) so runs agree. Declared in
// host_detect_internal.h and called once per process by detect_host().
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "chips/host_detect_internal.h"
#include "core/large_page_buffer.h"

#include <unistd.h>

namespace xpusim::chips::detail {

namespace {

using Clock = std::chrono::steady_clock;

// Four independent sums so the loop is load-bound, not add-latency-bound; the compiler vectorizes it.
uint64_t sum_words(const uint64_t* words, size_t count) {
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    s0 += words[i];
    s1 += words[i + 1];
    s2 += words[i + 2];
    s3 += words[i + 3];
  }
  for (; i < count; ++i) s0 += words[i];
  return s0 + s1 + s2 + s3;
}

template <typename Work>
void run_on_threads(int threads, Work work) {
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
  for (auto& thread : pool) thread.join();
}

}  // namespace

BandwidthResult measure_read_bandwidth(int threads, int64_t llc_bytes, int64_t dram_bytes) {
  BandwidthResult result;
  threads = std::max(threads, 1);
  // Much larger than the LLC so every pass streams from DRAM, small enough to be harmless on this machine.
  int64_t buffer_bytes = std::clamp<int64_t>(8 * llc_bytes, 64 << 20, 512 << 20);
  if (dram_bytes > 0) buffer_bytes = std::min(buffer_bytes, std::max<int64_t>(dram_bytes / 8, 16 << 20));
  const size_t words = static_cast<size_t>(buffer_bytes) / sizeof(uint64_t);
  const size_t per_thread = words / threads;

  const auto start = Clock::now();
  // On huge pages, as the executor keeps its weights (core/large_page_buffer.h).
  LargePageBuffer storage;
  try {
    storage = LargePageBuffer(words * sizeof(uint64_t));
  } catch (const std::bad_alloc&) {
    return result;  // not measured; the caller reports it and the file must give the value
  }
  uint64_t* buffer = reinterpret_cast<uint64_t*>(storage.data());
  // Non-zero writes from every thread: pages become real (never the shared zero page) and local to the
  // reader.
  run_on_threads(threads, [&](int t) {
    for (size_t i = t * per_thread; i < (t + 1) * per_thread; ++i) buffer[i] = i * 0x9E3779B97F4A7C15ull;
  });

  std::vector<uint64_t> sinks(threads);
  constexpr int kProbes = 5, kPassesPerProbe = 2;
  std::vector<double> probe_best;
  for (int probe = 0; probe < kProbes; ++probe) {
    double best_seconds = 1e30;
    for (int pass = 0; pass < kPassesPerProbe; ++pass) {
      const auto pass_start = Clock::now();
      run_on_threads(threads, [&](int t) { sinks[t] += sum_words(buffer + t * per_thread, per_thread); });
      best_seconds = std::min(best_seconds, std::chrono::duration<double>(Clock::now() - pass_start).count());
    }
    probe_best.push_back(best_seconds);
  }
  std::sort(probe_best.begin(), probe_best.end());
  const double median_seconds = probe_best[probe_best.size() / 2];
  result.probes = kProbes;
  uint64_t checksum = 0;
  for (uint64_t sink : sinks) checksum ^= sink;
  result.checksum = checksum;  // keeps the reads observable
  result.read_gbps = static_cast<double>(per_thread * threads * sizeof(uint64_t)) / median_seconds / 1e9;
  result.threads = threads;
  result.buffer_bytes = static_cast<int64_t>(per_thread * threads * sizeof(uint64_t));
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

namespace {

std::filesystem::path bandwidth_cache_file() {
  if (const char* dir = std::getenv("XPUSIM_CACHE_DIR"); dir != nullptr && *dir != '\0')
    return std::filesystem::path(dir) / "host-bandwidth.tsv";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return std::filesystem::path(home) / ".cache" / "xpusim" / "host-bandwidth.tsv";
  return {};
}

// Keys are free text without tabs or newlines.
std::string clean_key(std::string key) {
  for (char& c : key)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return key;
}

}  // namespace

BandwidthResult cached_read_bandwidth(int threads, int64_t llc_bytes, int64_t dram_bytes,
                                      const std::string& machine_key, bool refresh) {
  const std::filesystem::path file = bandwidth_cache_file();
  const std::string key = clean_key(machine_key);
  std::vector<std::string> kept;  // other machines' entries (a shared home directory)
  if (!file.empty()) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      std::istringstream fields(line);
      std::string entry_key;
      BandwidthResult cached;
      if (!std::getline(fields, entry_key, '\t')) continue;
      if (entry_key != key) {
        kept.push_back(line);
        continue;
      }
      if (!refresh && (fields >> cached.read_gbps >> cached.threads >> cached.buffer_bytes) &&
          cached.read_gbps > 0) {
        cached.cached = true;
        return cached;
      }
    }
  }
  BandwidthResult measured = measure_read_bandwidth(threads, llc_bytes, dram_bytes);
  // A probe that shared the cores with other work measured the neighbours, not the memory: use it for this
  // run but keep it out of the cache, so a later run on a quiet machine measures again.
  double load[1] = {0};
  if (getloadavg(load, 1) == 1) measured.load_average = load[0];
  measured.busy = measured.load_average >= std::max(1, threads);
  if (measured.read_gbps > 0 && !file.empty() && !measured.busy) {
    std::error_code error;
    std::filesystem::create_directories(file.parent_path(), error);
    const std::filesystem::path temp = file.string() + ".tmp" + std::to_string(::getpid());
    {
      std::ofstream out(temp);
      for (const std::string& line : kept) out << line << '\n';
      out << key << '\t' << measured.read_gbps << '\t' << measured.threads << '\t' << measured.buffer_bytes
          << '\n';
    }
    std::filesystem::rename(temp, file, error);  // atomic: a concurrent reader sees the old or the new file
    if (error) std::filesystem::remove(temp, error);
  }
  return measured;
}

}  // namespace xpusim::chips::detail
