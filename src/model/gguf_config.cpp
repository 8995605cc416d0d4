#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"
#include "model/gguf_model.h"
#include "numerics/decode.h"

namespace xpusim::model {
namespace {

constexpr int64_t kMaxVocab = 10'000'000;
constexpr int64_t kMaxWidth = 1 << 20;
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxPositions = int64_t{1} << 28;
constexpr int64_t kMaxExperts = 4096;

class ArchKeys {
 public:
  ArchKeys(const GgufFile& file, std::string arch) : m_file(file), m_arch(std::move(arch)) {}

  std::string key(std::string_view suffix) const { return m_arch + "." + std::string(suffix); }
  bool has(std::string_view suffix) const { return m_file.find(key(suffix)) != nullptr; }
  int64_t dim(std::string_view suffix, int64_t max) const {
    const std::string name = key(suffix);
    const GgufValue* value = m_file.find(name);
    if (value && value->type == GgufType::ARRAY) {
      fail("{}: metadata '{}' is a per-layer array; only uniform layers are supported", m_file.source(),
           name);
    }
    const int64_t result = m_file.get_int(name);
    if (result < 1 || result > max)
      fail("{}: metadata '{}' is {}, expected 1..{}", m_file.source(), name, result, max);
    return result;
  }
  int64_t dim_or(std::string_view suffix, int64_t max, int64_t fallback) const {
    return has(suffix) ? dim(suffix, max) : fallback;
  }
  double number_or(std::string_view suffix, double fallback) const {
    return m_file.find_float(key(suffix)).value_or(fallback);
  }

 private:
  const GgufFile& m_file;
  std::string m_arch;
};

// llama3 rope scaling is written as rope_freqs.weight (a per-frequency divisor), not as parameters. Rebuild
// the parameters (scaling keys when present, else Llama 3 defaults, factor = the largest divisor) and check
// that they reproduce the stored divisors, so an unexpected variant fails loudly instead of running with
// wrong positions.
void rope_from_freqs_tensor(const GgufFile& file, const ArchKeys& keys, const GgufTensorInfo& freqs,
                            ModelConfig& c) {
  const int64_t half = c.head_dim / 2;
  if (freqs.ne.size() != 1 || freqs.ne[0] != half || !dtype_info(freqs.dtype).is_float) {
    fail("{}: tensor 'rope_freqs.weight' must be {} floats (head_dim / 2)", file.source(), half);
  }
  std::vector<float> divisors(static_cast<size_t>(half));
  numerics::decode_to_f32(freqs.dtype, freqs.data, divisors.data(), divisors.size());
  RopeConfig& rope = c.rope;
  rope.scaling = RopeScaling::LLAMA3;
  rope.factor = keys.number_or("rope.scaling.factor", divisors.back());
  rope.low_freq_factor = keys.number_or("rope.scaling.low_freq_factor", 1.0);
  rope.high_freq_factor = keys.number_or("rope.scaling.high_freq_factor", 4.0);
  rope.original_max_positions = keys.dim_or("rope.scaling.original_context_length", kMaxPositions, 8192);
  if (!(rope.factor > 0.0) || !(rope.high_freq_factor > rope.low_freq_factor) ||
      !(rope.low_freq_factor > 0.0)) {
    fail("{}: llama3 rope scaling parameters are invalid (factor {})", file.source(), rope.factor);
  }
  const double low_wavelen = static_cast<double>(rope.original_max_positions) / rope.low_freq_factor;
  const double high_wavelen = static_cast<double>(rope.original_max_positions) / rope.high_freq_factor;
  for (int64_t i = 0; i < half; ++i) {
    const double freq = std::pow(rope.theta, -2.0 * static_cast<double>(i) / static_cast<double>(c.head_dim));
    const double wavelen = 2.0 * std::numbers::pi / freq;
    double divisor = 1.0;
    if (wavelen > low_wavelen) {
      divisor = rope.factor;
    } else if (wavelen >= high_wavelen) {
      const double smooth =
          (static_cast<double>(rope.original_max_positions) / wavelen - rope.low_freq_factor) /
          (rope.high_freq_factor - rope.low_freq_factor);
      divisor = 1.0 / ((1.0 - smooth) / rope.factor + smooth);
    }
    const double stored = divisors[static_cast<size_t>(i)];
    if (!(std::fabs(stored - divisor) <= 1e-3 * divisor)) {
      fail(
          "{}: rope_freqs.weight[{}] is {}, but llama3 scaling (factor {}, low {}, high {}, original {}) "
          "gives {}",
          file.source(), i, stored, rope.factor, rope.low_freq_factor, rope.high_freq_factor,
          rope.original_max_positions, divisor);
    }
  }
}

void read_rope_scaling_keys(const GgufFile& file, const ArchKeys& keys, RopeConfig& rope) {
  const auto type = file.find_string(keys.key("rope.scaling.type"));
  if (!type || *type == "none") return;
  if (*type != "linear") {
    fail("{}: metadata '{}' is '{}', only linear (or llama3 via rope_freqs.weight) is supported",
         file.source(), keys.key("rope.scaling.type"), *type);
  }
  rope.scaling = RopeScaling::LINEAR;
  rope.factor = file.get_float(keys.key("rope.scaling.factor"));
}

}  // namespace

ModelConfig config_from_gguf(const GgufFile& file) {
  const std::string arch = file.get_string("general.architecture");
  if (arch != "gpt2" && arch != "llama" && arch != "qwen3" && arch != "qwen3moe" && arch != "gemma3") {
    fail(
        "{}: general.architecture is '{}', not a supported architecture (gpt2, llama, qwen3, qwen3moe, "
        "gemma3)",
        file.source(), arch);
  }
  const ArchKeys keys(file, arch);
  ModelConfig c;
  c.name = file.find_string("general.name").value_or(arch);
  c.hidden = keys.dim("embedding_length", kMaxWidth);
  c.n_layers = keys.dim("block_count", kMaxLayers);
  c.n_heads = keys.dim("attention.head_count", kMaxWidth);
  c.n_kv_heads = keys.dim_or("attention.head_count_kv", kMaxWidth, c.n_heads);
  if (c.n_heads % c.n_kv_heads != 0) {
    fail("{}: {} ({}) is not a multiple of {} ({})", file.source(), keys.key("attention.head_count"),
         c.n_heads, keys.key("attention.head_count_kv"), c.n_kv_heads);
  }
  if (keys.has("attention.key_length")) {
    c.head_dim = keys.dim("attention.key_length", kMaxWidth);
    if (keys.dim_or("attention.value_length", kMaxWidth, c.head_dim) != c.head_dim) {
      fail("{}: key_length and value_length differ, which is not supported", file.source());
    }
  } else {
    if (c.hidden % c.n_heads != 0) {
      fail("{}: {} ({}) is not divisible by {} ({})", file.source(), keys.key("embedding_length"), c.hidden,
           keys.key("attention.head_count"), c.n_heads);
    }
    c.head_dim = c.hidden / c.n_heads;
  }
  c.max_positions = keys.dim("context_length", kMaxPositions);
  // Vocabulary: the embedding's rows are what the weights hold (Gemma files drop padding rows).
  if (const GgufTensorInfo* embedding = file.find_tensor("token_embd.weight");
      embedding && embedding->ne.size() == 2) {
    c.vocab_size = embedding->ne[1];
  } else {
    c.vocab_size = keys.dim("vocab_size", kMaxVocab);
  }
  c.tied_embeddings = file.find_tensor("output.weight") == nullptr;
  c.rope.theta = keys.number_or("rope.freq_base", 10000.0);
  c.norm_eps = keys.number_or("attention.layer_norm_rms_epsilon", 1e-6);
  const int64_t n_experts = keys.dim_or("expert_count", kMaxExperts, 0);

  if (arch == "gpt2") {
    c.family = Family::GPT2;
    c.ffn_hidden = keys.dim("feed_forward_length", kMaxWidth);
    c.norm = NormKind::LAYER_NORM;
    c.norm_eps = keys.number_or("attention.layer_norm_epsilon", 1e-5);
    c.activation = Activation::GELU_TANH;
    c.gated_mlp = false;
    c.attn_bias = c.mlp_bias = true;
    c.learned_positions = true;
    c.rope.enabled = false;
  } else if (arch == "llama") {
    c.family = n_experts > 0 ? Family::MIXTRAL : Family::LLAMA;
    if (n_experts > 0) {
      c.n_experts = n_experts;
      c.n_experts_used = keys.dim("expert_used_count", n_experts);
      c.expert_ffn_hidden =
          keys.dim_or("expert_feed_forward_length", kMaxWidth, keys.dim("feed_forward_length", kMaxWidth));
      c.norm_topk_prob = true;
    } else {
      c.ffn_hidden = keys.dim("feed_forward_length", kMaxWidth);
    }
    read_rope_scaling_keys(file, keys, c.rope);
    if (const GgufTensorInfo* freqs = file.find_tensor("rope_freqs.weight"))
      rope_from_freqs_tensor(file, keys, *freqs, c);
  } else if (arch == "qwen3") {
    c.family = Family::QWEN3;
    c.ffn_hidden = keys.dim("feed_forward_length", kMaxWidth);
    c.qk_norm = true;
    read_rope_scaling_keys(file, keys, c.rope);
  } else if (arch == "qwen3moe") {
    c.family = Family::QWEN3_MOE;
    c.qk_norm = true;
    c.n_experts = keys.dim("expert_count", kMaxExperts);
    c.n_experts_used = keys.dim("expert_used_count", c.n_experts);
    c.expert_ffn_hidden = keys.dim("expert_feed_forward_length", kMaxWidth);
    c.norm_topk_prob = file.find_bool(keys.key("expert_weights_norm")).value_or(true);
    read_rope_scaling_keys(file, keys, c.rope);
  } else {  // gemma3
    c.family = Family::GEMMA3;
    c.ffn_hidden = keys.dim("feed_forward_length", kMaxWidth);
    c.norm = NormKind::RMS_NORM_PLUS_ONE;
    c.activation = Activation::GELU_TANH;
    c.qk_norm = true;
    c.embed_scale = std::sqrt(static_cast<double>(c.hidden));
    // llama.cpp: 1/sqrt(head_dim), except Gemma 3 27B whose query_pre_attn_scalar is hidden / heads.
    const bool is_27b = c.n_layers == 62 && c.hidden == 5376;
    c.attn_scale = 1.0 / std::sqrt(static_cast<double>(is_27b ? c.hidden / c.n_heads : c.head_dim));
    c.sliding_window = keys.dim_or("attention.sliding_window", kMaxPositions, 512);
    c.rope.theta_local = keys.number_or("rope.freq_base_swa", 10000.0);
    c.attn_softcap = keys.number_or("attn_logit_softcapping", 0.0);
    c.final_softcap = keys.number_or("final_logit_softcapping", 0.0);
    for (int64_t i = 0; i < c.n_layers; ++i) c.layer_is_local.push_back((i + 1) % 6 != 0);
    read_rope_scaling_keys(file, keys, c.rope);
  }

  if (auto bos = file.find_int("tokenizer.ggml.bos_token_id"); bos && *bos >= 0 && *bos < c.vocab_size) {
    c.bos_token_id = *bos;
  }
  for (const char* key :
       {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
    auto id = file.find_int(key);
    if (id && *id >= 0 && *id < c.vocab_size &&
        std::find(c.eos_token_ids.begin(), c.eos_token_ids.end(), *id) == c.eos_token_ids.end()) {
      c.eos_token_ids.push_back(*id);
    }
  }
  c.validate(file.source());
  return c;
}

GgufTokenizerData tokenizer_from_gguf(const GgufFile& file) {
  GgufTokenizerData data;
  data.source = file.source();
  data.model = file.find_string("tokenizer.ggml.model").value_or("");
  data.pre = file.find_string("tokenizer.ggml.pre").value_or("");
  if (file.find("tokenizer.ggml.tokens")) data.tokens = file.get_string_array("tokenizer.ggml.tokens");
  if (file.find("tokenizer.ggml.scores")) data.scores = file.get_float_array("tokenizer.ggml.scores");
  if (file.find("tokenizer.ggml.token_type")) {
    for (int64_t type : file.get_int_array("tokenizer.ggml.token_type")) {
      if (type < INT32_MIN || type > INT32_MAX)
        fail("{}: tokenizer.ggml.token_type has value {}", file.source(), type);
      data.token_types.push_back(static_cast<int32_t>(type));
    }
  }
  if (file.find("tokenizer.ggml.merges")) data.merges = file.get_string_array("tokenizer.ggml.merges");
  const auto n_tokens = static_cast<int64_t>(data.tokens.size());
  if (!data.scores.empty() && static_cast<int64_t>(data.scores.size()) != n_tokens) {
    fail("{}: tokenizer.ggml.scores has {} entries for {} tokens", file.source(), data.scores.size(),
         n_tokens);
  }
  if (!data.token_types.empty() && static_cast<int64_t>(data.token_types.size()) != n_tokens) {
    fail("{}: tokenizer.ggml.token_type has {} entries for {} tokens", file.source(), data.token_types.size(),
         n_tokens);
  }
  auto special = [&](const char* key) -> int64_t {
    auto id = file.find_int(key);
    if (!id) return -1;
    if (*id < 0 || *id >= n_tokens)
      fail("{}: {} is {}, outside the {} tokens", file.source(), key, *id, n_tokens);
    return *id;
  };
  data.bos_token_id = special("tokenizer.ggml.bos_token_id");
  data.eos_token_id = special("tokenizer.ggml.eos_token_id");
  data.unknown_token_id = special("tokenizer.ggml.unknown_token_id");
  data.padding_token_id = special("tokenizer.ggml.padding_token_id");
  data.add_bos_token = file.find_bool("tokenizer.ggml.add_bos_token").value_or(false);
  data.add_space_prefix = file.find_bool("tokenizer.ggml.add_space_prefix").value_or(false);
  data.chat_template = file.find_string("tokenizer.chat_template").value_or("");
  return data;
}

}  // namespace xpusim::model
