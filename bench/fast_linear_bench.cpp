// Throughput of the fast LINEAR kernel (exec/fast_linear.h) on llama-3.2-1b-sized matrices, 2 threads:
//   gemv/<dtype>: one token through a 16384 x 8192 weight (larger than any cache) -- bytes_per_second is the
//   weight bytes
//     streamed, to compare with the machine's memory bandwidth (`xpusim chips --detect`);
//   gemm/<dtype>: 512 tokens through a 2048 x 2048 weight -- items_per_second counts FLOPs (2 per
//     multiply-add), to compare with the peak FMA rate `xpusim bench` measures.
//   gemv_exact/<dtype>: the same GEMV with fp32 activations (XPUSIM_EXACT_LINEAR's path) where gemv rounds
//     them to int8 blocks (integer dots);
//   gemv_l2/<dtype>, gemv_l2_fmt/<format>: one thread, a 512 x 2048 weight that stays in L2 (4-bit; 8-bit
//     and bf16 ones spill to L3) -- the kernel's arithmetic rate (bytes of weights per second) without DRAM
//     in the way; gemv_l2_exact: the same with fp32 activations. Read the CPU time on a busy machine.
// Dtypes: f32, bf16, GGUF q4_0 / q4_1 / q8_0 and numerics formats (random payloads, small scales).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "exec/fast_linear.h"
#include "numerics/decode.h"
#include "numerics/tensor_codec.h"

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

// A numerics-packed weight: 64 rows of N(0, 1) values encoded once, repeated to `rows` rows (realistic
// scales: a random payload would give fp32 subnormals, which are slow and not what models hold).
xpusim::model::Weights make_numerics_weight(xpusim::numerics::Format format, int64_t rows, int64_t cols) {
  constexpr int64_t kDistinct = 64;
  const std::vector<float> values = xpusim::numerics::test_signal(static_cast<size_t>(kDistinct * cols));
  xpusim::numerics::EncodedTensor encoded = xpusim::numerics::encode_tensor(
      format, values, static_cast<size_t>(kDistinct), static_cast<size_t>(cols));
  const size_t block = encoded.data.size();
  encoded.rows = static_cast<size_t>(rows);
  encoded.data.resize(block * static_cast<size_t>(rows / kDistinct));
  for (size_t at = block; at < encoded.data.size(); at += block) {
    std::copy(encoded.data.begin(), encoded.data.begin() + static_cast<std::ptrdiff_t>(block),
              encoded.data.begin() + static_cast<std::ptrdiff_t>(at));
  }
  xpusim::model::Weights weights;
  weights.add_encoded("w", {rows, cols}, std::move(encoded));
  return weights;
}

using xpusim::exec::Activations;

void run_on(benchmark::State& state, const xpusim::model::TensorView& w, int64_t tokens, int threads,
            Activations activations) {
  const int64_t rows = w.rows(), cols = w.row_elements();
  std::vector<float> x(static_cast<size_t>(tokens * cols)), y(static_cast<size_t>(tokens * rows));
  std::mt19937_64 rng(2);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float& v : x) v = dist(rng);
  xpusim::exec::ThreadPool pool(threads);
  for (auto _ : state) {
    xpusim::exec::linear_fast(w, nullptr, x.data(), tokens, y.data(), pool,
                              xpusim::exec::simd::simd_kernels(), activations);
    benchmark::DoNotOptimize(y.data());
  }
  if (tokens == 1) {
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.bytes));
  } else {
    state.SetItemsProcessed(state.iterations() * 2 * rows * cols * tokens);
  }
  state.SetLabel(std::string(xpusim::exec::simd::simd_kernels().name));
}

void run(benchmark::State& state, DType dtype, int64_t rows, int64_t cols, int64_t tokens, int threads = 2,
         Activations activations = Activations::kInt8Blocks) {
  const xpusim::model::Weights weights = make_weight(dtype, rows, cols);
  run_on(state, weights.get("w"), tokens, threads, activations);
}

void gemv(benchmark::State& state, DType dtype) { run(state, dtype, 16384, 8192, 1); }
void gemv_exact(benchmark::State& state, DType dtype) {
  run(state, dtype, 16384, 8192, 1, 2, Activations::kFp32);
}
void gemv_l2(benchmark::State& state, DType dtype) { run(state, dtype, 512, 2048, 1, 1); }
void gemv_l2_exact(benchmark::State& state, DType dtype) {
  run(state, dtype, 512, 2048, 1, 1, Activations::kFp32);
}
void gemm(benchmark::State& state, DType dtype) { run(state, dtype, 2048, 2048, 512); }

void gemv_numerics(benchmark::State& state, const char* name, int64_t rows, int threads,
                   Activations activations) {
  const xpusim::model::Weights weights =
      make_numerics_weight(*xpusim::numerics::format_from_name(name), rows, rows == 512 ? 2048 : 8192);
  run_on(state, weights.get("w"), 1, threads, activations);
}
void gemv_fmt(benchmark::State& state, const char* name) {
  gemv_numerics(state, name, 16384, 2, Activations::kInt8Blocks);
}
void gemv_l2_fmt(benchmark::State& state, const char* name) {
  gemv_numerics(state, name, 512, 1, Activations::kInt8Blocks);
}

BENCHMARK_CAPTURE(gemv, f32, DType::F32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv, bf16, DType::BF16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv, q8_0, DType::Q8_0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv, q4_1, DType::Q4_1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv, q4_0, DType::Q4_0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv_exact, q4_0, DType::Q4_0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv_l2, bf16, DType::BF16)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv_l2, q8_0, DType::Q8_0)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv_l2, q4_1, DType::Q4_1)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv_l2, q4_0, DType::Q4_0)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(gemv_l2_exact, q4_0, DType::Q4_0)->Unit(benchmark::kMicrosecond)->UseRealTime();
#define XPUSIM_FORMAT_BENCH(id, name)                                                  \
  BENCHMARK_CAPTURE(gemv_fmt, id, name)->Unit(benchmark::kMillisecond)->UseRealTime(); \
  BENCHMARK_CAPTURE(gemv_l2_fmt, id, name)->Unit(benchmark::kMicrosecond)->UseRealTime();
XPUSIM_FORMAT_BENCH(mxfp4, "mxfp4")
XPUSIM_FORMAT_BENCH(nvfp4, "nvfp4")
XPUSIM_FORMAT_BENCH(ue_if4, "ue-if4")
XPUSIM_FORMAT_BENCH(int4, "int4")
XPUSIM_FORMAT_BENCH(int8, "int8")
XPUSIM_FORMAT_BENCH(fp8_e4m3, "fp8-e4m3")
XPUSIM_FORMAT_BENCH(mxfp8, "mxfp8")
XPUSIM_FORMAT_BENCH(ue_int8, "ue-int8")
BENCHMARK_CAPTURE(gemm, f32, DType::F32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemm, bf16, DType::BF16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(gemm, q4_0, DType::Q4_0)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
