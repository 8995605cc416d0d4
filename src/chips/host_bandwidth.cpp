// Measured DRAM read bandwidth of this machine: all logical CPUs stream-read disjoint slices of a buffer
// several times larger than the last-level cache; the best pass wins (other processes only ever slow a pass).
// About 0.3 s in total. Declared in host_detect_internal.h and called once per process by detect_host().
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "chips/host_detect_internal.h"
#include "core/large_page_buffer.h"

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
  double best_seconds = 1e30;
  int passes = 0;
  while (passes < 2 || (passes < 40 && Clock::now() - start < std::chrono::milliseconds(300))) {
    const auto pass_start = Clock::now();
    run_on_threads(threads, [&](int t) { sinks[t] += sum_words(buffer + t * per_thread, per_thread); });
    best_seconds = std::min(best_seconds, std::chrono::duration<double>(Clock::now() - pass_start).count());
    ++passes;
  }
  uint64_t checksum = 0;
  for (uint64_t sink : sinks) checksum ^= sink;
  result.checksum = checksum;  // keeps the reads observable
  result.read_gbps = static_cast<double>(per_thread * threads * sizeof(uint64_t)) / best_seconds / 1e9;
  result.threads = threads;
  result.buffer_bytes = static_cast<int64_t>(per_thread * threads * sizeof(uint64_t));
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace xpusim::chips::detail
