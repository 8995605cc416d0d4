// Graph: the tensors and ops of one forward step of a model (prefill of n tokens or a decode step: the same
// builder with a different n). Tensors carry shape, dtype and role; ops reference tensors by index and run in
// list order (the builders emit a valid topological order; verify() checks it). Non-goals: executing
// (src/exec) and cost models (they read op_traits flops/bytes). HOWTO add a tensor role: add it to TensorRole
// and to role_name; verify() says which roles an op may write.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/dtype.h"
#include "graph/op.h"
#include "model/config.h"

namespace xpusim::model {
class Weights;
}

namespace xpusim::graph {

using TensorId = int32_t;

enum class TensorRole : uint8_t {
  INPUT,       // fed by the caller each step (token ids, positions)
  WEIGHT,      // bound by name to a model::Weights tensor
  ACTIVATION,  // produced by exactly one op, fp32
  KV_CACHE,    // persistent per-sequence state, fp32 rows [capacity, kv_heads * head_dim]
};

const char* role_name(TensorRole role);

struct Tensor {
  std::string name;  // weights: canonical checkpoint name; others: descriptive
  std::vector<int64_t> shape;
  DType dtype = DType::F32;  // weights: DType::COUNT until bind_weights() sets the stored type
  TensorRole role = TensorRole::ACTIVATION;
  size_t stored_bytes = 0;  // weights: bytes of the bound tensor (set by bind_weights())

  int64_t elements() const;
};

// Attributes of all ops in one flat struct; each op reads the fields its traits row documents.
struct OpAttrs {
  double eps = 0.0;        // norms
  bool plus_one = false;   // RMS_NORM: multiply by (1 + w)
  double scale = 1.0;      // SCALE; ATTENTION: multiplier on q.k
  double softcap = 0.0;    // SOFTCAP cap; ATTENTION logit cap (0 = off)
  int64_t n_heads = 0;     // ROPE (heads in x), ATTENTION
  int64_t n_kv_heads = 0;  // ATTENTION
  int64_t head_dim = 0;    // ROPE, ATTENTION
  int64_t start_pos = 0;   // KV_STORE, ATTENTION: position of the first token of this step
  int64_t window = 0;      // ATTENTION: a query at p sees keys p - window < k <= p (0 = all)
  int64_t begin = 0;       // SLICE_ROWS
  int64_t count = 0;       // SLICE_ROWS
  model::RopeConfig rope;  // ROPE (theta here is the base this layer uses)
  int64_t top_k = 0;       // MOE
  bool norm_topk = true;   // MOE: renormalise the top-k router weights to sum 1
  model::Activation activation = model::Activation::SILU;  // MOE expert activation
};

struct Op {
  OpKind kind = OpKind::ADD;
  std::vector<TensorId> inputs;
  TensorId output = -1;
  OpAttrs attrs;
  int32_t layer = -1;  // transformer block index, -1 outside blocks
};

struct Graph {
  model::ModelConfig config;
  int64_t n_tokens = 0;   // tokens in this step
  int64_t start_pos = 0;  // position of the first of them
  std::vector<Tensor> tensors;
  std::vector<Op> ops;
  TensorId tokens = -1;                             // INPUT [n] I32
  TensorId positions = -1;                          // INPUT [n] I32 (start_pos .. start_pos + n - 1)
  TensorId logits = -1;                             // ACTIVATION [rows, V]
  std::unordered_map<std::string, TensorId> names;  // tensor name -> id (names are unique)

  TensorId add_tensor(std::string name, std::vector<int64_t> shape, TensorRole role,
                      DType dtype = DType::F32);
  // Adds op `kind` with a new activation output of `shape`; returns the output.
  TensorId add_op(OpKind kind, std::vector<TensorId> inputs, std::vector<int64_t> shape, std::string name,
                  OpAttrs attrs = {}, int32_t layer = -1);
  // Adds an op that writes an existing (KV_CACHE) tensor.
  void add_state_op(OpKind kind, std::vector<TensorId> inputs, TensorId state, OpAttrs attrs, int32_t layer);
  // Weight tensor by canonical name; one tensor per name even when used twice (tied embeddings).
  TensorId weight(const std::string& name, std::vector<int64_t> shape);
  TensorId find(const std::string& name) const;  // -1 if absent
  void rename(TensorId id, std::string name);

  // Sets each weight tensor's dtype from `weights` and checks names and shapes (xpusim::Error on mismatch).
  void bind_weights(const model::Weights& weights);
  // Totals over all ops (op_traits formulas).
  double total_flops() const;
  double total_bytes() const;
};

// Checks every op's arity, input/output shapes and roles, and that every input is produced before it is read.
// Throws xpusim::Error naming the op, its index and the offending tensor. Builders call it after building.
void verify(const Graph& graph);

}  // namespace xpusim::graph
