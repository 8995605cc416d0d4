// Throughput of the fast LINEAR kernel (exec/fast_linear.h) on llama-3.2-1b-sized matrices, 2 threads:
//   gemv/<dtype>: one token through a 16384 x 8192 weight (larger than any cache) -- bytes_per_second is the
//   weight bytes
//     streamed, to compare with the machine's memory bandwidth (`xpusim chips --detect`);
//   gemm/<dtype>: 512 tokens through a 2048 x 2048 weight -- items_per_second counts FLOPs (2 per
//     multiply-add), to compare with the peak FMA rate `xpusim bench` measures.
// Dtypes: f32, bf16 and GGUF q4_0 / q4_1 / q8_0 (random payloads, valid scales).
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>

#include "exec/fast_linear.h"
#include "numerics/decode.h"

namespace {

using xpusim::DType;

xpusim::model::Weights make_weight(DType dtype, int64_t rows, int64_t cols) {
  const xpusim::DTypeInfo& info = xpusim::dtype_info(dtype);
  const size_t bytes = static_cast<size_t>(rows * cols / info.block_elements) * info.block_bytes;
  std::vector<std::byte> data(bytes);
  std::mt19937_64 rng(1);
  for (auto& b : data) b = static_cast<std::byte>(rng() & 0x3F);  // small values: no NaN / Inf patterns
  xpusim::model::Weights weights;
  weights.add_owned("w", dtype, {rows, cols}, std::move(data));
  return weights;
}

void run(benchmark::State& state, DType dtype, int64_t rows, int64_t cols, int64_t tokens) {
  const xpusim::model::Weights weights = make_weight(dtype, rows, cols);
  const xpusim::model::TensorView& w = weights.get("w");
  std::vector<float> x(static_cast<size_t>(tokens * cols), 0.01f), y(static_cast<size_t>(tokens * rows));
  xpusim::exec::ThreadPool pool(2);
  for (auto _ : state) {
    xpusim::exec::linear_fast(w, nullptr, x.data(), tokens, y.data(), pool,
                              xpusim::exec::simd::simd_kernels());
    benchmark::DoNotOptimize(y.data());
  }
  if (tokens == 1) {
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.bytes));
  } else {
    state.SetItemsProcessed(state.iterations() * 2 * rows * cols * tokens);
  }
  state.SetLabel(std::string(xpusim::exec::simd::simd_kernels().name));
}

void gemv(benchmark::State& state, DType dtype) { run(state, dtype, 16384, 8192, 1); }
void gemm(benchmark::State& state, DType dtype) { run(state, dtype, 2048, 2048, 512); }

BENCHMARK_CAPTURE(gemv, f32, DType::F32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv, bf16, DType::BF16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv, q8_0, DType::Q8_0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv, q4_1, DType::Q4_1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv, q4_0, DType::Q4_0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemm, f32, DType::F32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemm, bf16, DType::BF16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemm, q4_0, DType::Q4_0)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
