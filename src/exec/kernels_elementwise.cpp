// Elementwise and movement kernels. Activations match PyTorch's fp32 formulas (gelu tanh approximation,
// silu).
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "exec/kernels.h"

namespace xpusim::exec {
namespace {

int64_t elements(const KernelArgs& args) { return args.out.tensor->elements(); }

// Element ranges per thread: large enough that a decode step (a few thousand elements) stays on one thread.
constexpr int64_t kMinElementsPerThread = 1 << 14;

// Runs fn(i) for every element, split across the pool (same results as a single loop: no reductions).
template <typename Fn>
void for_each_element(const KernelArgs& args, Fn fn) {
  args.pool.parallel_for(elements(args), kMinElementsPerThread, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) fn(i);
  });
}

}  // namespace

// 0.5 x (1 + tanh(u)) written as x / (1 + exp(-2 u)) (the same function): one expf instead of tanhf, which
// made GELU 12 % of GPT-2 prefill. The two differ by rounding only, and for u << 0 (where 1 + tanh(u)
// cancels) the exp form is the more accurate one. exp overflowing to +Inf gives -0, the limit.
float gelu_tanh(float x) {
  constexpr float kBeta = 0.7978845608028654f;  // sqrt(2 / pi)
  constexpr float kKappa = 0.044715f;
  const float inner = kBeta * (x + kKappa * x * x * x);
  return x / (1.0f + std::exp(-2.0f * inner));
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }

void run_add(const KernelArgs& args) {
  const float* a = args.in[0]->f32;
  const float* b = args.in[1]->f32;
  float* y = args.out.f32;
  for_each_element(args, [&](int64_t i) { y[i] = a[i] + b[i]; });
}

void run_mul(const KernelArgs& args) {
  const float* a = args.in[0]->f32;
  const float* b = args.in[1]->f32;
  float* y = args.out.f32;
  for_each_element(args, [&](int64_t i) { y[i] = a[i] * b[i]; });
}

void run_scale(const KernelArgs& args) {
  const float scale = static_cast<float>(args.op.attrs.scale);
  const float* x = args.in[0]->f32;
  float* y = args.out.f32;
  for_each_element(args, [&](int64_t i) { y[i] = x[i] * scale; });
}

void run_softcap(const KernelArgs& args) {
  const float cap = static_cast<float>(args.op.attrs.softcap);
  const float* x = args.in[0]->f32;
  float* y = args.out.f32;
  for_each_element(args, [&](int64_t i) { y[i] = std::tanh(x[i] / cap) * cap; });
}

void run_gelu_tanh(const KernelArgs& args) {
  const float* x = args.in[0]->f32;
  float* y = args.out.f32;
  for_each_element(args, [&](int64_t i) { y[i] = gelu_tanh(x[i]); });
}

void run_silu(const KernelArgs& args) {
  const float* x = args.in[0]->f32;
  float* y = args.out.f32;
  for_each_element(args, [&](int64_t i) { y[i] = silu(x[i]); });
}

void run_slice_rows(const KernelArgs& args) {
  const int64_t width = args.in[0]->tensor->shape[1];
  std::memcpy(args.out.f32, args.in[0]->f32 + args.op.attrs.begin * width,
              static_cast<size_t>(args.op.attrs.count * width) * sizeof(float));
}

// RESHAPE is a view: the executor points the output buffer at the input's storage.
void run_reshape(const KernelArgs& args) { XPUSIM_ASSERT(args.out.f32 == args.in[0]->f32); }

}  // namespace xpusim::exec
