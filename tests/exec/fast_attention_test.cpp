// The fast ATTENTION kernel (flash-style online softmax, key ranges split across threads when there are few
// (token, head) pairs) against run_attention_reference: prefill and decode shapes, GQA, sliding window,
// soft-cap, head_dim 64 / 128 (register kernels at AVX-512) and 40 (generic path). Tolerance: |fast - ref| <=
// 1e-5 * max |v| (fp32 online softmax vs the reference's double sums).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "exec/kernels.h"

namespace xpusim::exec {
namespace {

struct Case {
  int64_t n, start_pos, heads, kv_heads, window;
  double softcap;
  int64_t d = 64;
};

void check(const Case& c, int threads) {
  const int64_t d = c.d;
  const int64_t context = c.start_pos + c.n;
  graph::Graph g;
  const graph::TensorId q = g.add_tensor("q", {c.n, c.heads * d}, graph::TensorRole::ACTIVATION);
  const graph::TensorId k = g.add_tensor("k", {context, c.kv_heads * d}, graph::TensorRole::KV_CACHE);
  const graph::TensorId v = g.add_tensor("v", {context, c.kv_heads * d}, graph::TensorRole::KV_CACHE);
  graph::OpAttrs attrs;
  attrs.n_heads = c.heads;
  attrs.n_kv_heads = c.kv_heads;
  attrs.head_dim = d;
  attrs.start_pos = c.start_pos;
  attrs.window = c.window;
  attrs.softcap = c.softcap;
  attrs.scale = 1.0 / std::sqrt(static_cast<double>(d));
  const graph::TensorId out = g.add_op(graph::OpKind::ATTENTION, {q, k, v}, {c.n, c.heads * d}, "out", attrs);

  std::mt19937_64 rng(static_cast<uint64_t>(c.n * 131 + c.start_pos));
  std::normal_distribution<float> dist(0.0f, 2.0f);
  auto fill = [&](size_t size) {
    std::vector<float> values(size);
    for (float& x : values) x = dist(rng);
    return values;
  };
  std::vector<float> q_data = fill(static_cast<size_t>(c.n * c.heads * d));
  std::vector<float> k_data = fill(static_cast<size_t>(context * c.kv_heads * d));
  std::vector<float> v_data = fill(k_data.size());
  float v_max = 0;
  for (float x : v_data) v_max = std::max(v_max, std::fabs(x));

  std::vector<Buffer> buffers(g.tensors.size());
  for (size_t i = 0; i < buffers.size(); ++i) buffers[i].tensor = &g.tensors[i];
  buffers[static_cast<size_t>(q)].f32 = q_data.data();
  buffers[static_cast<size_t>(k)].f32 = k_data.data();
  buffers[static_cast<size_t>(v)].f32 = v_data.data();
  std::vector<float> fast(static_cast<size_t>(c.n * c.heads * d)), ref(fast.size());
  ThreadPool pool(threads);
  const graph::Op& op = g.ops.back();
  Buffer& out_buffer = buffers[static_cast<size_t>(out)];
  out_buffer.f32 = fast.data();
  kernel_for(graph::OpKind::ATTENTION)(
      KernelArgs{op, {&buffers[0], &buffers[1], &buffers[2]}, out_buffer, pool});
  out_buffer.f32 = ref.data();
  reference_kernel_for(graph::OpKind::ATTENTION)(
      KernelArgs{op, {&buffers[0], &buffers[1], &buffers[2]}, out_buffer, pool});
  for (size_t i = 0; i < fast.size(); ++i) {
    ASSERT_NEAR(fast[i], ref[i], 1e-5 * v_max) << "n=" << c.n << " start=" << c.start_pos << " i=" << i;
  }
}

TEST(FastAttention, AgreesWithReference) {
  const Case cases[] = {
      {17, 0, 4, 2, 0, 0.0},       // prefill, GQA
      {1, 300, 2, 1, 0, 0.0},      // decode, few heads: keys split across threads
      {1, 700, 1, 1, 0, 50.0},     // decode, one head, soft-cap, several splits
      {5, 200, 4, 4, 64, 0.0},     // sliding window
      {3, 1000, 2, 2, 300, 0.0},   // window with a split decode
      {9, 40, 4, 2, 0, 0.0, 128},  // head_dim 128 (register kernel)
      {6, 20, 2, 1, 0, 0.0, 40},   // head_dim 40 (generic path)
  };
  for (const Case& c : cases) {
    check(c, 1);
    check(c, 2);
  }
}

}  // namespace
}  // namespace xpusim::exec
