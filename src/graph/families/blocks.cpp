#include "graph/families/blocks.h"

#include <fmt/format.h>

namespace xpusim::graph {

using model::NormKind;

BlockBuilder::BlockBuilder(const model::ModelConfig& config, const StepShape& step)
    : m_n(step.n_tokens), m_all_logits(step.all_logits) {
  m_graph.config = config;
  m_graph.n_tokens = step.n_tokens;
  m_graph.start_pos = step.start_pos;
  m_graph.tokens = m_graph.add_tensor("tokens", {m_n}, TensorRole::INPUT, DType::I32);
  m_graph.positions = m_graph.add_tensor("positions", {m_n}, TensorRole::INPUT, DType::I32);
  int64_t capacity = step.kv_capacity > 0 ? step.kv_capacity : step.start_pos + step.n_tokens;
  int64_t kv_width = config.n_kv_heads * config.head_dim;
  for (int layer = 0; layer < config.n_layers; ++layer) {
    m_graph.add_tensor(blk(layer, "k_cache"), {capacity, kv_width}, TensorRole::KV_CACHE);
    m_graph.add_tensor(blk(layer, "v_cache"), {capacity, kv_width}, TensorRole::KV_CACHE);
  }
}

std::string BlockBuilder::blk(int layer, const char* suffix) const {
  return fmt::format("blk.{}.{}", layer, suffix);
}

TensorId BlockBuilder::embed() {
  const auto& c = config();
  TensorId table = m_graph.weight("token_embd.weight", {c.vocab_size, c.hidden});
  TensorId x = m_graph.add_op(OpKind::EMBED_ROWS, {table, m_graph.tokens}, {m_n, c.hidden}, "embed");
  if (c.learned_positions) {
    TensorId pos_table = m_graph.weight("position_embd.weight", {c.max_positions, c.hidden});
    TensorId pos =
        m_graph.add_op(OpKind::EMBED_ROWS, {pos_table, m_graph.positions}, {m_n, c.hidden}, "embed_pos");
    x = add(x, pos, "embed_sum", -1);
  }
  if (c.embed_scale != 1.0) {
    OpAttrs attrs;
    attrs.scale = c.embed_scale;
    x = m_graph.add_op(OpKind::SCALE, {x}, {m_n, c.hidden}, "embed_scaled", attrs);
  }
  return x;
}

TensorId BlockBuilder::norm(TensorId x, const std::string& weight_prefix, int layer) {
  const auto& c = config();
  std::vector<int64_t> shape = m_graph.tensors[x].shape;
  int64_t width = shape.back();
  OpAttrs attrs;
  attrs.eps = c.norm_eps;
  TensorId w = m_graph.weight(weight_prefix + ".weight", {width});
  if (c.norm == NormKind::LAYER_NORM) {
    TensorId b = m_graph.weight(weight_prefix + ".bias", {width});
    return m_graph.add_op(OpKind::LAYER_NORM, {x, w, b}, shape, weight_prefix, attrs, layer);
  }
  attrs.plus_one = c.norm == NormKind::RMS_NORM_PLUS_ONE;
  return m_graph.add_op(OpKind::RMS_NORM, {x, w}, shape, weight_prefix, attrs, layer);
}

TensorId BlockBuilder::add(TensorId a, TensorId b, const std::string& name, int layer) {
  return m_graph.add_op(OpKind::ADD, {a, b}, m_graph.tensors[a].shape, name, {}, layer);
}

TensorId BlockBuilder::linear(TensorId x, const std::string& weight, int64_t out, int64_t in, bool bias,
                              int layer) {
  std::vector<TensorId> inputs = {x, m_graph.weight(weight + ".weight", {out, in})};
  if (bias) inputs.push_back(m_graph.weight(weight + ".bias", {out}));
  return m_graph.add_op(OpKind::LINEAR, std::move(inputs), {m_graph.tensors[x].shape[0], out}, weight, {},
                        layer);
}

TensorId BlockBuilder::activation(TensorId x, model::Activation kind, const std::string& name, int layer) {
  OpKind op = kind == model::Activation::SILU ? OpKind::SILU : OpKind::GELU_TANH;
  return m_graph.add_op(op, {x}, m_graph.tensors[x].shape, name, {}, layer);
}

// Per-head norm (Qwen3 / Gemma 3 q_norm, k_norm): view [n, heads * d] as [n * heads, d], normalise, view
// back.
TensorId BlockBuilder::head_norm(TensorId x, int64_t heads, const std::string& weight, int layer) {
  int64_t d = config().head_dim;
  TensorId rows = m_graph.add_op(OpKind::RESHAPE, {x}, {m_n * heads, d}, weight + ".rows", {}, layer);
  TensorId normed = norm(rows, weight, layer);
  return m_graph.add_op(OpKind::RESHAPE, {normed}, {m_n, heads * d}, weight + ".out", {}, layer);
}

TensorId BlockBuilder::attention(TensorId h, int layer) {
  const auto& c = config();
  const int64_t q_width = c.n_heads * c.head_dim, kv_width = c.n_kv_heads * c.head_dim;
  TensorId q = linear(h, blk(layer, "attn_q"), q_width, c.hidden, c.attn_bias, layer);
  TensorId k = linear(h, blk(layer, "attn_k"), kv_width, c.hidden, c.attn_bias, layer);
  TensorId v = linear(h, blk(layer, "attn_v"), kv_width, c.hidden, c.attn_bias, layer);
  if (c.qk_norm) {
    q = head_norm(q, c.n_heads, blk(layer, "attn_q_norm"), layer);
    k = head_norm(k, c.n_kv_heads, blk(layer, "attn_k_norm"), layer);
  }
  bool local = !c.layer_is_local.empty() && c.layer_is_local[static_cast<size_t>(layer)];
  if (c.rope.enabled) {
    OpAttrs rope;
    rope.head_dim = c.head_dim;
    rope.rope = c.rope;
    if (local && c.rope.theta_local > 0) {
      // Gemma 3: local layers use their own base and no scaling (scaling applies to global layers only).
      rope.rope.theta = c.rope.theta_local;
      rope.rope.scaling = model::RopeScaling::NONE;
    }
    rope.n_heads = c.n_heads;
    q = m_graph.add_op(OpKind::ROPE, {q, m_graph.positions}, {m_n, q_width}, blk(layer, "q_rope"), rope,
                       layer);
    rope.n_heads = c.n_kv_heads;
    k = m_graph.add_op(OpKind::ROPE, {k, m_graph.positions}, {m_n, kv_width}, blk(layer, "k_rope"), rope,
                       layer);
  }
  TensorId k_cache = m_graph.find(blk(layer, "k_cache"));
  TensorId v_cache = m_graph.find(blk(layer, "v_cache"));
  OpAttrs store;
  store.start_pos = m_graph.start_pos;
  m_graph.add_state_op(OpKind::KV_STORE, {k}, k_cache, store, layer);
  m_graph.add_state_op(OpKind::KV_STORE, {v}, v_cache, store, layer);

  OpAttrs attn;
  attn.n_heads = c.n_heads;
  attn.n_kv_heads = c.n_kv_heads;
  attn.head_dim = c.head_dim;
  attn.scale = c.effective_attn_scale();
  attn.softcap = c.attn_softcap;
  attn.start_pos = m_graph.start_pos;
  attn.window = (c.layer_is_local.empty() || local) ? c.sliding_window : 0;
  TensorId out = m_graph.add_op(OpKind::ATTENTION, {q, k_cache, v_cache}, {m_n, q_width}, blk(layer, "attn"),
                                attn, layer);
  return linear(out, blk(layer, "attn_output"), c.hidden, q_width, c.attn_bias, layer);
}

TensorId BlockBuilder::mlp(TensorId h, int layer) {
  return config().is_moe() ? moe_mlp(h, layer) : dense_mlp(h, layer);
}

TensorId BlockBuilder::dense_mlp(TensorId h, int layer) {
  const auto& c = config();
  TensorId up = linear(h, blk(layer, "ffn_up"), c.ffn_hidden, c.hidden, c.mlp_bias, layer);
  TensorId hidden;
  if (c.gated_mlp) {
    TensorId gate = linear(h, blk(layer, "ffn_gate"), c.ffn_hidden, c.hidden, c.mlp_bias, layer);
    TensorId act = activation(gate, c.activation, blk(layer, "ffn_act"), layer);
    hidden = m_graph.add_op(OpKind::MUL, {act, up}, {m_n, c.ffn_hidden}, blk(layer, "ffn_gated"), {}, layer);
  } else {
    hidden = activation(up, c.activation, blk(layer, "ffn_act"), layer);
  }
  return linear(hidden, blk(layer, "ffn_down"), c.hidden, c.ffn_hidden, c.mlp_bias, layer);
}

TensorId BlockBuilder::moe_mlp(TensorId h, int layer) {
  const auto& c = config();
  TensorId router = linear(h, blk(layer, "ffn_gate_inp"), c.n_experts, c.hidden, false, layer);
  std::vector<TensorId> inputs = {h, router};
  for (int64_t e = 0; e < c.n_experts; ++e) {
    std::string prefix = fmt::format("blk.{}.", layer);
    inputs.push_back(
        m_graph.weight(fmt::format("{}ffn_gate_exps.{}.weight", prefix, e), {c.expert_ffn_hidden, c.hidden}));
    inputs.push_back(
        m_graph.weight(fmt::format("{}ffn_up_exps.{}.weight", prefix, e), {c.expert_ffn_hidden, c.hidden}));
    inputs.push_back(
        m_graph.weight(fmt::format("{}ffn_down_exps.{}.weight", prefix, e), {c.hidden, c.expert_ffn_hidden}));
  }
  OpAttrs attrs;
  attrs.top_k = c.n_experts_used;
  attrs.norm_topk = c.norm_topk_prob;
  attrs.activation = c.activation;
  return m_graph.add_op(OpKind::MOE, std::move(inputs), {m_n, c.hidden}, blk(layer, "moe"), attrs, layer);
}

void BlockBuilder::finish(TensorId x) {
  const auto& c = config();
  if (!m_all_logits && m_n > 1) {
    OpAttrs slice;
    slice.begin = m_n - 1;
    slice.count = 1;
    x = m_graph.add_op(OpKind::SLICE_ROWS, {x}, {1, c.hidden}, "last_row", slice);
  }
  int64_t rows = m_graph.tensors[x].shape[0];
  x = norm(x, "output_norm", -1);
  const char* head = c.tied_embeddings ? "token_embd" : "output";
  TensorId logits = linear(x, head, c.vocab_size, c.hidden, false, -1);
  if (c.final_softcap > 0) {
    OpAttrs cap;
    cap.softcap = c.final_softcap;
    logits = m_graph.add_op(OpKind::SOFTCAP, {logits}, {rows, c.vocab_size}, "logits_capped", cap);
  }
  m_graph.rename(logits, "logits");
  m_graph.logits = logits;
}

}  // namespace xpusim::graph
