// ModelConfig: everything that decides a transformer's shapes and arithmetic, for every supported family.
// Filled from an HF config.json, from GGUF metadata, or from a preset (models/*.toml).
// Exact meaning of each field: shared/reference/models.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xpusim::model {

enum class Family : uint8_t { GPT2, LLAMA, QWEN3, GEMMA3, QWEN3_MOE, MIXTRAL };

enum class NormKind : uint8_t {
  LAYER_NORM,        // GPT-2: (x-mean)/sqrt(var+eps)*g + b
  RMS_NORM,          // Llama/Qwen/Mixtral: x*rsqrt(mean(x^2)+eps)*w
  RMS_NORM_PLUS_ONE  // Gemma: x*rsqrt(mean(x^2)+eps)*(1+w)
};

enum class Activation : uint8_t { GELU_TANH, SILU, GELU_ERF, RELU };

enum class RopeScaling : uint8_t { NONE, LLAMA3, LINEAR };

struct RopeConfig {
  bool enabled = true;       // false for GPT-2 (learned positions)
  double theta = 10000.0;    // base for global layers
  double theta_local = 0.0;  // base for sliding-window layers (Gemma 3), 0 = same as theta
  RopeScaling scaling = RopeScaling::NONE;
  double factor = 1.0;                    // llama3 / linear
  double low_freq_factor = 1.0;           // llama3
  double high_freq_factor = 4.0;          // llama3
  int64_t original_max_positions = 8192;  // llama3
};

struct ModelConfig {
  std::string name;  // preset or checkpoint name
  Family family = Family::LLAMA;
  int64_t vocab_size = 0;
  int64_t hidden = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t ffn_hidden = 0;  // dense MLP width
  int64_t max_positions = 0;
  double norm_eps = 1e-5;
  NormKind norm = NormKind::RMS_NORM;
  Activation activation = Activation::SILU;
  bool gated_mlp = true;   // SwiGLU / GeGLU (false: GPT-2 fc -> act -> proj)
  bool attn_bias = false;  // biases on q/k/v/o (GPT-2)
  bool mlp_bias = false;
  bool qk_norm = false;  // per-head norm of q and k before RoPE (Qwen3, Gemma 3)
  bool tied_embeddings = true;
  bool learned_positions = false;  // GPT-2 wpe
  double attn_scale = 0.0;         // multiplier on q.k; 0 = 1/sqrt(head_dim)
  double embed_scale = 1.0;        // Gemma: sqrt(hidden), applied as bf16(sqrt(hidden))
  double attn_softcap = 0.0;       // 0 = off
  double final_softcap = 0.0;      // 0 = off
  RopeConfig rope;
  int64_t sliding_window = 0;        // 0 = none
  std::vector<bool> layer_is_local;  // per layer: sliding-window layer (Gemma 3), empty = all global
  // MoE
  int64_t n_experts = 0;  // 0 = dense
  int64_t n_experts_used = 0;
  int64_t expert_ffn_hidden = 0;
  bool norm_topk_prob = true;
  // Special tokens (from config / generation_config; tokenizer may add more)
  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;

  bool is_moe() const { return n_experts > 0; }
  double effective_attn_scale() const;
  int64_t param_count() const;         // exact, embedding stored once when tied
  int64_t active_param_count() const;  // per token (MoE: only used experts)
  int64_t kv_bytes_per_token(int bytes_per_element) const;
  // Throws xpusim::Error naming `origin` and the field when a value is missing or absurd.
  void validate(const std::string& origin) const;
};

const char* family_name(Family family);
// "gpt2", "llama", "qwen3", "gemma3", "qwen3_moe", "mixtral" (family_name spelling); nullopt if unknown.
std::optional<Family> family_from_name(const std::string& name);

}  // namespace xpusim::model
