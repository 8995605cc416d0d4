#include "model/checkpoint.h"

#include <fmt/ranges.h>

#include <charconv>
#include <cstring>
#include <optional>
#include <set>

#include "core/error.h"
#include "model/hf_config.h"
#include "model/tensor_specs.h"

namespace xpusim::model {
namespace {

bool consume_prefix(std::string_view& text, std::string_view prefix) {
  if (!text.starts_with(prefix)) return false;
  text.remove_prefix(prefix.size());
  return true;
}

// "12.rest" -> 12, text = "rest".
std::optional<int64_t> consume_index(std::string_view& text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data() || end == text.data() + text.size() || *end != '.') {
    return std::nullopt;
  }
  text.remove_prefix(static_cast<size_t>(end - text.data()) + 1);
  return value;
}

// Buffers and cached state that transformers keeps in some checkpoints but that are not weights.
bool is_ignored_hf_tensor(std::string_view name) {
  return name.ends_with("rotary_emb.inv_freq") || name.ends_with(".attn.bias") ||
         name.ends_with(".attn.masked_bias") || name.starts_with("vision_tower.") ||
         name.starts_with("multi_modal_projector.") || name.starts_with("model.vision_tower.") ||
         name.starts_with("model.multi_modal_projector.");
}

// Llama-style decoders (llama, qwen3, gemma3, qwen3_moe, mixtral). Returns nullopt for unknown names.
std::optional<std::string> decoder_name(Family family, std::string_view name) {
  if (name == "lm_head.weight" || name == "language_model.lm_head.weight") return "output.weight";
  if (!consume_prefix(name, "model.language_model.") && !consume_prefix(name, "language_model.model.")) {
    consume_prefix(name, "model.");
  }
  if (name == "embed_tokens.weight") return "token_embd.weight";
  if (name == "norm.weight") return "output_norm.weight";
  if (!consume_prefix(name, "layers.")) return std::nullopt;
  const auto layer = consume_index(name);
  if (!layer) return std::nullopt;
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string_view module = name.substr(0, dot);
  const std::string_view kind = name.substr(dot + 1);  // weight / bias
  const std::string blk = fmt::format("blk.{}.", *layer);

  // Experts: mlp.experts.E.{gate,up,down}_proj (Qwen3-MoE), block_sparse_moe.experts.E.w{1,3,2} (Mixtral).
  if (consume_prefix(module, "mlp.experts.") || consume_prefix(module, "block_sparse_moe.experts.")) {
    const auto expert = consume_index(module);
    if (!expert) return std::nullopt;
    const char* stem = nullptr;
    if (module == "gate_proj" || module == "w1") stem = "ffn_gate_exps";
    if (module == "up_proj" || module == "w3") stem = "ffn_up_exps";
    if (module == "down_proj" || module == "w2") stem = "ffn_down_exps";
    if (!stem) return std::nullopt;
    return fmt::format("{}{}.{}.{}", blk, stem, *expert, kind);
  }
  struct Row {
    std::string_view hf;
    std::string_view canonical;
  };
  static constexpr Row kRows[] = {
      {"self_attn.q_proj", "attn_q"},
      {"self_attn.k_proj", "attn_k"},
      {"self_attn.v_proj", "attn_v"},
      {"self_attn.o_proj", "attn_output"},
      {"self_attn.q_norm", "attn_q_norm"},
      {"self_attn.k_norm", "attn_k_norm"},
      {"input_layernorm", "attn_norm"},
      {"pre_feedforward_layernorm", "ffn_norm"},
      {"post_feedforward_layernorm", "post_ffw_norm"},
      {"mlp.gate_proj", "ffn_gate"},
      {"mlp.up_proj", "ffn_up"},
      {"mlp.down_proj", "ffn_down"},
      {"mlp.gate", "ffn_gate_inp"},
      {"block_sparse_moe.gate", "ffn_gate_inp"},
  };
  if (module == "post_attention_layernorm") {
    // Llama/Qwen: the norm before the MLP; Gemma 3: the norm after attention (before the residual add).
    return fmt::format("{}{}.{}", blk, family == Family::GEMMA3 ? "post_attention_norm" : "ffn_norm", kind);
  }
  for (const Row& row : kRows) {
    if (module == row.hf) return fmt::format("{}{}.{}", blk, row.canonical, kind);
  }
  return std::nullopt;
}

// [in, out] (Conv1D) -> [out, in] into `dst`, any scalar dtype.
void transpose_rows(const TensorView& view, std::byte* dst) {
  const size_t element = dtype_info(view.dtype).block_bytes;
  const auto in = static_cast<size_t>(view.shape[0]);
  const auto out = static_cast<size_t>(view.shape[1]);
  for (size_t i = 0; i < in; ++i) {
    for (size_t o = 0; o < out; ++o)
      std::memcpy(dst + (o * in + i) * element, view.data + (i * out + o) * element, element);
  }
}

class Gpt2Mapper {
 public:
  Gpt2Mapper(const ModelConfig& config, Weights& weights, std::map<std::string, std::string>& origin)
      : m_config(config), m_weights(weights), m_origin(origin) {}

  // Returns false for names that are not GPT-2 tensors.
  bool add(std::string_view hf_name, const TensorView& view) {
    std::string_view name = hf_name;
    consume_prefix(name, "transformer.");
    if (name == "wte.weight") return plain(hf_name, view, "token_embd.weight");
    if (name == "wpe.weight") return plain(hf_name, view, "position_embd.weight");
    if (name == "ln_f.weight") return plain(hf_name, view, "output_norm.weight");
    if (name == "ln_f.bias") return plain(hf_name, view, "output_norm.bias");
    if (hf_name == "lm_head.weight") return plain(hf_name, view, "output.weight");
    if (!consume_prefix(name, "h.")) return false;
    const auto layer = consume_index(name);
    if (!layer) return false;
    const std::string blk = fmt::format("blk.{}.", *layer);
    if (name == "ln_1.weight") return plain(hf_name, view, blk + "attn_norm.weight");
    if (name == "ln_1.bias") return plain(hf_name, view, blk + "attn_norm.bias");
    if (name == "ln_2.weight") return plain(hf_name, view, blk + "ffn_norm.weight");
    if (name == "ln_2.bias") return plain(hf_name, view, blk + "ffn_norm.bias");
    if (name == "attn.c_proj.weight") return transposed(hf_name, view, {blk + "attn_output.weight"});
    if (name == "attn.c_proj.bias") return plain(hf_name, view, blk + "attn_output.bias");
    if (name == "mlp.c_fc.weight") return transposed(hf_name, view, {blk + "ffn_up.weight"});
    if (name == "mlp.c_fc.bias") return plain(hf_name, view, blk + "ffn_up.bias");
    if (name == "mlp.c_proj.weight") return transposed(hf_name, view, {blk + "ffn_down.weight"});
    if (name == "mlp.c_proj.bias") return plain(hf_name, view, blk + "ffn_down.bias");
    if (name == "attn.c_attn.weight") {
      return transposed(hf_name, view, {blk + "attn_q.weight", blk + "attn_k.weight", blk + "attn_v.weight"});
    }
    if (name == "attn.c_attn.bias") return split_bias(hf_name, view, blk);
    return false;
  }

 private:
  bool plain(std::string_view hf_name, TensorView view, std::string canonical) {
    m_origin[canonical] = std::string(hf_name);
    view.name = std::move(canonical);
    m_weights.add(std::move(view));
    return true;
  }

  // Conv1D [in, out] -> [out, in]; with several names the rows are split evenly among them (c_attn -> q, k,
  // v).
  bool transposed(std::string_view hf_name, const TensorView& view, const std::vector<std::string>& names) {
    const auto parts = static_cast<int64_t>(names.size());
    if (view.shape.size() != 2 || view.shape[1] % parts != 0 || dtype_info(view.dtype).block_elements != 1) {
      fail("{}: tensor '{}' has shape [{}] and dtype {}, expected a 2-D Conv1D weight [in, {} x out]",
           m_weights.source, hf_name, fmt::join(view.shape, ", "), dtype_name(view.dtype), parts);
    }
    auto buffer = std::make_shared<std::vector<std::byte>>(view.bytes);
    transpose_rows(view, buffer->data());
    m_weights.keep_alive(buffer);
    const int64_t rows = view.shape[1] / parts;
    const size_t part_bytes = view.bytes / static_cast<size_t>(parts);
    for (int64_t p = 0; p < parts; ++p) {
      TensorView part{names[static_cast<size_t>(p)],
                      view.dtype,
                      {rows, view.shape[0]},
                      buffer->data() + static_cast<size_t>(p) * part_bytes,
                      part_bytes};
      m_origin[part.name] = std::string(hf_name);
      m_weights.add(std::move(part));
    }
    return true;
  }

  bool split_bias(std::string_view hf_name, const TensorView& view, const std::string& blk) {
    if (view.shape.size() != 1 || view.shape[0] != 3 * m_config.hidden ||
        dtype_info(view.dtype).block_elements != 1) {
      fail("{}: tensor '{}' has shape [{}], config says [{}]", m_weights.source, hf_name,
           fmt::join(view.shape, ", "), 3 * m_config.hidden);
    }
    const size_t part_bytes = view.bytes / 3;
    const char* names[] = {"attn_q.bias", "attn_k.bias", "attn_v.bias"};
    for (size_t p = 0; p < 3; ++p) {
      plain(hf_name, TensorView{"", view.dtype, {m_config.hidden}, view.data + p * part_bytes, part_bytes},
            blk + names[p]);
    }
    return true;
  }

  const ModelConfig& m_config;
  Weights& m_weights;
  std::map<std::string, std::string>& m_origin;
};

bool same_tensor(const TensorView& a, const TensorView& b) {
  return a.dtype == b.dtype && a.shape == b.shape && a.bytes == b.bytes &&
         (a.data == b.data || a.bytes == 0 || std::memcmp(a.data, b.data, a.bytes) == 0);
}

}  // namespace

Weights weights_from_hf(const ModelConfig& config, const SafetensorsCheckpoint& checkpoint) {
  Weights weights;
  weights.source = checkpoint.source;
  for (const auto& owner : checkpoint.owners) weights.keep_alive(owner);
  std::map<std::string, std::string> origin;
  Gpt2Mapper gpt2(config, weights, origin);
  std::optional<TensorView> lm_head;
  for (const auto& [hf_name, view] : checkpoint.tensors) {
    if (is_ignored_hf_tensor(hf_name)) continue;
    if (config.family == Family::GPT2) {
      if (!gpt2.add(hf_name, view))
        fail("{}: tensor '{}' is not part of a gpt2 model", checkpoint.source, hf_name);
      continue;
    }
    auto canonical = decoder_name(config.family, hf_name);
    if (!canonical) {
      fail("{}: tensor '{}' is not part of a {} model", checkpoint.source, hf_name,
           family_name(config.family));
    }
    TensorView renamed = view;
    renamed.name = *canonical;
    origin[*canonical] = hf_name;
    weights.add(std::move(renamed));
  }
  // A tied model may still store lm_head; accept it only when it really is the embedding.
  if (config.tied_embeddings) {
    if (const TensorView* output = weights.find("output.weight")) {
      const TensorView* embedding = weights.find("token_embd.weight");
      if (!embedding || !same_tensor(*output, *embedding)) {
        fail(
            "{}: tensor '{}' differs from the token embedding, but the config ties them "
            "(tie_word_embeddings)",
            checkpoint.source, origin["output.weight"]);
      }
      Weights without;
      without.source = weights.source;
      for (const auto& owner : checkpoint.owners) without.keep_alive(owner);
      for (const auto& [name, tensor] : weights.all()) {
        if (name != "output.weight") without.add(tensor);
      }
      weights = std::move(without);
    }
  }
  check_weights_against_config(config, weights, origin);
  return weights;
}

void check_weights_against_config(const ModelConfig& config, const Weights& weights,
                                  const std::map<std::string, std::string>& origin_names) {
  auto described = [&](const std::string& name) {
    auto it = origin_names.find(name);
    return it == origin_names.end() || it->second == name ? fmt::format("'{}'", name)
                                                          : fmt::format("'{}' ({})", it->second, name);
  };
  auto check = [&](const TensorSpec& spec) {
    const TensorView* view = weights.find(spec.name);
    if (!view) fail("{}: missing tensor '{}' that the config needs", weights.source, spec.name);
    if (view->shape != spec.shape) {
      fail("{}: tensor {} has shape [{}], config says [{}]", weights.source, described(spec.name),
           fmt::join(view->shape, ", "), fmt::join(spec.shape, ", "));
    }
    if (!dtype_info(view->dtype).is_float) {
      fail("{}: tensor {} has dtype {}, expected a floating-point type", weights.source, described(spec.name),
           dtype_name(view->dtype));
    }
  };
  // Layer by layer, so a hostile config (thousands of layers x experts) fails at its first missing tensor
  // instead of materialising millions of specs.
  size_t expected = 0;
  for (const TensorSpec& spec : non_layer_tensor_specs(config)) {
    check(spec);
    ++expected;
  }
  for (int64_t layer = 0; layer < config.n_layers; ++layer) {
    for (const TensorSpec& spec : layer_tensor_specs(config, layer)) {
      check(spec);
      ++expected;
    }
  }
  if (weights.all().size() == expected) return;
  std::set<std::string, std::less<>> names;
  for (const TensorSpec& spec : tensor_specs(config)) names.insert(spec.name);
  for (const auto& [name, view] : weights.all()) {
    if (!names.contains(name)) {
      fail("{}: tensor {} is not part of a {} model with this config", weights.source, described(name),
           family_name(config.family));
    }
  }
}

HfCheckpoint load_hf_checkpoint(const std::filesystem::path& dir) {
  HfCheckpoint result;
  result.config = load_hf_config(dir);
  result.weights = weights_from_hf(result.config, open_safetensors_checkpoint(dir));
  return result;
}

}  // namespace xpusim::model
