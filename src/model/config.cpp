#include "model/config.h"
#include "core/enum_table.h"

#include <cmath>

#include "core/error.h"
#include "model/tensor_specs.h"

namespace xpusim::model {

constexpr EnumName<Family> kFamilyNames[] = {{Family::GPT2, "gpt2"},           {Family::LLAMA, "llama"},
                                             {Family::QWEN3, "qwen3"},         {Family::GEMMA3, "gemma3"},
                                             {Family::QWEN3_MOE, "qwen3_moe"}, {Family::MIXTRAL, "mixtral"}};

const char* family_name(Family family) { return enum_name(kFamilyNames, family, "unknown").data(); }

std::optional<Family> family_from_name(const std::string& name) { return enum_from_name(kFamilyNames, name); }

double ModelConfig::effective_attn_scale() const {
  if (attn_scale != 0.0) return attn_scale;
  return 1.0 / std::sqrt(static_cast<double>(head_dim));
}

namespace {

// Summed from the tensor table: one layer's worth times n_layers (all layers have the same shapes).
struct ParamSums {
  int64_t dense = 0;    // everything but expert weights
  int64_t experts = 0;  // all experts of all layers
};

ParamSums param_sums(const ModelConfig& config) {
  ParamSums sums;
  for (const TensorSpec& spec : non_layer_tensor_specs(config)) sums.dense += spec.elements();
  if (config.n_layers <= 0) return sums;
  for (const TensorSpec& spec : layer_tensor_specs(config, 0)) {
    (spec.is_expert ? sums.experts : sums.dense) += spec.elements() * config.n_layers;
  }
  return sums;
}

}  // namespace

int64_t ModelConfig::param_count() const {
  const ParamSums sums = param_sums(*this);
  return sums.dense + sums.experts;
}

int64_t ModelConfig::active_param_count() const {
  const ParamSums sums = param_sums(*this);
  if (n_experts == 0) return sums.dense;
  return sums.dense + sums.experts / n_experts * n_experts_used;  // every expert has the same size
}

int64_t ModelConfig::kv_bytes_per_token(int bytes_per_element) const {
  return 2 * n_layers * n_kv_heads * head_dim * bytes_per_element;
}

namespace {

// Limits far above any real model, low enough that products of them stay well inside int64.
constexpr int64_t kMaxVocab = 10'000'000;
constexpr int64_t kMaxWidth = 1 << 20;  // hidden, ffn, head_dim, heads
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxPositions = int64_t{1} << 28;
constexpr int64_t kMaxExperts = 4096;

void check_range(const std::string& origin, const char* field, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) fail("{}: {} is {}, expected {}..{}", origin, field, value, low, high);
}

}  // namespace

void ModelConfig::validate(const std::string& origin) const {
  check_range(origin, "vocab_size", vocab_size, 1, kMaxVocab);
  check_range(origin, "hidden", hidden, 1, kMaxWidth);
  check_range(origin, "n_layers", n_layers, 1, kMaxLayers);
  check_range(origin, "n_heads", n_heads, 1, kMaxWidth);
  check_range(origin, "n_kv_heads", n_kv_heads, 1, n_heads);
  if (n_heads % n_kv_heads != 0)
    fail("{}: n_kv_heads ({}) does not divide n_heads ({})", origin, n_kv_heads, n_heads);
  check_range(origin, "head_dim", head_dim, 1, kMaxWidth);
  if (rope.enabled && head_dim % 2 != 0) fail("{}: head_dim ({}) must be even for RoPE", origin, head_dim);
  check_range(origin, "max_positions", max_positions, 1, kMaxPositions);
  if (!(norm_eps > 0.0 && norm_eps < 1.0))
    fail("{}: norm_eps is {}, expected a small positive number", origin, norm_eps);
  if (!(std::isfinite(attn_scale) && attn_scale >= 0.0)) fail("{}: attn_scale is {}", origin, attn_scale);
  if (!(std::isfinite(embed_scale) && embed_scale > 0.0)) fail("{}: embed_scale is {}", origin, embed_scale);
  if (!(attn_softcap >= 0.0) || !(final_softcap >= 0.0)) fail("{}: soft-caps must be >= 0", origin);
  if (rope.enabled) {
    if (!(rope.theta > 0.0 && std::isfinite(rope.theta))) fail("{}: rope theta is {}", origin, rope.theta);
    if (!(rope.theta_local >= 0.0 && std::isfinite(rope.theta_local))) {
      fail("{}: local rope theta is {}", origin, rope.theta_local);
    }
    if (rope.scaling != RopeScaling::NONE && !(rope.factor > 0.0 && std::isfinite(rope.factor))) {
      fail("{}: rope scaling factor is {}", origin, rope.factor);
    }
    if (rope.scaling == RopeScaling::LLAMA3) {
      if (!(rope.low_freq_factor > 0.0 && rope.high_freq_factor > rope.low_freq_factor)) {
        fail("{}: llama3 rope needs 0 < low_freq_factor ({}) < high_freq_factor ({})", origin,
             rope.low_freq_factor, rope.high_freq_factor);
      }
      check_range(origin, "rope original_max_positions", rope.original_max_positions, 1, kMaxPositions);
    }
  } else if (!learned_positions) {
    fail("{}: model has neither RoPE nor learned positions", origin);
  }
  check_range(origin, "sliding_window", sliding_window, 0, kMaxPositions);
  if (!layer_is_local.empty() && static_cast<int64_t>(layer_is_local.size()) != n_layers) {
    fail("{}: {} layer types for {} layers", origin, layer_is_local.size(), n_layers);
  }
  if (is_moe()) {
    check_range(origin, "n_experts", n_experts, 1, kMaxExperts);
    check_range(origin, "n_experts_used", n_experts_used, 1, n_experts);
    check_range(origin, "expert_ffn_hidden", expert_ffn_hidden, 1, kMaxWidth);
  } else {
    check_range(origin, "ffn_hidden", ffn_hidden, 1, kMaxWidth);
  }
  if (bos_token_id != -1) check_range(origin, "bos_token_id", bos_token_id, 0, vocab_size - 1);
  for (int64_t eos : eos_token_ids) check_range(origin, "eos_token_id", eos, 0, vocab_size - 1);
}

}  // namespace xpusim::model
