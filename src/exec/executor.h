// Executor: runs a model on the host from its graph. Each forward() builds the step graph (graph/builder.h)
// for the tokens given at the current position, binds the weights, runs the reference kernel of every op in
// order (fast SIMD kernels where they exist: kernels.h) and advances the KV cache. fp32 compute; weights are
// read as stored (bf16, f16, quantized blocks). Activation buffers are recycled across ops and steps.
// Non-goals: sampling and the generation loop (runtime/), other numerics policies (later issues).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "exec/kv_cache.h"
#include "exec/op_profile.h"
#include "exec/thread_pool.h"
#include "graph/graph.h"
#include "model/config.h"
#include "model/weights.h"

namespace xpusim::exec {

struct ExecOptions {
  int threads = 0;              // 0: one per hardware thread
  int64_t initial_context = 0;  // KV rows to allocate up front (grows on demand anyway)
};

struct StepStats {
  double flops = 0;  // op_traits formulas summed over the step's graph
  double bytes = 0;
  size_t ops = 0;
};

class Executor {
 public:
  // Checks that `weights` has every tensor the config's graph needs, with the right shapes (xpusim::Error if
  // not). `weights` must outlive the executor.
  Executor(const model::ModelConfig& config, const model::Weights& weights, ExecOptions options = {});

  // Runs `tokens` at positions position() .. position() + n - 1 and advances position(). Returns fp32 logits:
  // [n, vocab] row-major when all_logits, else the last token's [vocab].
  std::vector<float> forward(std::span<const int32_t> tokens, bool all_logits = false);

  int64_t position() const { return m_position; }
  // Forgets the sequence (the next forward starts at position 0).
  void reset() { m_position = 0; }
  // Forgets the positions from `position` on (speculative decoding drops rejected draft tokens): the KV rows
  // there are overwritten by the next forward. The KV cache is the executor's only per-sequence state.
  void rewind(int64_t position);
  const model::ModelConfig& config() const { return m_config; }
  const StepStats& last_step() const { return m_last_step; }
  const KvCache& kv_cache() const { return m_kv; }
  int threads() const { return m_pool.size(); }
  const ThreadPool& pool() const { return m_pool; }
  // Times every kernel call into `profile` from the next forward on (nullptr: stop); it must outlive them.
  void set_profile(OpProfile* profile) { m_profile = profile; }

 private:
  const float* small_weight(const graph::Tensor& tensor);
  std::vector<float> take_spare(size_t count);  // a recycled activation buffer of `count` zeros
  void give_back(std::shared_ptr<std::vector<float>>& storage);

  model::ModelConfig m_config;
  const model::Weights& m_weights;
  ThreadPool m_pool;
  KvCache m_kv;
  int64_t m_position = 0;
  std::map<std::string, std::vector<float>, std::less<>> m_small_weights;  // 1-D weights decoded to fp32
  StepStats m_last_step;
  OpProfile* m_profile = nullptr;
  std::vector<std::vector<float>> m_spare;  // recycled activation buffers (take_spare / give_back)
};

}  // namespace xpusim::exec
