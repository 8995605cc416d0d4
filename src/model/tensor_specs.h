// tensor_specs: the exact list of canonical tensors (names.md / weights.h) and shapes that every checkpoint
// of a ModelConfig must provide. Loaders cross-check checkpoints against it, synthetic weights are made from
// it, and parameter counts are summed from it, so one table decides all three. Non-goals: dtypes (they stay
// as stored), optional extras (a tied model's duplicate lm_head is the loader's call). HOWTO add a family:
// add its per-layer tensors in tensor_specs.cpp (norms, attention, MLP or MoE parts).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace xpusim::model {

struct TensorSpec {
  std::string name;            // canonical name, e.g. "blk.3.attn_q.weight"
  std::vector<int64_t> shape;  // outermost first; a linear layer is [out, in]
  bool is_expert = false;      // per-expert MoE weight (only n_experts_used of each layer are active)

  int64_t elements() const;
};

// All tensors: token/position embeddings, blk.0 .. blk.L-1, output norm, output (when untied).
std::vector<TensorSpec> tensor_specs(const ModelConfig& config);
// The same, split so that callers can walk huge configs one layer at a time (every layer has the same
// shapes).
std::vector<TensorSpec> layer_tensor_specs(const ModelConfig& config, int64_t layer);
std::vector<TensorSpec> non_layer_tensor_specs(const ModelConfig& config);

}  // namespace xpusim::model
