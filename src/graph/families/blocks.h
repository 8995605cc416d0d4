// The building blocks every family builder composes: embeddings, norms, the attention sub-block (q/k/v
// projections, optional qk-norm, RoPE, KV store, attention, output projection), dense and MoE MLPs and the LM
// head. Which variant a block emits follows the ModelConfig flags (norm kind, biases, gating, activation,
// rope, window). Non-goals: the order of blocks inside a layer, which is each family's file.
#pragma once

#include <string>

#include "graph/builder.h"

namespace xpusim::graph {

class BlockBuilder {
 public:
  BlockBuilder(const model::ModelConfig& config, const StepShape& step);

  const model::ModelConfig& config() const { return m_graph.config; }
  Graph& graph() { return m_graph; }

  TensorId embed();  // token (+ position) embedding, * embed_scale
  TensorId norm(TensorId x, const std::string& weight_prefix,
                int layer);                   // "blk.3.attn_norm" -> its weight/bias
  TensorId attention(TensorId h, int layer);  // returns the attention output projection
  TensorId mlp(TensorId h, int layer);        // dense MLP or MoE, by config
  TensorId add(TensorId a, TensorId b, const std::string& name, int layer);
  void finish(TensorId x);  // last-row slice, output norm, LM head, softcap

 private:
  TensorId linear(TensorId x, const std::string& weight, int64_t out, int64_t in, bool bias, int layer);
  TensorId activation(TensorId x, model::Activation kind, const std::string& name, int layer);
  TensorId head_norm(TensorId x, int64_t heads, const std::string& weight, int layer);
  TensorId dense_mlp(TensorId h, int layer);
  TensorId moe_mlp(TensorId h, int layer);
  std::string blk(int layer, const char* suffix) const;

  Graph m_graph;
  int64_t m_n;
  bool m_all_logits;
};

void build_pre_norm_decoder(BlockBuilder& builder);  // GPT-2, Llama 3.x, SmolLM2, Mixtral, Qwen3, Qwen3-MoE
void build_gemma3(BlockBuilder& builder);

}  // namespace xpusim::graph
