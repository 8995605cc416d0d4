#include "model/hf_config.h"

#include <cmath>
#include <fstream>

#include "core/error.h"
#include "model/json_reader.h"

namespace xpusim::model {
namespace {

using nlohmann::json;

constexpr int64_t kMaxVocab = 10'000'000;
constexpr int64_t kMaxWidth = 1 << 20;
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxPositions = int64_t{1} << 28;
constexpr int64_t kMaxExperts = 4096;

// A required positive integer field, range-checked against an absurdity limit.
int64_t get_dim(const json& j, std::string_view key, const std::string& src, int64_t max) {
  const int64_t value = get_int(j, key, src);
  if (value < 1 || value > max) fail("{}: field '{}' is {}, expected 1..{}", src, key, value, max);
  return value;
}

// Optional positive integer field with a default.
int64_t find_dim(const json& j, std::string_view key, const std::string& src, int64_t max, int64_t fallback) {
  if (!find_int(j, key, src)) return fallback;
  return get_dim(j, key, src, max);
}

Activation parse_activation(const json& j, std::string_view key, const std::string& src,
                            std::string_view fallback) {
  const std::string name = find_string(j, key, src).value_or(std::string(fallback));
  if (name == "silu" || name == "swish") return Activation::SILU;
  // gelu_new and gelu_pytorch_tanh are the same tanh approximation.
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::GELU_TANH;
  if (name == "gelu") return Activation::GELU_ERF;
  if (name == "relu") return Activation::RELU;
  fail("{}: field '{}' is '{}', expected silu, gelu_new, gelu_pytorch_tanh, gelu or relu", src, key, name);
}

// Reads a rope_type + parameters object (transformers 4.x `rope_scaling`, 5.x `rope_parameters`).
void parse_rope_scaling(const json& scaling, const std::string& src, RopeConfig& rope) {
  if (scaling.is_null()) return;
  if (!scaling.is_object()) fail("{}: must be an object or null", src);
  auto type = find_string(scaling, "rope_type", src);
  if (!type) type = find_string(scaling, "type", src);
  const std::string name = type.value_or("default");
  if (name == "default") {
    rope.scaling = RopeScaling::NONE;
  } else if (name == "linear") {
    rope.scaling = RopeScaling::LINEAR;
    rope.factor = get_double(scaling, "factor", src);
  } else if (name == "llama3") {
    rope.scaling = RopeScaling::LLAMA3;
    rope.factor = get_double(scaling, "factor", src);
    rope.low_freq_factor = get_double(scaling, "low_freq_factor", src);
    rope.high_freq_factor = get_double(scaling, "high_freq_factor", src);
    rope.original_max_positions = get_dim(scaling, "original_max_position_embeddings", src, kMaxPositions);
  } else {
    fail("{}: rope type '{}' is not supported (default, linear, llama3)", src, name);
  }
  if (rope.scaling != RopeScaling::NONE && !(rope.factor > 0.0 && std::isfinite(rope.factor))) {
    fail("{}: field 'factor' is {}, expected > 0", src, rope.factor);
  }
}

// theta + scaling for one-base families. 5.x: rope_parameters {rope_theta, rope_type, ...}; 4.x: rope_theta
// and rope_scaling at top level.
void parse_rope(const json& j, const std::string& src, double default_theta, RopeConfig& rope) {
  auto params = j.find("rope_parameters");
  if (params != j.end() && params->is_object()) {
    rope.theta = find_double(*params, "rope_theta", src + " (rope_parameters)")
                     .value_or(find_double(j, "rope_theta", src).value_or(default_theta));
    parse_rope_scaling(*params, src + " (rope_parameters)", rope);
    return;
  }
  rope.theta = find_double(j, "rope_theta", src).value_or(default_theta);
  auto scaling = j.find("rope_scaling");
  if (scaling != j.end()) parse_rope_scaling(*scaling, src + " (rope_scaling)", rope);
}

void read_special_ids(const json& j, const std::string& src, ModelConfig& config) {
  if (auto bos = find_int(j, "bos_token_id", src)) config.bos_token_id = *bos;
  auto eos = j.find("eos_token_id");
  if (eos == j.end() || eos->is_null()) return;
  config.eos_token_ids.clear();
  if (eos->is_array()) {
    for (const json& id : *eos) {
      if (!id.is_number_integer())
        fail("{}: field 'eos_token_id' has a non-integer entry {}", src, id.dump());
      config.eos_token_ids.push_back(id.get<int64_t>());
    }
  } else {
    config.eos_token_ids.push_back(get_int(j, "eos_token_id", src));
  }
}

// Fields shared by the Llama-style decoders (llama, qwen3, gemma3, qwen3_moe, mixtral).
void parse_decoder(const json& j, const std::string& src, ModelConfig& c) {
  c.vocab_size = get_dim(j, "vocab_size", src, kMaxVocab);
  c.hidden = get_dim(j, "hidden_size", src, kMaxWidth);
  c.n_layers = get_dim(j, "num_hidden_layers", src, kMaxLayers);
  c.n_heads = get_dim(j, "num_attention_heads", src, kMaxWidth);
  c.n_kv_heads = find_dim(j, "num_key_value_heads", src, kMaxWidth, c.n_heads);
  if (c.n_heads % c.n_kv_heads != 0) {
    fail("{}: field 'num_attention_heads' ({}) is not a multiple of 'num_key_value_heads' ({})", src,
         c.n_heads, c.n_kv_heads);
  }
  if (find_int(j, "head_dim", src)) {
    c.head_dim = get_dim(j, "head_dim", src, kMaxWidth);
  } else {
    if (c.hidden % c.n_heads != 0) {
      fail(
          "{}: field 'hidden_size' ({}) is not divisible by 'num_attention_heads' ({}) and no 'head_dim' is "
          "given",
          src, c.hidden, c.n_heads);
    }
    c.head_dim = c.hidden / c.n_heads;
  }
  if (c.head_dim % 2 != 0) fail("{}: head dim {} is odd, RoPE needs it even", src, c.head_dim);
  c.max_positions = get_dim(j, "max_position_embeddings", src, kMaxPositions);
  c.norm_eps = find_double(j, "rms_norm_eps", src).value_or(1e-6);
  c.norm = NormKind::RMS_NORM;
  c.activation = parse_activation(j, "hidden_act", src, "silu");
  c.gated_mlp = true;
  c.attn_bias = find_bool(j, "attention_bias", src).value_or(false);
  c.mlp_bias = find_bool(j, "mlp_bias", src).value_or(false);
  c.tied_embeddings = find_bool(j, "tie_word_embeddings", src).value_or(false);
  read_special_ids(j, src, c);
}

void parse_gpt2(const json& j, const std::string& src, ModelConfig& c) {
  c.family = Family::GPT2;
  c.vocab_size = get_dim(j, "vocab_size", src, kMaxVocab);
  c.hidden = get_dim(j, "n_embd", src, kMaxWidth);
  c.n_layers = get_dim(j, "n_layer", src, kMaxLayers);
  c.n_heads = get_dim(j, "n_head", src, kMaxWidth);
  if (c.hidden % c.n_heads != 0) {
    fail("{}: field 'n_embd' ({}) is not divisible by 'n_head' ({})", src, c.hidden, c.n_heads);
  }
  c.n_kv_heads = c.n_heads;
  c.head_dim = c.hidden / c.n_heads;
  c.ffn_hidden = find_dim(j, "n_inner", src, kMaxWidth, 4 * c.hidden);
  c.max_positions = find_int(j, "n_positions", src) ? get_dim(j, "n_positions", src, kMaxPositions)
                                                    : get_dim(j, "n_ctx", src, kMaxPositions);
  c.norm_eps = find_double(j, "layer_norm_epsilon", src).value_or(1e-5);
  c.norm = NormKind::LAYER_NORM;
  c.activation = parse_activation(j, "activation_function", src, "gelu_new");
  c.gated_mlp = false;
  c.attn_bias = c.mlp_bias = true;
  c.qk_norm = false;
  c.learned_positions = true;
  c.rope.enabled = false;
  c.tied_embeddings = find_bool(j, "tie_word_embeddings", src).value_or(true);
  if (find_bool(j, "scale_attn_by_inverse_layer_idx", src).value_or(false) ||
      find_bool(j, "reorder_and_upcast_attn", src).value_or(false)) {
    fail("{}: scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported", src);
  }
  if (!find_bool(j, "scale_attn_weights", src).value_or(true)) c.attn_scale = 1.0;
  read_special_ids(j, src, c);
}

void parse_llama(const json& j, const std::string& src, ModelConfig& c) {
  c.family = Family::LLAMA;
  parse_decoder(j, src, c);
  c.ffn_hidden = get_dim(j, "intermediate_size", src, kMaxWidth);
  c.norm_eps = find_double(j, "rms_norm_eps", src).value_or(1e-6);
  parse_rope(j, src, 10000.0, c.rope);
}

void reject_qwen_sliding_window(const json& j, const std::string& src) {
  if (find_bool(j, "use_sliding_window", src).value_or(false)) {
    fail("{}: field 'use_sliding_window' is true, which is not supported", src);
  }
}

void parse_qwen3(const json& j, const std::string& src, ModelConfig& c) {
  c.family = Family::QWEN3;
  parse_decoder(j, src, c);
  c.ffn_hidden = get_dim(j, "intermediate_size", src, kMaxWidth);
  c.qk_norm = true;
  reject_qwen_sliding_window(j, src);
  parse_rope(j, src, 10000.0, c.rope);
}

void parse_qwen3_moe(const json& j, const std::string& src, ModelConfig& c) {
  c.family = Family::QWEN3_MOE;
  parse_decoder(j, src, c);
  c.qk_norm = true;
  reject_qwen_sliding_window(j, src);
  // Hub configs say num_experts; transformers 5 writes num_local_experts.
  c.n_experts = find_int(j, "num_experts", src) ? get_dim(j, "num_experts", src, kMaxExperts)
                                                : get_dim(j, "num_local_experts", src, kMaxExperts);
  c.n_experts_used = get_dim(j, "num_experts_per_tok", src, c.n_experts);
  c.expert_ffn_hidden = get_dim(j, "moe_intermediate_size", src, kMaxWidth);
  c.ffn_hidden = 0;  // intermediate_size is unused when every layer is MoE
  c.norm_topk_prob = find_bool(j, "norm_topk_prob", src).value_or(false);
  if (find_dim(j, "decoder_sparse_step", src, kMaxLayers, 1) != 1) {
    fail("{}: field 'decoder_sparse_step' must be 1 (dense layers between MoE layers are not supported)",
         src);
  }
  auto dense_layers = j.find("mlp_only_layers");
  if (dense_layers != j.end() && !dense_layers->is_null() &&
      !(dense_layers->is_array() && dense_layers->empty())) {
    fail("{}: field 'mlp_only_layers' must be empty (dense layers in a MoE model are not supported)", src);
  }
  parse_rope(j, src, 10000.0, c.rope);
}

void parse_mixtral(const json& j, const std::string& src, ModelConfig& c) {
  c.family = Family::MIXTRAL;
  parse_decoder(j, src, c);
  c.norm_eps = find_double(j, "rms_norm_eps", src).value_or(1e-5);
  c.n_experts = get_dim(j, "num_local_experts", src, kMaxExperts);
  c.n_experts_used = get_dim(j, "num_experts_per_tok", src, c.n_experts);
  c.expert_ffn_hidden = get_dim(j, "intermediate_size", src, kMaxWidth);
  c.ffn_hidden = 0;
  c.norm_topk_prob = true;                   // Mixtral always renormalises its top-k weights
  if (find_int(j, "sliding_window", src)) {  // Mistral-style window on every layer (null for Mixtral v0.1)
    c.sliding_window = get_dim(j, "sliding_window", src, kMaxPositions);
    c.layer_is_local.assign(static_cast<size_t>(c.n_layers), true);
  }
  parse_rope(j, src, 1e6, c.rope);
}

// Gemma3TextConfig defaults, used only inside a multimodal gemma3 config's text_config (whose Hub copies omit
// fields that equal the class defaults). A top-level gemma3_text config must spell everything out.
const json& gemma3_text_defaults() {
  static const json defaults = {{"vocab_size", 262208},      {"hidden_size", 2304},
                                {"intermediate_size", 9216}, {"num_hidden_layers", 26},
                                {"num_attention_heads", 8},  {"num_key_value_heads", 4},
                                {"head_dim", 256},           {"max_position_embeddings", 131072},
                                {"rms_norm_eps", 1e-6},      {"query_pre_attn_scalar", 256},
                                {"sliding_window", 4096}};
  return defaults;
}

void parse_gemma3_text(const json& j, const std::string& src, ModelConfig& c) {
  c.family = Family::GEMMA3;
  parse_decoder(j, src, c);
  c.ffn_hidden = get_dim(j, "intermediate_size", src, kMaxWidth);
  c.norm = NormKind::RMS_NORM_PLUS_ONE;
  c.activation = parse_activation(j, "hidden_activation", src, "gelu_pytorch_tanh");
  c.qk_norm = true;
  c.tied_embeddings = find_bool(j, "tie_word_embeddings", src).value_or(true);
  c.embed_scale = std::sqrt(static_cast<double>(c.hidden));
  const double query_scalar = find_double(j, "query_pre_attn_scalar", src).value_or(256.0);
  if (!(query_scalar > 0.0)) fail("{}: field 'query_pre_attn_scalar' is {}, expected > 0", src, query_scalar);
  c.attn_scale = 1.0 / std::sqrt(query_scalar);
  c.attn_softcap = find_double(j, "attn_logit_softcapping", src).value_or(0.0);
  c.final_softcap = find_double(j, "final_logit_softcapping", src).value_or(0.0);
  c.sliding_window = find_dim(j, "sliding_window", src, kMaxPositions, 4096);

  // Layer types: explicit list, else every `pattern`-th layer (1-based) is global.
  c.layer_is_local.clear();
  auto types = j.find("layer_types");
  if (types != j.end() && !types->is_null()) {
    if (!types->is_array() || static_cast<int64_t>(types->size()) != c.n_layers) {
      fail("{}: field 'layer_types' must list {} layer types", src, c.n_layers);
    }
    for (const json& type : *types) {
      if (type == "sliding_attention") {
        c.layer_is_local.push_back(true);
      } else if (type == "full_attention") {
        c.layer_is_local.push_back(false);
      } else {
        fail("{}: field 'layer_types' has {}, expected sliding_attention or full_attention", src,
             type.dump());
      }
    }
  } else {
    int64_t pattern = find_dim(j, "sliding_window_pattern", src, kMaxLayers, 0);
    if (pattern == 0) pattern = find_dim(j, "_sliding_window_pattern", src, kMaxLayers, 6);
    for (int64_t i = 0; i < c.n_layers; ++i) c.layer_is_local.push_back((i + 1) % pattern != 0);
  }

  // Bases: 5.x rope_parameters {full_attention: {...}, sliding_attention: {...}}; 4.x rope_theta (global),
  // rope_local_base_freq (local), rope_scaling (global layers only).
  auto params = j.find("rope_parameters");
  if (params != j.end() && params->is_object() && params->contains("full_attention")) {
    const json& global = (*params)["full_attention"];
    const std::string global_src = src + " (rope_parameters.full_attention)";
    c.rope.theta = find_double(global, "rope_theta", global_src).value_or(1e6);
    parse_rope_scaling(global, global_src, c.rope);
    auto local = params->find("sliding_attention");
    c.rope.theta_local = 10000.0;
    if (local != params->end() && local->is_object()) {
      c.rope.theta_local =
          find_double(*local, "rope_theta", src + " (rope_parameters.sliding_attention)").value_or(10000.0);
    }
  } else {
    parse_rope(j, src, 1e6, c.rope);
    c.rope.theta_local = find_double(j, "rope_local_base_freq", src).value_or(10000.0);
  }
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path.string());
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) fail("{}: cannot stat: {}", path.string(), error.message());
  if (size > (64u << 20)) fail("{}: {} bytes is too large for a config file", path.string(), size);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  return text;
}

}  // namespace

ModelConfig parse_hf_config(std::string_view config_text, const std::string& source,
                            std::string_view generation_text) {
  const json root = parse_json_strict(config_text, source);
  if (!root.is_object()) fail("{}: not a JSON object", source);
  const std::string model_type = get_string(root, "model_type", source);
  ModelConfig config;
  if (model_type == "gpt2") {
    parse_gpt2(root, source, config);
  } else if (model_type == "llama") {
    parse_llama(root, source, config);
  } else if (model_type == "qwen3") {
    parse_qwen3(root, source, config);
  } else if (model_type == "qwen3_moe") {
    parse_qwen3_moe(root, source, config);
  } else if (model_type == "mixtral") {
    parse_mixtral(root, source, config);
  } else if (model_type == "gemma3_text") {
    parse_gemma3_text(root, source, config);
  } else if (model_type == "gemma3") {
    auto text = root.find("text_config");
    if (text == root.end() || !text->is_object())
      fail("{}: model_type gemma3 needs an object 'text_config'", source);
    json merged = gemma3_text_defaults();
    merged.update(*text);
    if (!text->contains("bos_token_id")) merged["bos_token_id"] = root.value("bos_token_id", json());
    if (!text->contains("eos_token_id")) merged["eos_token_id"] = root.value("eos_token_id", json());
    parse_gemma3_text(merged, source + " (text_config)", config);
  } else {
    fail(
        "{}: field 'model_type' is '{}', not a supported architecture (gpt2, llama, qwen3, qwen3_moe, "
        "mixtral, "
        "gemma3_text, gemma3)",
        source, model_type);
  }
  config.name = find_string(root, "_name_or_path", source).value_or("");

  if (!generation_text.empty()) {
    const json generation = parse_json_strict(generation_text, source + " (generation_config.json)");
    if (generation.is_object()) read_special_ids(generation, source + " (generation_config.json)", config);
  }
  // transformers only warns about special ids outside the vocabulary (tiny test configs keep GPT-2's 50256);
  // such ids can never be produced, so they are dropped here.
  if (config.bos_token_id < 0 || config.bos_token_id >= config.vocab_size) config.bos_token_id = -1;
  std::erase_if(config.eos_token_ids, [&](int64_t id) { return id < 0 || id >= config.vocab_size; });
  config.validate(source);
  return config;
}

ModelConfig load_hf_config(const std::filesystem::path& path) {
  const std::filesystem::path config_path = std::filesystem::is_directory(path) ? path / "config.json" : path;
  const std::string text = read_text_file(config_path);
  const std::filesystem::path generation_path = config_path.parent_path() / "generation_config.json";
  std::string generation;
  if (std::filesystem::exists(generation_path)) generation = read_text_file(generation_path);
  ModelConfig config = parse_hf_config(text, config_path.string(), generation);
  if (config.name.empty())
    config.name = std::filesystem::absolute(config_path).parent_path().filename().string();
  return config;
}

}  // namespace xpusim::model
