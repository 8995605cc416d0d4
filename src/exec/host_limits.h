// Measured peak fp32 FMA throughput of this machine at the executor's SIMD level: every pool thread runs
// independent FMA chains (simd::SimdKernels::fma_burst) for a fixed time; the rate is 2 flops per lane per
// FMA over the wall time. The limit `xpusim bench` compares prompt processing against. Non-goals: a
// theoretical peak from clock x pipes (chips/ does that for the cost model).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/large_page_buffer.h"
#include "exec/thread_pool.h"

namespace xpusim::exec {

struct FmaPeak {
  double gflops = 0;  // fp32 GFLOP/s, all threads together
  int threads = 0;
  std::string level;   // SIMD level used ("avx512", ...)
  double seconds = 0;  // measured interval
};

// Runs about `seconds` of FMA bursts on every thread of `pool` (best of three runs).
FmaPeak measure_peak_fma(ThreadPool& pool, double seconds = 0.2);

struct ReadBandwidth {
  double gbps = 0;  // best pass, GB/s (1e9 bytes)
  int threads = 0;
  int64_t buffer_bytes = 0;
  int passes = 0;
};

// A streaming-read probe that keeps its buffer, so it can be run again and again between the steps of a
// measured run (`xpusim bench` probes around every few decode steps: on a shared machine the bandwidth
// moves from minute to minute, and a limit measured at another moment misstates the fraction).
class ReadProbe {
 public:
  ReadProbe(ThreadPool& pool, int64_t buffer_bytes);
  // Reads the buffer `passes` times with every thread of the pool; the best pass.
  ReadBandwidth measure(int passes);

 private:
  float* data() { return reinterpret_cast<float*>(m_buffer.data()); }
  int64_t floats() const { return static_cast<int64_t>(m_buffer.size() / sizeof(float)); }

  ThreadPool& m_pool;
  LargePageBuffer m_buffer;
};

// Reads a `buffer_bytes` buffer `passes` times with every thread of `pool`.
ReadBandwidth measure_read_bandwidth(ThreadPool& pool, int64_t buffer_bytes = int64_t{512} << 20,
                                     int passes = 5);

}  // namespace xpusim::exec
