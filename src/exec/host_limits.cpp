#include "exec/host_limits.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

#include "exec/simd/simd_kernels.h"

namespace xpusim::exec {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

FmaPeak measure_peak_fma(ThreadPool& pool, double seconds) {
  const simd::SimdKernels& kernels = simd::simd_kernels();
  std::atomic<float> sink{0.0f};  // keeps the bursts observable
  // Calibrate on one thread: iterations for ~`seconds`.
  int64_t iterations = 1 << 16;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    sink.store(kernels.fma_burst(iterations));
    const double elapsed = seconds_since(start);
    if (elapsed > seconds / 8 || iterations > (int64_t{1} << 40)) {
      iterations = static_cast<int64_t>(static_cast<double>(iterations) * seconds / std::max(elapsed, 1e-9));
      break;
    }
    iterations *= 4;
  }
  iterations = std::max<int64_t>(iterations, 1024);
  FmaPeak best;
  best.threads = pool.size();
  best.level = std::string(kernels.name);
  for (int run = 0; run < 3; ++run) {
    const auto start = std::chrono::steady_clock::now();
    pool.parallel_for(pool.size(), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) sink.store(kernels.fma_burst(iterations));
    });
    const double elapsed = seconds_since(start);
    const double flops =
        2.0 * kernels.vector_floats * simd::kFmaBurstChains * static_cast<double>(iterations) * pool.size();
    if (flops / elapsed / 1e9 > best.gflops) {
      best.gflops = flops / elapsed / 1e9;
      best.seconds = elapsed;
    }
  }
  return best;
}

// On huge pages like the weights it is compared with (core/large_page_buffer.h).
ReadProbe::ReadProbe(ThreadPool& pool, int64_t buffer_bytes)
    : m_pool(pool), m_buffer(static_cast<size_t>(std::max<int64_t>(buffer_bytes / 4, 4096)) * sizeof(float)) {
  // Touch the pages from the threads that will read them (first-touch placement) with non-zero data.
  m_pool.parallel_for(floats(), 1 << 16,
                      [&](int64_t begin, int64_t end) { std::fill(data() + begin, data() + end, 1.0f); });
}

ReadBandwidth ReadProbe::measure(int passes) {
  const simd::SimdKernels& kernels = simd::simd_kernels();
  // The dot against a small L1-resident vector: one stream from memory, like a GEMV row.
  constexpr int64_t kChunk = 4096;
  const int64_t chunks = floats() / kChunk;
  const std::vector<float> ones(static_cast<size_t>(kChunk), 1.0f);
  std::atomic<float> sink{0.0f};
  ReadBandwidth result;
  result.threads = m_pool.size();
  result.buffer_bytes = chunks * kChunk * 4;
  result.passes = passes;
  for (int pass = 0; pass < passes; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    m_pool.parallel_for(chunks, 1, [&](int64_t begin, int64_t end) {
      float sum = 0.0f;
      for (int64_t c = begin; c < end; ++c) sum += kernels.dot_f32(data() + c * kChunk, ones.data(), kChunk);
      sink.store(sum);
    });
    const double elapsed = seconds_since(start);
    result.gbps = std::max(result.gbps, static_cast<double>(result.buffer_bytes) / elapsed / 1e9);
  }
  return result;
}

ReadBandwidth measure_read_bandwidth(ThreadPool& pool, int64_t buffer_bytes, int passes) {
  ReadProbe probe(pool, buffer_bytes);
  return probe.measure(passes);
}

}  // namespace xpusim::exec
