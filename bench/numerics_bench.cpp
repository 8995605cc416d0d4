// Numerics throughput: quantize (encode) and dequantize (decode) elements/s for every row of the format
// table, one thread and all threads; a dequantizing matvec for the 4-bit formats in GB/s of weights read,
// next to the machine's measured memory read bandwidth (BM_MemoryRead).
// Run: build/bench/xpusim_numerics_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "numerics/format_table.h"
#include "numerics/tensor_codec.h"

namespace xpusim::numerics {
namespace {

constexpr size_t kRows = 256, kCols = 4096;  // 1 Mi elements

const std::vector<float>& signal() {
  static const std::vector<float> x = test_signal(kRows * kCols, 3);
  return x;
}

unsigned all_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

void quantize(benchmark::State& state, Format format, unsigned threads) {
  for (auto _ : state) {
    EncodedTensor t = encode_tensor(format, signal(), kRows, kCols, threads);
    benchmark::DoNotOptimize(t.data.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows * kCols));
}

void dequantize(benchmark::State& state, Format format, unsigned threads) {
  const EncodedTensor t = encode_tensor(format, signal(), kRows, kCols);
  std::vector<float> out(kRows * kCols);
  for (auto _ : state) {
    decode_tensor(t, out, threads);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows * kCols));
}

// Eight independent partial sums so the compiler can vectorize the dot without -ffast-math.
float dot(const float* a, const float* b, size_t n) {
  float acc[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (size_t k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
  }
  float sum = 0.0f;
  for (; i < n; ++i) sum += a[i] * b[i];
  for (float v : acc) sum += v;
  return sum;
}

// y = W x with W decoded one row at a time into an L1-resident buffer (what a host matvec does).
void dequant_matvec(benchmark::State& state, Format format, unsigned threads) {
  const size_t rows = 8192, cols = 4096;  // ~18 MB of 4.5-bit weights: larger than the caches
  const std::vector<float> w = test_signal(rows * cols, 5);
  const EncodedTensor t = encode_tensor(format, w, rows, cols);
  const std::vector<float> x = test_signal(cols, 6);
  std::vector<float> y(rows);
  for (auto _ : state) {
    std::vector<std::thread> pool;
    for (unsigned k = 0; k < threads; ++k) {
      pool.emplace_back([&, k] {
        std::vector<float> row(cols);
        for (size_t r = rows * k / threads; r < rows * (k + 1) / threads; ++r) {
          decode_rows(t, r, 1, row.data());
          y[r] = dot(row.data(), x.data(), cols);
        }
      });
    }
    for (auto& thread : pool) thread.join();
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * t.storage_bytes()));
  state.counters["weight_bytes"] = static_cast<double>(t.storage_bytes());
}

// Memory read bandwidth: sum a 256 MiB buffer (one thread per share).
void memory_read(benchmark::State& state, unsigned threads) {
  const size_t n = (256u << 20) / sizeof(uint64_t);
  std::vector<uint64_t> buffer(n, 1);
  std::vector<uint64_t> sums(threads);
  for (auto _ : state) {
    std::vector<std::thread> pool;
    for (unsigned k = 0; k < threads; ++k) {
      pool.emplace_back([&, k] {
        sums[k] = std::accumulate(buffer.begin() + n * k / threads, buffer.begin() + n * (k + 1) / threads,
                                  uint64_t{0});
      });
    }
    for (auto& thread : pool) thread.join();
    benchmark::DoNotOptimize(sums.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * sizeof(uint64_t)));
}

const bool registered = [] {
  const unsigned all = all_threads();
  for (const unsigned threads : {1u, all}) {
    const std::string suffix = "/threads:" + std::to_string(threads);
    for (const FormatRow& row : format_rows()) {
      const std::string name(row.name);
      benchmark::RegisterBenchmark(("quantize/" + name + suffix).c_str(), quantize, row.format, threads)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      benchmark::RegisterBenchmark(("dequantize/" + name + suffix).c_str(), dequantize, row.format, threads)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      if (row.is_block && row.bits_per_element() < 5.0) {
        benchmark::RegisterBenchmark(("dequant_matvec/" + name + suffix).c_str(), dequant_matvec, row.format,
                                     threads)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
    }
    benchmark::RegisterBenchmark(("memory_read" + suffix).c_str(), memory_read, threads)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    if (all == 1) break;
  }
  return true;
}();

}  // namespace
}  // namespace xpusim::numerics

BENCHMARK_MAIN();
