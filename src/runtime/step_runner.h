// StepRunner: what the one generation loop (runtime/generate.h) needs from a target. A target runs tokens
// through the model at its current position and hands back the last token's logits — or, when the caller
// only needs the greedy choice and the target can pick it where the logits live (a GPU, the simulated
// engine), just that id. Host, CUDA and the unified engine each adapt their executor to it; the sampling,
// stop ids, stop strings, streaming and token accounting live once, in the loop.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "exec/executor.h"
#include "exec/fast_linear.h"
#include "model/config.h"

namespace xpusim::runtime {

struct StepOutput {
  std::vector<float> logits;  // the last token's [vocab]; may be empty when `greedy_id` is set
  int32_t greedy_id = -1;     // argmax of the logits, when the target computed it (-1: not computed)
};

class StepRunner {
 public:
  virtual ~StepRunner() = default;
  virtual const model::ModelConfig& config() const = 0;
  virtual int64_t position() const = 0;
  // Runs `tokens` at position() .. position() + n - 1 and advances position(). With `greedy_only` the
  // target may return only greedy_id.
  virtual StepOutput forward(std::span<const int32_t> tokens, bool greedy_only) = 0;
  // False for a timing-only target (no weights, no values): the loop then feeds token 0 and emits no text.
  virtual bool produces_values() const { return true; }

  // Speculative decoding (runtime/speculative.h) needs two more things of a target: the logits of every
  // token of a step, and dropping the positions of rejected draft tokens. Targets that cannot say so.
  virtual bool supports_speculation() const { return false; }
  // Like forward, but returns [n, vocab] row-major logits, one row per token.
  virtual std::vector<float> forward_all(std::span<const int32_t> tokens);
  // Moves position() back to `position` (<= position()); later tokens are forgotten.
  virtual void rewind(int64_t position);
};

// The host executor as a StepRunner (the logits are on the host already: greedy_id is never set).
class HostStepRunner final : public StepRunner {
 public:
  explicit HostStepRunner(exec::Executor& executor) : m_executor(executor) {}
  const model::ModelConfig& config() const override { return m_executor.config(); }
  int64_t position() const override { return m_executor.position(); }
  StepOutput forward(std::span<const int32_t> tokens, bool /*greedy_only*/) override {
    return {m_executor.forward(tokens), -1};
  }
  bool supports_speculation() const override { return true; }
  // The verify step runs with decode numerics, so every row equals a one-token step bit for bit.
  std::vector<float> forward_all(std::span<const int32_t> tokens) override {
    exec::DecodeNumericsScope decode_numerics;
    return m_executor.forward(tokens, true);
  }
  void rewind(int64_t position) override { m_executor.rewind(position); }

 private:
  exec::Executor& m_executor;
};

}  // namespace xpusim::runtime
