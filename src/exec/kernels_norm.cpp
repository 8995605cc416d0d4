// LayerNorm (GPT-2) and RMSNorm (Llama-style w * x_hat, Gemma-style (1 + w) * x_hat), over the last
// dimension. Sums are accumulated in double so the result does not depend on the reduction order. Rows are
// split across the pool (each row computed as one loop: identical results for any thread count).
#include <cmath>

#include "exec/kernels.h"

namespace xpusim::exec {
namespace {

// Rows are independent: split them across the pool in prefill (decode steps have too few to be worth it).
constexpr int64_t kMinRowsPerThread = 8;

}  // namespace

void run_layer_norm(const KernelArgs& args) {
  const int64_t width = args.in[0]->tensor->shape.back();
  const int64_t rows = args.in[0]->tensor->elements() / width;
  const float* w = args.in[1]->weight_f32;
  const float* b = args.in[2]->weight_f32;
  const double eps = args.op.attrs.eps;
  args.pool.parallel_for(rows, kMinRowsPerThread, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* x = args.in[0]->f32 + r * width;
      float* y = args.out.f32 + r * width;
      double sum = 0;
      for (int64_t i = 0; i < width; ++i) sum += x[i];
      const float mean = static_cast<float>(sum / static_cast<double>(width));
      double var_sum = 0;
      for (int64_t i = 0; i < width; ++i) var_sum += static_cast<double>(x[i] - mean) * (x[i] - mean);
      const float inv = static_cast<float>(1.0 / std::sqrt(var_sum / static_cast<double>(width) + eps));
      for (int64_t i = 0; i < width; ++i) y[i] = (x[i] - mean) * inv * w[i] + b[i];
    }
  });
}

void run_rms_norm(const KernelArgs& args) {
  const int64_t width = args.in[0]->tensor->shape.back();
  const int64_t rows = args.in[0]->tensor->elements() / width;
  const float* w = args.in[1]->weight_f32;
  const bool plus_one = args.op.attrs.plus_one;
  const double eps = args.op.attrs.eps;
  args.pool.parallel_for(rows, kMinRowsPerThread, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* x = args.in[0]->f32 + r * width;
      float* y = args.out.f32 + r * width;
      double sum_sq = 0;
      for (int64_t i = 0; i < width; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
      const float inv = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(width) + eps));
      for (int64_t i = 0; i < width; ++i) y[i] = (x[i] * inv) * (plus_one ? 1.0f + w[i] : w[i]);
    }
  });
}

}  // namespace xpusim::exec
