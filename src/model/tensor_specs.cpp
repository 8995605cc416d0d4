#include "model/tensor_specs.h"

#include <fmt/format.h>

#include <algorithm>

namespace xpusim::model {

int64_t TensorSpec::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace {

class SpecList {
 public:
  void add(std::string name, std::vector<int64_t> shape, bool is_expert = false) {
    m_specs.push_back({std::move(name), std::move(shape), is_expert});
  }
  // A norm weight, plus its bias for LayerNorm models.
  void add_norm(const ModelConfig& config, const std::string& stem) {
    add(stem + ".weight", {config.hidden});
    if (config.norm == NormKind::LAYER_NORM) add(stem + ".bias", {config.hidden});
  }
  // A linear layer [out, in], plus its bias [out] when `bias`.
  void add_linear(const std::string& stem, int64_t out, int64_t in, bool bias) {
    add(stem + ".weight", {out, in});
    if (bias) add(stem + ".bias", {out});
  }
  std::vector<TensorSpec> take() { return std::move(m_specs); }

 private:
  std::vector<TensorSpec> m_specs;
};

void add_attention(SpecList& specs, const ModelConfig& config, const std::string& blk) {
  const int64_t q_width = config.n_heads * config.head_dim;
  const int64_t kv_width = config.n_kv_heads * config.head_dim;
  specs.add_linear(blk + "attn_q", q_width, config.hidden, config.attn_bias);
  specs.add_linear(blk + "attn_k", kv_width, config.hidden, config.attn_bias);
  specs.add_linear(blk + "attn_v", kv_width, config.hidden, config.attn_bias);
  specs.add_linear(blk + "attn_output", config.hidden, q_width, config.attn_bias);
  if (config.qk_norm) {
    specs.add(blk + "attn_q_norm.weight", {config.head_dim});
    specs.add(blk + "attn_k_norm.weight", {config.head_dim});
  }
}

void add_mlp(SpecList& specs, const ModelConfig& config, const std::string& blk) {
  if (config.is_moe()) {
    specs.add(blk + "ffn_gate_inp.weight", {config.n_experts, config.hidden});
    for (int64_t e = 0; e < config.n_experts; ++e) {
      const int64_t fe = config.expert_ffn_hidden;
      specs.add(fmt::format("{}ffn_gate_exps.{}.weight", blk, e), {fe, config.hidden}, true);
      specs.add(fmt::format("{}ffn_up_exps.{}.weight", blk, e), {fe, config.hidden}, true);
      specs.add(fmt::format("{}ffn_down_exps.{}.weight", blk, e), {config.hidden, fe}, true);
    }
    return;
  }
  if (config.gated_mlp) specs.add_linear(blk + "ffn_gate", config.ffn_hidden, config.hidden, config.mlp_bias);
  specs.add_linear(blk + "ffn_up", config.ffn_hidden, config.hidden, config.mlp_bias);
  specs.add_linear(blk + "ffn_down", config.hidden, config.ffn_hidden, config.mlp_bias);
}

}  // namespace

std::vector<TensorSpec> layer_tensor_specs(const ModelConfig& config, int64_t layer) {
  SpecList specs;
  const std::string blk = fmt::format("blk.{}.", layer);
  specs.add_norm(config, blk + "attn_norm");
  add_attention(specs, config, blk);
  if (config.family == Family::GEMMA3) specs.add_norm(config, blk + "post_attention_norm");
  specs.add_norm(config, blk + "ffn_norm");
  add_mlp(specs, config, blk);
  if (config.family == Family::GEMMA3) specs.add_norm(config, blk + "post_ffw_norm");
  return specs.take();
}

std::vector<TensorSpec> non_layer_tensor_specs(const ModelConfig& config) {
  SpecList specs;
  specs.add("token_embd.weight", {config.vocab_size, config.hidden});
  if (config.learned_positions) specs.add("position_embd.weight", {config.max_positions, config.hidden});
  specs.add_norm(config, "output_norm");
  if (!config.tied_embeddings) specs.add("output.weight", {config.vocab_size, config.hidden});
  return specs.take();
}

std::vector<TensorSpec> tensor_specs(const ModelConfig& config) {
  std::vector<TensorSpec> all = non_layer_tensor_specs(config);
  // Keep the file-like order: embeddings, layers, then the output norm / head.
  const auto first_output = std::find_if(
      all.begin(), all.end(), [](const TensorSpec& spec) { return spec.name.starts_with("output"); });
  std::vector<TensorSpec> tail(std::make_move_iterator(first_output), std::make_move_iterator(all.end()));
  all.erase(first_output, all.end());
  for (int64_t layer = 0; layer < config.n_layers; ++layer) {
    auto specs = layer_tensor_specs(config, layer);
    all.insert(all.end(), std::make_move_iterator(specs.begin()), std::make_move_iterator(specs.end()));
  }
  all.insert(all.end(), std::make_move_iterator(tail.begin()), std::make_move_iterator(tail.end()));
  return all;
}

}  // namespace xpusim::model
