// Host kernels: one per graph op, computing in fp32, weights decoded from their stored dtype a row (or a
// block range) at a time. The reference kernels (plain readable C++) are the executable definition of each
// op's semantics (graph/op.h). Where a fast kernel exists (LINEAR: fast_linear.h, ATTENTION:
// fast_attention.cpp) the executor runs it and the reference stays as run_<op>_reference, reachable via
// reference_kernel_for() for the tests that check the fast one against it. Non-goals: numerics policies other
// than fp32 compute. HOWTO add an op's kernel: write `void run_<op>(const KernelArgs&)` in the
// kernels_<category>.cpp file that fits, declare it below and put it in kKernels (kernels.cpp; a
// static_assert checks one row per OpKind). HOWTO add a fast kernel: keep the reference as
// run_<op>_reference, put it in kReferenceKernels.
#pragma once

#include <cstdint>
#include <vector>

#include "exec/thread_pool.h"
#include "graph/graph.h"
#include "model/weights.h"

namespace xpusim::exec {

// Storage of one tensor during a step.
struct Buffer {
  const graph::Tensor* tensor = nullptr;
  float* f32 = nullptr;                       // activations and KV cache rows
  const int32_t* ids = nullptr;               // INPUT tensors
  const model::TensorView* weight = nullptr;  // WEIGHT tensors, as stored
  const float* weight_f32 = nullptr;          // 1-D weights decoded once (norm weights, biases); else null
};

struct KernelArgs {
  const graph::Op& op;
  std::vector<const Buffer*> in;
  Buffer& out;
  ThreadPool& pool;
};

using Kernel = void (*)(const KernelArgs& args);
Kernel kernel_for(graph::OpKind kind);            // what the executor runs (fast where one exists)
Kernel reference_kernel_for(graph::OpKind kind);  // the definition

// Shared helpers for kernels.
float dot_f32(const float* a, const float* b, int64_t n);
// Row `row` of a 2-D weight as fp32: a pointer into the weight for aligned F32 storage, else decoded into
// `scratch` (row_elements floats).
const float* weight_row(const model::TensorView& weight, int64_t row, float* scratch);
// y[n, out] = x[n, in] W^T (+ bias) for rows [row_begin, row_end) of W.
void linear_rows(const model::TensorView& weight, const float* bias, const float* x, int64_t n, float* y,
                 int64_t row_begin, int64_t row_end);
float gelu_tanh(float x);
float silu(float x);

void run_embed_rows(const KernelArgs& args);
void run_add(const KernelArgs& args);
void run_mul(const KernelArgs& args);
void run_scale(const KernelArgs& args);
void run_softcap(const KernelArgs& args);
void run_gelu_tanh(const KernelArgs& args);
void run_silu(const KernelArgs& args);
void run_layer_norm(const KernelArgs& args);
void run_rms_norm(const KernelArgs& args);
void run_linear(const KernelArgs& args);  // fast_linear.cpp
void run_linear_reference(const KernelArgs& args);
void run_rope(const KernelArgs& args);
void run_kv_store(const KernelArgs& args);
void run_attention(const KernelArgs& args);  // fast_attention.cpp
void run_attention_reference(const KernelArgs& args);
void run_slice_rows(const KernelArgs& args);
void run_reshape(const KernelArgs& args);
void run_moe(const KernelArgs& args);

}  // namespace xpusim::exec
